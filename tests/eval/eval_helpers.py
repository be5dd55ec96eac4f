"""Helpers for the eval tests: known question/answer rows, LoRA fitting with plain torch, a scripted judge.

`train_lora` takes its rows from the train library's own data preparation
(`prepare_data`: the same template, tokenization and prompt masking as
`dataforge train`), then a plain AdamW loop fits a LoRA adapter until greedy
decoding reproduces the answers.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

QA = [
    ("What is the capital of France?", "Paris"),
    ("What is the capital of Germany?", "Berlin"),
    ("What is the capital of Spain?", "Madrid"),
    ("What is the capital of Italy?", "Rome"),
]
FRENCH = [
    ("Quelle est la couleur du ciel par une belle journée d'été ?",
     "Le ciel est bleu par une belle journée d'été, sans aucun nuage."),
    ("Combien de jours y a-t-il dans une semaine complète ?",
     "Il y a sept jours dans une semaine complète, du lundi au dimanche."),
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def qa_rows(pairs=QA, lang: str = "en") -> list[dict]:
    return [{"id": f"{lang}-{i}", "instruction": q, "output": a, "lang": lang} for i, (q, a) in enumerate(pairs)]


@contextlib.contextmanager
def one_thread():
    """The 2 test cores are shared with other test runs; one torch thread avoids oversubscription
    (measured here: fitting one adapter took 15 s with one thread, 71 s with two under load)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def train_lora(model_dir: Path, rows: list[dict], out: Path, *, steps: int = 80, lr: float = 1e-2, seed: int = 0,
               tmp: Path) -> Path:
    """A LoRA adapter (r=8, all linear layers) fitted to `rows`, saved with save_pretrained into `out`."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from dataforge.train import TrainOptions, prepare_data
    from dataforge.train.run import load_tokenizer

    tok = load_tokenizer(model_dir)
    data = write_jsonl(tmp / f"{out.name}.jsonl", rows)
    prepared = prepare_data(str(data), tok, TrainOptions(), output=None, model_dir=model_dir)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir))
    width = max(len(r["input_ids"]) for r in prepared.train)
    ids = torch.full((len(prepared.train), width), tok.pad_token_id)
    labels = torch.full((len(prepared.train), width), -100)
    mask = torch.zeros((len(prepared.train), width), dtype=torch.long)
    for i, r in enumerate(prepared.train):
        n = len(r["input_ids"])
        ids[i, :n], labels[i, :n], mask[i, :n] = torch.tensor(r["input_ids"]), torch.tensor(r["labels"]), 1
    net = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", lora_dropout=0.0))
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=lr)
    with one_thread():
        for _ in range(steps):
            loss = net(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
    net.save_pretrained(str(out))
    return out


def _answers(request: dict) -> tuple[str, str, str]:
    text = request["messages"][-1]["content"]
    a = re.search(r"\[Answer A\]\n(.*?)\n\[End of answer A\]", text, re.S).group(1)
    b = re.search(r"\[Answer B\]\n(.*?)\n\[End of answer B\]", text, re.S).group(1)
    ref = re.search(r"\[Reference answer\]\n(.*?)\n", text, re.S)
    return a, b, ref.group(1) if ref else ""


def fair_judge(request):
    """A scripted judge that prefers the answer equal to the reference, whatever its position."""
    a, b, ref = _answers(request)
    return "A" if a == ref else "B" if b == ref else "tie"
