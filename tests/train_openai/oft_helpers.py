"""Helpers for the hosted OpenAI backend tests (a unique module name: test folders share sys.path)."""

from __future__ import annotations

import json
from pathlib import Path

CANARY = "sk-canary-3f9d1e7c55aa4b21"
FAST = ["--set", "poll_interval=0.01"]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def sums(n: int) -> list[dict]:
    """Dolly rows whose answers are known: 'What is i+i?' -> '2i'."""
    return [{"instruction": f"What is {i}+{i}?", "context": "", "response": str(2 * i), "category": "math"}
            for i in range(n)]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def files_containing(root: Path, needle: str) -> list[str]:
    """Every file under `root` whose bytes contain `needle`."""
    return [str(p) for p in Path(root).rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]
