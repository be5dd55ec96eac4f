"""The columnar convert path gives exactly what the row path gives: rows, ids, field order, rejects, counts.

Each case runs `convert` twice on the same input, once with DATAFORGE_ROW_PATH=1 (the per-row reader)
and once as shipped, and compares the outputs byte for byte (JSON lines; Parquet: schema and rows),
the rejects files and the summaries. `BLOCK` is made tiny so one file splits into many batches, some
taken by columns and some (those holding a bad row) by the row path; each case also checks that the
columnar path really took batches, so a silently disabled path cannot pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataforge.convert import convert
from dataforge.io import columnar

REAL = Path(__file__).resolve().parents[1] / "realdata"
ALPACA_REAL = [REAL / "dedup/alpaca_en_demo_excerpt.json", REAL / "dedup/alpaca_zh_demo_excerpt.json",
               REAL / "formats/llamafactory/identity.json"]
TARGETS = [(None, "jsonl"), (None, "parquet"), ("openai", "jsonl"), ("openai", "parquet")]


@pytest.fixture
def counted(monkeypatch):
    """Small batches, and a count of the batches the columnar path mapped."""
    monkeypatch.setattr(columnar, "BLOCK", 2048)
    monkeypatch.setattr(columnar, "PARQUET_BATCH", 7)
    monkeypatch.setattr(columnar, "max_line_bytes", lambda: 1 << 20)
    taken = []
    real = columnar._assign_ids

    def spy(frame, *args):
        out = real(frame, *args)
        if out is not None:
            taken.append(out.height)
        return out

    monkeypatch.setattr(columnar, "_assign_ids", spy)
    return taken


def _outputs(out: Path) -> tuple:
    if out.suffix == ".parquet":
        table = pq.read_table(out)
        data = (table.schema, table.to_pylist())
    else:
        data = out.read_bytes()
    rejects = Path(str(out) + ".rejects.jsonl")
    return data, rejects.read_bytes() if rejects.exists() else None


def _both(src: Path, tmp: Path, to, ext, monkeypatch) -> tuple:
    results = []
    for name, row_path in (("row", "1"), ("col", "")):
        monkeypatch.setenv("DATAFORGE_ROW_PATH", row_path)
        out = tmp / f"{name}-{to}.{ext}"
        summary = convert(src, out, to=to)
        summary.output = summary.rejects_path = None  # the paths differ by name only
        results.append((summary, *_outputs(out)))
    return results


@pytest.mark.parametrize("to,ext", TARGETS)
@pytest.mark.parametrize("source", ALPACA_REAL, ids=lambda p: p.stem)
def test_real_alpaca_excerpts_same_rows_both_paths(source, to, ext, tmp_path, monkeypatch, counted):
    items = json.loads(source.read_text(encoding="utf-8"))
    # as JSON lines both ways real files come: raw UTF-8, and ASCII with \\u escapes (Python's default)
    for variant, dump in (("utf8", lambda r: orjson.dumps(r).decode()), ("ascii", json.dumps)):
        src = tmp_path / f"{source.stem}-{variant}.jsonl"
        src.write_text("".join(dump(r) + "\n" for r in items), encoding="utf-8")
        (row, row_out, row_rej), (col, col_out, col_rej) = _both(src, tmp_path / variant, to, ext, monkeypatch)
        assert col == row and col.written == len(items)
        assert col_out == row_out
        assert col_rej == row_rej
    assert sum(counted) >= len(items)  # the columnar path took batches of every variant


@pytest.mark.parametrize("to,ext", TARGETS)
def test_real_alpaca_parquet_input_same_rows(to, ext, tmp_path, monkeypatch, counted):
    items = json.loads(ALPACA_REAL[0].read_text(encoding="utf-8"))
    src = tmp_path / "alpaca.parquet"
    pq.write_table(pa.Table.from_pylist(items), src)
    (row, row_out, row_rej), (col, col_out, col_rej) = _both(src, tmp_path, to, ext, monkeypatch)
    assert col == row and col.written == len(items)
    assert (col_out, col_rej) == (row_out, row_rej)
    assert sum(counted) == len(items)  # repeated rows too: their content ids are renamed by columns


def _dolly(i: int, **extra) -> dict:
    return {"instruction": f"Question {i}?", "context": "" if i % 3 else f"Some context {i}.",
            "response": f"Answer {i}.", "category": "open_qa", **extra}


BAD_LINES = [
    orjson.dumps({"instruction": 5, "response": "a number as the instruction"}),
    orjson.dumps({"instruction": True, "response": "a boolean is no text"}),
    orjson.dumps({"instruction": "a list as the answer", "response": ["a"]}),
    orjson.dumps({"instruction": "no answer"}),
    orjson.dumps({"instruction": "blank answer", "response": " \u3000\n"}),
    orjson.dumps({"instruction": "\x1f", "response": "only a separator: isspace() says blank"}),
    orjson.dumps({"instruction": "null context", "response": "ok", "context": None}),
    orjson.dumps({"instruction": "extra column", "response": "ok", "source": "web"}),
    orjson.dumps({"instruction": "nested", "response": "ok", "meta": {"k": 1}}),
    b'{"instruction": "malformed", "response": ',
    b"",
    b"   ",
    b'{"instruction": "repeated key", "instruction": "second", "response": "ok"}',
    b'{"instruction": "lone surrogate \\ud800", "response": "ok"}',
    b'{"instruction": "pair \\ud83d\\ude00", "response": "ok"}',
    b'{"instruction": "json inside: {\\"a\\": 1}", "response": "ok"}',
    b"[1, 2]",
    b'{"instruction": "nan", "response": NaN}',
    b'{"instruction" : "spaced key", "response": "ok"}\r',
    orjson.dumps({"id": "given-7", "instruction": "given id", "response": "ok"}),
    orjson.dumps({"id": "given-7", "instruction": "same id again", "response": "ok"}),
    orjson.dumps(_dolly(1)),  # the same content as an earlier row: the same content id, renamed
]


@pytest.mark.parametrize("to,ext", TARGETS)
def test_bad_rows_same_rejects_lines_and_ids(to, ext, tmp_path, monkeypatch, counted):
    monkeypatch.setattr(columnar, "BLOCK", 1024)  # ~11 lines
    lines = [orjson.dumps(_dolly(i)) for i in range(500)]
    for k, bad in enumerate(BAD_LINES):  # spread out, so about half the batches stay clean
        lines.insert(5 + k * 25, bad)
    src = tmp_path / "dolly.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines))  # a BOM, and no line end after the last row
    (row, row_out, row_rej), (col, col_out, col_rej) = _both(src, tmp_path, to, ext, monkeypatch)
    assert col == row
    assert col.read == col.written + col.rejected and col.rejected >= 7
    assert col_out == row_out
    assert col_rej == row_rej
    assert 0 < sum(counted) < col.written  # both paths took part


def test_columnar_jsonl_lines_are_orjson_bytes(tmp_path, monkeypatch, counted):
    """Escapes (quotes, backslashes, control characters, non-ASCII) are written as orjson writes them."""
    text = "".join(chr(c) for c in range(1, 128)) + "é 中文 \u2028 😀"
    rows = [{"instruction": text + str(i), "input": text, "output": text, "system": "be brief" if i % 2 else ""}
            for i in range(5)]
    src = tmp_path / "alpaca.jsonl"
    src.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    for to in (None, "openai"):
        (row, row_out, _), (col, col_out, _) = _both(src, tmp_path, to, "jsonl", monkeypatch)
        assert col_out == row_out and col.written == 5
    assert sum(counted) == 10


@pytest.mark.parametrize("name", ["o.jsonl", "o.parquet"])
def test_columnar_run_failing_midway_keeps_the_old_output(name, tmp_path, monkeypatch, counted):
    from dataforge.errors import InputError
    from dataforge.io import columnar_out

    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(orjson.dumps(_dolly(i)) + b"\n" for i in range(200)))
    out = tmp_path / name
    out.write_text("OLD")
    real, calls = columnar_out.write_frame, []

    def failing(frame, target, writer):  # the disk fills up at the third batch
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real(frame, target, writer)

    monkeypatch.setattr(columnar_out, "write_frame", failing)
    with pytest.raises(InputError, match="No space left on device"):
        convert(src, out)
    assert out.read_text() == "OLD" and len(calls) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", name]


def test_blank_pattern_is_exactly_str_isspace():
    """The columnar blank check must call blank exactly what the row path's isspace() does."""
    import re
    import sys

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    pattern = re.compile(columnar._BLANK)
    assert all(pattern.match(c * 3) for c in spaces)
    assert not any(pattern.match(chr(c)) for c in range(0x3001) if not chr(c).isspace())


@pytest.mark.parametrize("to,ext", TARGETS)
def test_a_few_odd_rows_leave_the_rest_of_their_batch_to_columns(to, ext, tmp_path, monkeypatch, counted):
    """One wrong type or blank answer sends that row alone through the row path, not its whole batch."""
    monkeypatch.setattr(columnar, "BLOCK", 1 << 20)
    lines = [orjson.dumps(_dolly(i)) for i in range(300)]
    lines[40] = orjson.dumps({"instruction": 5, "response": "a number: the row path writes it as text"})
    lines[41] = orjson.dumps({"instruction": "blank", "response": "  "})
    lines[150] = orjson.dumps({"instruction": True, "response": "a boolean: rejected"})
    lines[151] = b'{"instruction": "json inside {\\"a\\": 1}", "response": "ok"}'  # read again by orjson
    lines[152] = b'{"instruction": "a list {\\"a\\": 1}", "response": ["x"]}'  # both: the row path
    src = tmp_path / "dolly.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    (row, row_out, row_rej), (col, col_out, col_rej) = _both(src, tmp_path, to, ext, monkeypatch)
    assert col == row and (col.written, col.rejected) == (297, 3)
    assert (col_out, col_rej) == (row_out, row_rej)
    assert sum(counted) == 296  # all but the number row (written by the row path) and the 3 rejects
    if ext == "parquet":  # the runs between odd rows go out together, not as a row group each
        assert pq.ParquetFile(tmp_path / f"col-{to}.parquet").metadata.num_row_groups == 1
