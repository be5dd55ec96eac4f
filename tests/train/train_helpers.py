"""Helpers shared by the training tests (data with known answers, reading outputs)."""

from __future__ import annotations

import json
from pathlib import Path

# Four short question/answer pairs: a 2-layer model can memorise them in a few dozen steps.
FACTS = [("What is the capital of France?", "Paris."), ("What is the capital of Germany?", "Berlin."),
         ("What is the capital of Spain?", "Madrid."), ("Say hello.", "Hello!")]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    out = {}
    for f in sorted(Path(model_dir).glob("*.safetensors")):
        out.update(load_file(str(f)))
    return out


def metric_rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (Path(out) / "metrics.jsonl").read_text().splitlines()]
