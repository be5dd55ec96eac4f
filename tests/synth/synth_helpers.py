"""Helpers shared by the synth tests (imported by name, never `from conftest import`:
several test folders have a conftest, and which one `conftest` names depends on run order)."""

from __future__ import annotations

import json
from pathlib import Path

CANARY_KEY = "sk-canary-synth-5e4d3c2b1a09f8e7"
ROOT = Path(__file__).resolve().parents[2]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


PASSAGE_WORDS = ("The committee met on Tuesday to review the harbour plan and agreed that the northern pier needs "
                 "repairs before winter storms arrive, while funding for the new lighthouse will wait until spring")


def passages(n: int) -> str:
    """n distinct paragraphs of 30+ words, separated by blank lines."""
    return "\n\n".join(f"Report {i}: {PASSAGE_WORDS} (item {i})." for i in range(n)) + "\n"
