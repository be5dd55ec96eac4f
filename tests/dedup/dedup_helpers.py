"""Helpers for the dedup tests: texts with a known similarity, files, reading results back.

Similarity is computed here on its own (lower-case words, word 5-grams,
Jaccard), not with dataforge's code, so a test compares dataforge's
decisions with an independent answer.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

_SYLLABLES = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "dun", "pri", "mo", "gar", "el", "fin", "zu", "bra",
              "tek", "nor", "il", "qua", "shi"]
WORDS = sorted({a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in ("", "n", "s", "t")})


def make_text(seed: int, words: int = 60) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words))


def substitute(text: str, positions, seed: int = 0) -> str:
    """Replace the words at `positions` with other words (each change touches up to 5 shingles)."""
    rng = random.Random(seed)
    toks = text.split()
    for p in positions:
        toks[p] = "x" + rng.choice(WORDS)  # "x" prefix: never equal to an existing word
    return " ".join(toks)


def jaccard5(a: str, b: str, n: int = 5) -> float:
    def grams(t):
        toks = re.findall(r"\w+", t.lower())
        return {tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1))}

    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb)


def dolly(rid: str, instruction: str, response: str = "an answer", context: str = "", **extra) -> dict:
    return {"id": rid, "instruction": instruction, "context": context, "response": response,
            "category": "open_qa", **extra}


def write_jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def rejects_of(out) -> list[dict]:
    return read_jsonl(str(out) + ".rejects.jsonl")


def ids(rows) -> list[str]:
    return [r["id"] for r in rows]


def check_accounting(summary, out) -> tuple[list[dict], list[dict]]:
    """rows in = rows out + rows rejected, in the summary and in the files; returns (kept, rejects)."""
    kept, rejected = read_jsonl(out), rejects_of(out)
    assert summary.rows_in == summary.rows_out + summary.rejected
    assert len(kept) == summary.rows_out and len(rejected) == summary.rejected
    return kept, rejected


# Fewer LSH buckets than --threshold would pick (each bucket is one datatrove task, ~0.1 s of fixed
# cost): 8 x 4 still finds pairs at 0.8 with probability 0.985, and the similarity check removes
# the extra candidates, so results are the same.
FAST = {"buckets": 8, "hashes_per_bucket": 4}
