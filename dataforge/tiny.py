"""Tiny local models for the demo, the tests and the benchmarks.

Nothing can be downloaded here, so dataforge builds what it needs: a
SentencePiece tokenizer trained on local text (with a ChatML chat template)
and a small Llama with random weights. Both load through the ordinary
`AutoTokenizer.from_pretrained` / `AutoModelForCausalLM.from_pretrained`, so
every code path a real model takes is exercised.

    >>> build_tiny_model("tiny-llama", texts)               # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
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


def _in_repo(root: str | Path) -> Path:
    """A relative root that is not in the current folder is looked up beside the package (the repo's
    sample_data/), so `python -m dataforge.tiny OUT` works from any folder."""
    root = Path(root)
    if root.is_absolute() or root.exists():
        return root
    beside = Path(__file__).resolve().parents[1] / root
    return beside if beside.exists() else root


def sample_texts(root: str | Path = "sample_data", limit: int = 5000) -> list[str]:
    """Every text field of the JSON/JSONL/TXT files under `root` (for training a tokenizer)."""
    out: list[str] = []
    root = _in_repo(root)
    for path in sorted(Path(root).rglob("*")):
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


def main(argv: list[str] | None = None) -> int:
    """`python -m dataforge.tiny OUT [TEXT_ROOT]`: build the tiny model (used by recipes/quickstart.yaml)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print("usage: python -m dataforge.tiny OUT_DIR [TEXT_ROOT=sample_data]")
        return 2
    out = Path(args[0])
    if (out / "config.json").exists():
        print(f"{out}: tiny model already there")
        return 0
    build_tiny_model(out, sample_texts(args[1] if len(args) > 1 else "sample_data"))
    print(f"{out}: tiny Llama and tokenizer written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
