"""Fixtures for eval tests: LoRA adapters that memorised known answers, trained here with plain torch.

The training rows come from the train library's own data preparation
(`prepare_data`: the same template, tokenization and prompt masking as
`dataforge train`), then a plain AdamW loop fits a LoRA adapter until greedy
decoding reproduces the answers. A few seconds on CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
    for _ in range(steps):
        loss = net(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    net.save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def adapters(tiny_model_dir, tmp_path_factory) -> dict:
    """{"all": memorised all four answers, "half": trained on the first two only}."""
    root = tmp_path_factory.mktemp("adapters")
    rows = qa_rows()
    return {"all": train_lora(tiny_model_dir, rows, root / "mem_all", tmp=root),
            "half": train_lora(tiny_model_dir, rows[:2], root / "mem_half", tmp=root, seed=1)}


@pytest.fixture
def eval_set(tmp_path) -> Path:
    """The four memorised questions plus two French rows (so the set is multilingual)."""
    return write_jsonl(tmp_path / "eval.jsonl", qa_rows() + qa_rows(FRENCH, "fr"))


@pytest.fixture
def loopback():
    from dataforge.llm.loopback import LoopbackServer

    servers = []

    def start(reply=None, **kwargs):
        srv = LoopbackServer(reply, **kwargs).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


@pytest.fixture(autouse=True)
def _quiet():
    from dataforge.progress import set_quiet

    set_quiet(True)
    yield
    set_quiet(False)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """The 2 test cores are shared with other test runs; one torch thread avoids oversubscription
    (measured here: LoRA fitting 15 s with one thread, 71 s with two under load)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
