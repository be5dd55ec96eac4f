"""Exact dedup over batches of columns keeps the same rows and reports the same removals as the row loop.

Each case runs `dedup` with DATAFORGE_ROW_PATH=1 (the per-row prepare loop) and as shipped, and
compares the output and the removed-rows report byte for byte, and the summaries. A spy counts the
batches `exact_columnar.add_batch` took, so a silently disabled columnar path cannot pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from dataforge.dedup import dedup, exact_columnar
from dataforge.io import columnar

REAL = Path(__file__).resolve().parents[1] / "realdata"


@pytest.fixture
def taken(monkeypatch):
    monkeypatch.setattr(columnar, "BLOCK", 4096)
    rows = []
    real = exact_columnar.add_batch

    def spy(frame, name, first_line, st):
        rows.append(frame.height)
        real(frame, name, first_line, st)

    monkeypatch.setattr(exact_columnar, "add_batch", spy)
    return rows


def _both(src: Path, tmp: Path, monkeypatch, **options) -> list:
    results = []
    for name, row_path in (("row", "1"), ("col", "")):
        monkeypatch.setenv("DATAFORGE_ROW_PATH", row_path)
        out = tmp / f"{name}.jsonl"
        s = dedup([src], out, **options)
        rejects = Path(str(out) + ".rejects.jsonl")
        summary = (s.rows_in, s.rows_out, s.rejected, s.exact_duplicates, s.near_duplicates, s.empty_key,
                   s.same_prompt, s.other_question)
        results.append((summary, out.read_bytes(), rejects.read_bytes() if rejects.exists() else b""))
    return results


@pytest.mark.parametrize("near", [False, True])
@pytest.mark.parametrize("name", ["alpaca_en_demo_excerpt", "alpaca_zh_demo_excerpt", "identity"])
def test_real_excerpts_same_kept_and_removed_rows(name, near, tmp_path, monkeypatch, taken):
    items = json.loads((REAL / "dedup" / f"{name}.json").read_text(encoding="utf-8"))
    src = tmp_path / f"{name}.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")  # ASCII with \\u escapes
    row, col = _both(src, tmp_path, monkeypatch, exact=True, near=near)
    assert col == row
    assert sum(taken) == len(items)


def _dolly(text: str, answer: str = "ok", **extra) -> dict:
    return {"instruction": text, "context": "", "response": answer, "category": "t", **extra}


FAMILIES = [
    ["What is the capital of France?", "what is the capital of france", "  WHAT is the capital, of France!! "],
    ["Straße und Größe?", "STRASSE UND GRÖSSE", "straße und größe"],  # casefold: ß -> ss (non-ASCII rows)
    ["ｆｕｌｌ ｗｉｄｔｈ", "full width"],  # NFKC
    ['Parse {"a": 1, "b": [2]} please', 'parse {"A": 1, "B": [2]} please'],  # JSON inside a value
    ["tab\tand\x1fseparator", "tab and separator"],  # str.split() whitespace, ASCII
    ["marks \x01 inside \x02 text", "marks inside text"],
    ["emoji 😀 here", "EMOJI 😀 HERE"],
]


@pytest.mark.parametrize("key", ["auto", "prompt"])
def test_exact_families_same_groups(key, tmp_path, monkeypatch, taken):
    rows = []
    for k in range(40):
        rows.append(_dolly(f"Unique question number {k}?", f"answer {k}"))
        family = FAMILIES[k % len(FAMILIES)]
        rows.append(_dolly(family[k % len(family)], "same answer" if k % 3 else "other answer"))
    rows.append(_dolly("given id", id="x-1"))
    rows.append(_dolly("with context", context="Some context."))
    src = tmp_path / "dolly.jsonl"
    src.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    row, col = _both(src, tmp_path, monkeypatch, exact=True, near=False, key=key)
    assert col == row
    assert row[0][3] > 20  # the families really collapsed
    assert sum(taken) == len(rows)


def test_alpaca_with_system_prompts_and_bad_rows(tmp_path, monkeypatch, taken):
    monkeypatch.setattr(columnar, "BLOCK", 512)  # ~7 lines a batch
    lines = []
    for k in range(60):
        row = {"instruction": f"Q{k % 20}", "input": "" if k % 2 else "ctx", "output": f"A{k % 20}",
               "system": "be brief" if k % 4 == 0 else ""}
        lines.append(orjson.dumps(row))
    lines.insert(10, b'{"instruction": "no output"}')
    lines.insert(30, b'{"instruction": 7, "output": "number"')
    src = tmp_path / "alpaca.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    row, col = _both(src, tmp_path, monkeypatch, exact=True, near=True)
    assert col == row
    assert row[0][2] >= 2 and 0 < sum(taken) < 60  # rejects on read, and both paths took part


@pytest.mark.parametrize("block", [7, 16, 1 << 20])
def test_finalize_copies_runs_of_kept_rows_and_hands_back_the_removed(block):
    """finalize's bulk copy: kept rows reach the output in order, removed rows come back with their number."""
    import io

    import numpy as np

    from dataforge.dedup.finalize import _runs

    lines = [f'{{"r": {i}}}\n'.encode() for i in range(12)]
    status = np.array([0, 1, 1, 0, 0, 0, 2, 0, 0, 0, 0, 1], dtype=np.int8)
    copied, counted = [], []

    def bulk(data: bytes, count: int) -> None:
        copied.append(data)
        counted.append(count)

    data = b"".join(lines)[:-1]  # the last line without its line end
    got = list(_runs(io.BytesIO(data), status, bulk, block=block))
    removed = [(gid, line) for gid, line in got if line is not None]
    assert [gid for gid, _ in removed] == [1, 2, 6, 11]
    assert [line.rstrip(b"\n") for _, line in removed] == [lines[i].rstrip(b"\n") for i in (1, 2, 6, 11)]
    assert b"".join(copied) == b"".join(lines[i] for i in range(12) if status[i] == 0)
    assert sum(counted) == 8 == sum(gid for gid, line in got if line is None)
