"""Helpers for the I/O tests: write small files with known content, read outputs back."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def write_jsonl(path: Path, rows, *, text: str | None = None) -> Path:
    """Rows as JSON lines (or `text` verbatim, for hand-made broken files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    else:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_lines(path: Path) -> list[dict]:
    """A JSONL output (plain or .gz) as dicts."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def rejects_of(out: Path) -> list[dict]:
    path = Path(str(out) + ".rejects.jsonl")
    return read_lines(path) if path.exists() else []


def leftovers(folder: Path) -> list[str]:
    """Temporary files an atomic write must not leave behind."""
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or p.name.endswith(".widen"))
