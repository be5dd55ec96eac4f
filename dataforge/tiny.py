"""Tiny local models for the demo, the tests and the benchmarks, and the demo's toy task.

Nothing can be downloaded here, so dataforge builds what it needs: a
SentencePiece tokenizer trained on local text (with a ChatML chat template)
and a small Llama with random weights. Both load through the ordinary
`AutoTokenizer.from_pretrained` / `AutoModelForCausalLM.from_pretrained`, so
every code path a real model takes is exercised.

    >>> build_tiny_model("tiny-llama", texts)               # doctest: +SKIP

A random model knows nothing, so the demo teaches it something it can learn
in minutes on a CPU and that can be checked on cases it never saw: reversing
three words (`reverse_words_task`). Training and held-out cases never share
a set of words; `python -m dataforge.tiny --task DIR` writes both files.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Iterable

from dataforge.errors import require

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL = ["<|im_start|>", "<|im_end|>"]

# The demo's model: 128 wide, 4 layers, ~1.0M weights, random at the start. A real base model is
# ~1000x larger and pretrained; see recipes/quickstart.yaml for what changes with one.
DEMO_MODEL = {"hidden_size": 128, "layers": 4, "heads": 4, "vocab_size": 1500}
TOY_TASK_DIR = "reverse_words"  # under sample_data/; not tokenizer text for the tests (see sample_texts)

# Common English words, none an article (exact match drops articles), none repeated.
TOY_WORDS = """apple river stone cloud green table house water light music paper chair bread horse glass
winter silver garden window orange yellow purple forest mountain ocean island desert valley bridge castle
candle mirror pillow blanket basket bottle button carpet circle rabbit tiger eagle shark whale snake
spider turtle camel zebra monkey dragon planet rocket engine wheel hammer ladder pencil rubber cotton
leather marble copper iron gold coffee butter cheese honey lemon pepper sugar salt onion carrot potato
tomato cherry grape melon peach summer autumn spring morning evening night storm thunder rain snow
wind fire smoke shadow sunset village city market school library office kitchen garage tower temple
doctor farmer pilot sailor singer painter writer teacher baker hunter king queen knight giant wizard
small large quick slow bright dark quiet loud happy angry brave gentle heavy empty simple strange
north south east west""".split()
TOY_INSTRUCTION = "Reverse the order of these three words:"


def _in_repo(root: str | Path) -> Path:
    """A relative root that is not in the current folder is looked up beside the package (the repo's
    sample_data/), so `python -m dataforge.tiny OUT` works from any folder."""
    root = Path(root)
    if root.is_absolute() or root.exists():
        return root
    beside = Path(__file__).resolve().parents[1] / root
    return beside if beside.exists() else root


def sample_texts(root: str | Path = "sample_data", limit: int = 5000) -> list[str]:
    """Every text field of the JSON/JSONL/TXT files under `root` (for training a tokenizer).

    The toy-task folder is left out: the tests' tokenizer stays what it was before the task existed.
    """
    out: list[str] = []
    root = _in_repo(root)
    for path in sorted(Path(root).rglob("*")):
        if TOY_TASK_DIR in path.relative_to(root).parts:
            continue
        if path.suffix == ".txt":
            out.extend(line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
                       if line.strip())
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict):
                    out.extend(v for v in row.values() if isinstance(v, str) and v.strip())
        if len(out) >= limit:
            break
    return out[:limit]


def build_tiny_tokenizer(out_dir: str | Path, texts: Iterable[str], vocab_size: int = 1000,
                         chat_template: str | None = CHATML_TEMPLATE):
    """Train a byte-fallback BPE SentencePiece model on `texts`; save an HF tokenizer folder."""
    spm = require("sentencepiece", feature="building a tokenizer")
    transformers = require("transformers", feature="building a tokenizer")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = [t for t in texts if t.strip()]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=model, vocab_size=vocab_size, model_type="bpe",
        byte_fallback=True, character_coverage=0.9995, pad_id=0, unk_id=1, bos_id=2, eos_id=3,
        user_defined_symbols=SPECIAL, hard_vocab_limit=False, minloglevel=2,
        max_sentence_length=1 << 16,
    )
    (out_dir / "tokenizer.model").write_bytes(model.getvalue())
    tok = transformers.LlamaTokenizer.from_pretrained(str(out_dir), add_bos_token=True)
    tok.add_special_tokens({"additional_special_tokens": SPECIAL})
    tok.pad_token = "<pad>"
    if chat_template:
        tok.chat_template = chat_template
    tok.save_pretrained(str(out_dir))
    return transformers.AutoTokenizer.from_pretrained(str(out_dir))


def build_tiny_model(out_dir: str | Path, texts: Iterable[str] | None = None, *, hidden_size: int = 64,
                     layers: int = 2, heads: int = 4, vocab_size: int = 1000, seed: int = 0,
                     tokenizer_dir: str | Path | None = None) -> Path:
    """A small random-weight Llama plus its tokenizer, saved with save_pretrained into out_dir."""
    torch = require("torch", feature="building a tiny model")
    transformers = require("transformers", feature="building a tiny model")
    out_dir = Path(out_dir)
    if tokenizer_dir is not None:
        tok = transformers.AutoTokenizer.from_pretrained(str(tokenizer_dir))
        tok.save_pretrained(str(out_dir))
    else:
        tok = build_tiny_tokenizer(out_dir, texts if texts is not None else sample_texts(), vocab_size)
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=len(tok), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
        max_position_embeddings=512, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id, tie_word_embeddings=False,
    )
    model = transformers.LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(str(out_dir))
    return out_dir


def _toy_row(rid: str, words: list[str]) -> dict:
    return {"id": rid, "instruction": f"{TOY_INSTRUCTION} {' '.join(words)}", "context": "",
            "response": " ".join(reversed(words)), "category": "reverse_words"}


def reverse_words_task(n_train: int = 3000, n_heldout: int = 200, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(training rows, held-out rows) in the Dolly shape: reverse three distinct words.

    Every case is a new set of three words: no held-out case shares its words (in any order)
    with a training case or another held-out case, so the held-out score measures the skill
    (reversal), not memory. Deterministic for a seed.
    """
    import random

    rng = random.Random(seed)
    seen: set[frozenset] = set()
    wanted = n_train + n_heldout
    if wanted > 100_000:  # far below the ~460,000 word sets; keeps the rejection loop short
        raise ValueError("at most 100,000 cases")

    def draw() -> list[str]:
        while True:
            words = rng.sample(TOY_WORDS, 3)
            if frozenset(words) not in seen:
                seen.add(frozenset(words))
                return words

    heldout = [_toy_row(f"rev-heldout-{i + 1:03d}", draw()) for i in range(n_heldout)]
    train = [_toy_row(f"rev-train-{i + 1:04d}", draw()) for i in range(n_train)]
    return train, heldout


def write_toy_task(out_dir: str | Path, n_train: int = 3000, n_heldout: int = 200, seed: int = 0) -> tuple[Path, Path]:
    """Write OUT_DIR/train.jsonl and OUT_DIR/heldout.jsonl (see reverse_words_task)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train, heldout = reverse_words_task(n_train, n_heldout, seed)
    paths = (out_dir / "train.jsonl", out_dir / "heldout.jsonl")
    for path, rows in zip(paths, (train, heldout)):
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return paths


def build_demo_model(out_dir: str | Path, root: str | Path = "sample_data", seed: int = 0) -> Path:
    """The demo's random 128x4 Llama; its tokenizer learns the sample data and the toy task's training text.

    With 1,500 pieces most toy words are one token, as common words are in a real model's vocabulary.
    """
    out_dir = Path(out_dir)
    train = Path(root) / TOY_TASK_DIR / "train.jsonl"
    texts = sample_texts(root)
    if train.is_file():
        for line in train.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [row["instruction"], row["response"]]
    build_tiny_tokenizer(out_dir, texts, DEMO_MODEL["vocab_size"])
    return build_tiny_model(out_dir, tokenizer_dir=out_dir, seed=seed,
                            **{k: v for k, v in DEMO_MODEL.items() if k != "vocab_size"})


def _toy_word_sets(path) -> list[frozenset]:
    """The word sets of toy-task rows in any shape dataforge reads (the words after the instruction)."""
    from dataforge.io import read_dataset
    from dataforge.records import prompt_text

    return [frozenset(prompt_text(r).rsplit(":", 1)[-1].split()) for r in read_dataset([str(path)])]


def demo_summary(workdir: str | Path) -> list[str]:
    """What the quickstart's before/after table means, with its numbers and a fresh overlap check."""
    from dataforge.eval.models import model_shapes, read_json

    workdir = Path(workdir)
    ev = read_json(workdir / "eval" / "eval.json")
    scores = {v["kind"]: v["scores"] for v in ev["variants"]}
    tuned = next(v for v in ev["variants"] if v["kind"] != "base")
    record = read_json(Path(tuned["path"]) / "dataforge_train.json")
    base_dir = Path(record["base_model"]["path"])
    cfg = read_json(base_dir / "config.json")
    weights = sum(math.prod(s) for s in (model_shapes(base_dir) or {}).values())
    heldout = _toy_word_sets(ev["data"][0])
    trained = set().union(*(_toy_word_sets(p) for p in record["data"]["paths"]))
    shared = sum(1 for s in heldout if s in trained)
    em = {k: f"{scores[k].get('exact_match', 0):.3f}" for k in ("base", tuned["kind"])}
    steps, rows, secs = record["result"]["global_step"], record["data"]["counts"]["train"], record["seconds"]
    return [
        "What the table shows",
        f"  base: the model as built: a Llama with {cfg['num_hidden_layers']} layers, {cfg['hidden_size']} wide, "
        f"{weights / 1e6:.1f}M weights, all random.",
        f"  Exact match {em['base']}.",
        f"  {tuned['name']}: the same model after {steps} steps training every weight (backend {record['backend']})",
        f"  on {rows:,} cases ({secs:.0f} s here). Exact match {em[tuned['kind']]}.",
        f"  Both on {len(heldout)} held-out cases; checked just now: {shared} of them share their set of words",
        "  with a training case. The gain is the skill (reversing three words), not remembered answers.",
        "  A model this small learns one narrow, made-up skill from scratch; it cannot answer open questions,",
        "  and its numbers say nothing about real data. For real work: a pretrained base model (1B+ weights,",
        "  downloaded), backend lora or qlora (learning rate ~2e-4, 1-3 epochs), your own instruction data in",
        "  the same recipe, and a GPU (a CPU takes hours). The stages and this before/after table stay the same.",
    ]


USAGE = """usage: python -m dataforge.tiny OUT_DIR [TEXT_ROOT=sample_data]   the demo's tiny model
       python -m dataforge.tiny --task OUT_DIR                         the toy task's two files
       python -m dataforge.tiny --summary WORKDIR                      what the quickstart's table shows"""


def main(argv: list[str] | None = None) -> int:
    """`python -m dataforge.tiny OUT [TEXT_ROOT]`: build the demo model (used by recipes/quickstart.yaml)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help") or (args[0] in ("--task", "--summary") and len(args) != 2):
        print(USAGE)
        return 2
    if args[0] == "--task":
        train, heldout = write_toy_task(args[1])
        print(f"{train}, {heldout}: toy task written")
        return 0
    if args[0] == "--summary":
        print("\n".join(demo_summary(args[1])))
        return 0
    out = Path(args[0])
    w = DEMO_MODEL
    if (out / "config.json").exists():
        cfg = json.loads((out / "config.json").read_text(encoding="utf-8"))
        if (cfg.get("hidden_size"), cfg.get("num_hidden_layers")) != (w["hidden_size"], w["layers"]):
            print(f"{out} holds another model ({cfg.get('num_hidden_layers')} layers, {cfg.get('hidden_size')} "
                  f"wide), not the demo's; remove it (make clean) and run again", file=sys.stderr)
            return 1
        print(f"{out}: tiny model already there")
        return 0
    build_demo_model(out, args[1] if len(args) > 1 else "sample_data")
    print(f"{out}: random Llama ({w['layers']} layers, {w['hidden_size']} wide, vocabulary {w['vocab_size']}) "
          "and its tokenizer written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
