"""Bad input: the run goes on, each bad row lands in OUT.rejects.jsonl with file, line, field
and reason, and rows in = rows out + rows rejected, every time."""

from __future__ import annotations

import json

import pytest
from io_helpers import leftovers, read_lines, rejects_of, write_jsonl

from dataforge.convert import convert
from dataforge.errors import InputError
from dataforge.io import read_dataset


def good(i: int, **extra) -> dict:
    return {"instruction": f"Question {i}?", "context": "", "response": f"Answer {i}.", **extra}


def line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False)


def run(src, tmp_path, name="out.jsonl", **kw):
    """Convert, then check the books balance against what is on disk."""
    out = tmp_path / name
    summary = convert(src, out, **kw)
    rejects = rejects_of(out)
    assert summary.read == summary.written + summary.rejected
    assert summary.rejected == len(rejects)
    if name.endswith(".jsonl"):
        assert len(read_lines(out)) == summary.written
    assert leftovers(tmp_path) == []
    return summary, (read_lines(out) if name.endswith(".jsonl") else None), rejects


def test_utf8_bom(tmp_path):
    src = write_jsonl(tmp_path / "bom.jsonl", None, text="\ufeff" + line(good(1)) + "\n" + line(good(2)) + "\n")
    summary, rows, rejects = run(src, tmp_path)
    assert (summary.read, summary.written, summary.rejected) == (2, 2, 0)
    assert rows[0]["instruction"] == "Question 1?"
    csv = tmp_path / "bom.csv"
    csv.write_bytes("\ufeffinstruction,response\nHi,Hello\n".encode())
    summary, rows, _ = run(csv, tmp_path, "csv_out.jsonl")
    assert rows[0]["instruction"] == "Hi" and summary.written == 1


def test_crlf_line_ends(tmp_path):
    row = good(1, context="a\r\nb")  # an escaped CRLF inside a value is data and stays
    text = "\r\n".join([line(row), line(good(2)), ""])
    src = write_jsonl(tmp_path / "crlf.jsonl", None, text=text)
    summary, rows, _ = run(src, tmp_path)
    assert (summary.written, summary.rejected) == (2, 0)
    assert rows[0]["context"] == "a\r\nb" and rows[1]["output"] == "Answer 2."
    (tmp_path / "crlf.csv").write_bytes(b"instruction,response\r\nA,B\r\nC,\"D\r\nE\"\r\n")
    summary, rows, _ = run(tmp_path / "crlf.csv", tmp_path, "c.jsonl")
    assert [r["output"] for r in rows] == ["B", "D\r\nE"]


def test_invalid_utf8_bytes(tmp_path):
    data = (line(good(1)) + "\n").encode() + b'{"instruction": "bad \xff\xfe bytes", "response": "x"}\n' + (
        line(good(3)) + "\n").encode()
    src = write_jsonl(tmp_path / "bytes.jsonl", None, text=data)
    summary, rows, rejects = run(src, tmp_path)
    assert (summary.read, summary.written, summary.rejected) == (3, 2, 1)
    (rej,) = rejects
    assert (rej["file"], rej["line"]) == (str(src), 2)
    assert "invalid UTF-8" in rej["reason"] and "\\xff" in rej["row"]
    (tmp_path / "bytes.csv").write_bytes(b"instruction,response\nok,fine\nbad \xff,x\n")
    summary, rows, rejects = run(tmp_path / "bytes.csv", tmp_path, "c.jsonl")
    assert (summary.written, summary.rejected) == (1, 1)
    assert rejects[0]["line"] == 3 and rejects[0]["field"] == "instruction" and "UTF-8" in rejects[0]["reason"]


def test_malformed_json_line_in_the_middle(tmp_path):
    lines = [line(good(i)) for i in range(1, 6)]
    lines[2] = '{"instruction": "cut off", "response": '
    src = write_jsonl(tmp_path / "m.jsonl", None, text="\n".join(lines) + "\n")
    summary, rows, rejects = run(src, tmp_path)
    assert (summary.read, summary.written, summary.rejected) == (5, 4, 1)
    assert [r["instruction"] for r in rows] == ["Question 1?", "Question 2?", "Question 4?", "Question 5?"]
    assert rejects[0]["line"] == 3 and rejects[0]["reason"].startswith("malformed JSON")
    assert rejects[0]["row"] == lines[2]


def test_a_line_that_is_not_an_object(tmp_path):
    src = write_jsonl(tmp_path / "a.jsonl", None, text=line(good(1)) + "\n[1, 2]\n\"text\"\n")
    summary, _, rejects = run(src, tmp_path)
    assert (summary.written, summary.rejected) == (1, 2)
    assert [r["line"] for r in rejects] == [2, 3] and "expected a JSON object, got list" in rejects[0]["reason"]


def test_nan_literal(tmp_path):
    text = "\n".join([
        line(good(1)),
        '{"instruction": "Q2", "response": NaN}',
        '{"instruction": "Q3", "context": NaN, "response": "A3", "score": NaN}',
    ]) + "\n"
    src = write_jsonl(tmp_path / "nan.jsonl", None, text=text)
    summary, rows, rejects = run(src, tmp_path)
    assert (summary.read, summary.written, summary.rejected) == (3, 2, 1)
    assert (rejects[0]["line"], rejects[0]["field"], rejects[0]["reason"]) == (2, "response", "field is NaN")
    assert rows[1]["context"] == "" and rows[1]["output"] == "A3"
    assert rows[1]["meta"]["extra"] == {"score": None}  # NaN is not JSON: written as null


def test_a_single_50mb_record(tmp_path):
    big = "x" * (50 * 1024 * 1024)
    src = write_jsonl(tmp_path / "big.jsonl", [good(1), good(2, response=big), good(3)])
    summary, rows, _ = run(src, tmp_path)
    assert (summary.read, summary.written) == (3, 3)
    assert len(rows[1]["output"]) == len(big)
    summary, _, _ = run(src, tmp_path, "big.parquet")
    import pyarrow.parquet as pq

    assert len(pq.read_table(tmp_path / "big.parquet").column("output")[1].as_py()) == len(big)


def test_key_first_appearing_after_line_5000(tmp_path):
    rows = [good(i) for i in range(1, 6001)]
    rows[5000] = good(5001, category="late_category", source_url="https://example.org/5001")
    src = write_jsonl(tmp_path / "late.jsonl", rows)
    for name in ("late_out.jsonl", "late_out.parquet", "late_out.csv"):
        summary, _, _ = run(src, tmp_path, name)
        assert summary.written == 6000
        back = [r for r in read_dataset(tmp_path / name)]
        assert back[5000].category == "late_category"
        assert back[5000].meta["extra"] == {"source_url": "https://example.org/5001"}
        assert back[4999].category == "" and back[4999].meta == {}
    from dataforge.inspect import inspect_dataset

    info = inspect_dataset(src)
    assert info.columns["source_url"] == {"present": round(1 / 6000, 4), "filled": round(1 / 6000, 4)}
    assert info.columns["category"]["present"] == round(1 / 6000, 4)


def test_field_whose_type_changes_between_rows(tmp_path):
    src = write_jsonl(tmp_path / "t.jsonl", [
        good(1),
        good(2, response=12),                    # a number is text that happens to be digits
        good(3, response=["a", "list"]),         # a list is not text
        good(4, category=7, meta="not a dict"),  # kept, normalised
        good(5, response={"nested": True}),
        good(6, response=True),
    ])
    summary, rows, rejects = run(src, tmp_path)
    assert (summary.read, summary.written, summary.rejected) == (6, 3, 3)
    assert rows[1]["output"] == "12"
    assert rows[2]["category"] == "7" and rows[2]["meta"] == {"raw_meta": "not a dict"}
    assert [(r["line"], r["field"]) for r in rejects] == [(3, "response"), (5, "response"), (6, "response")]
    assert "expected text, got list" in rejects[0]["reason"]
    assert "boolean" in rejects[2]["reason"]


def test_missing_extra_and_empty_fields(tmp_path):
    src = write_jsonl(tmp_path / "f.jsonl", [
        good(1),
        {"instruction": "no answer"},                        # missing required field
        good(3, tag="kept", score=0.5),                      # extra fields go to meta.extra
        good(4, instruction="   "),                          # empty required field
        good(5, response=None),                              # null
        {"instruction": "Q6", "response": "A6"},             # missing optional context is fine
    ])
    summary, rows, rejects = run(src, tmp_path)
    assert (summary.read, summary.written, summary.rejected) == (6, 3, 3)
    assert rows[1]["meta"] == {"extra": {"tag": "kept", "score": 0.5}}
    assert rows[2]["context"] == ""
    assert [(r["line"], r["field"], r["reason"]) for r in rejects] == [
        (2, "response", "missing field"), (4, "instruction", "field is empty"), (5, "response", "field is null")]


def test_repeated_ids_are_kept_under_derived_ids(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", [good(1, id="a"), good(2, id="b"), good(3, id="a"), good(4, id=5),
                                              good(5, id="5")])
    summary, rows, rejects = run(src, tmp_path)
    # nothing is rejected: a repeated id is renamed, the original kept in meta, and the summary counts it
    assert (summary.read, summary.written, summary.rejected, summary.renamed) == (5, 5, 0, 2)
    assert [r["id"] for r in rows] == ["a", "b", "a-2", "5", "5-2"]
    assert [r["meta"].get("original_id") for r in rows] == [None, None, "a", None, "5"]
    assert rows[2]["instruction"] == "Question 3?" and rejects == []
    assert "2 repeated ids kept as ID-2, ID-3, ..." in summary.line()


def test_two_shards_counting_from_zero_lose_nothing(tmp_path):
    for shard in ("s1", "s2"):
        write_jsonl(tmp_path / "in" / f"{shard}.jsonl", [good(i, id=str(i), instruction=f"{shard} q{i}")
                                                         for i in range(3)])
    summary = convert(tmp_path / "in", tmp_path / "out.jsonl")
    rows = read_lines(tmp_path / "out.jsonl")
    assert (summary.read, summary.written, summary.rejected, summary.renamed) == (6, 6, 0, 3)
    assert [r["id"] for r in rows] == ["0", "1", "2", "0-2", "1-2", "2-2"]
    assert [r["instruction"] for r in rows[3:]] == ["s2 q0", "s2 q1", "s2 q2"]
    # the written file reads back whole with the same ids
    assert [r.id for r in read_dataset(tmp_path / "out.jsonl")] == [r["id"] for r in rows]


def test_exact_duplicate_rows_without_ids_get_distinct_stable_ids(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", [good(1), good(2), good(1), good(1)])
    summary, rows, _ = run(src, tmp_path)
    ids = [r["id"] for r in rows]
    assert summary.written == 4 and len(set(ids)) == 4
    assert ids[2] == ids[0] + "-2" and ids[3] == ids[0] + "-3"
    # and the written file reads back whole (no "duplicate id" rejects), with the same ids
    again = list(read_dataset(tmp_path / "out.jsonl"))
    assert [r.id for r in again] == ids


def test_empty_file(tmp_path):
    for name, content in (("e.jsonl", b""), ("blank.jsonl", b"\n\n  \n"), ("e.csv", b""), ("h.csv", b"a,b\n"),
                          ("e.json", b"[]")):
        src = tmp_path / name
        src.write_bytes(content)
        ds = read_dataset(src)
        assert list(ds) == [] and ds.stats.read == 0
        with pytest.raises(InputError, match="no rows to convert"):
            convert(src, tmp_path / "out.jsonl")
        assert not (tmp_path / "out.jsonl").exists() and leftovers(tmp_path) == []


def test_empty_shard_does_not_change_the_kind(tmp_path):
    write_jsonl(tmp_path / "s" / "a.jsonl", [{"prompt": "p", "chosen": "c", "rejected": "r"}])
    (tmp_path / "s" / "b.jsonl").write_text("")
    ds = read_dataset(tmp_path / "s")
    assert ds.kind == "preference" and len(list(ds)) == 1


def test_wrong_extension(tmp_path):
    xml = write_jsonl(tmp_path / "data.xml", [good(1)])
    with pytest.raises(InputError) as info:
        read_dataset(xml)
    assert "unsupported file type '.xml'" in info.value.message and "--format" in info.value.hint
    txt = write_jsonl(tmp_path / "data.txt", [good(1)])  # .txt is plain text; JSON lines in it are a mistake
    with pytest.raises(InputError, match="holds JSON lines, not plain text") as info:
        read_dataset(txt)
    assert "--format jsonl" in info.value.hint
    assert read_dataset(txt, fmt="jsonl").shape == "dolly"
    fake = write_jsonl(tmp_path / "data.parquet", [good(1)])
    with pytest.raises(InputError, match="not a readable Parquet file") as info:
        list(read_dataset(fake))
    assert "--format jsonl" in info.value.hint
    import polars as pl

    pl.DataFrame([good(1)]).write_parquet(tmp_path / "really_parquet.jsonl")
    with pytest.raises(InputError, match="is Parquet data, not JSON lines"):
        read_dataset(tmp_path / "really_parquet.jsonl")
    assert read_dataset(tmp_path / "really_parquet.jsonl", fmt="parquet").shape == "dolly"


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        read_dataset(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="no files match"):
        read_dataset(str(tmp_path / "nope-*.jsonl"))


def test_malformed_json_array_file_is_one_clear_error(tmp_path):
    (tmp_path / "a.json").write_text('[{"instruction": "a", "output": "b"},\n {"instruction": ]')
    with pytest.raises(InputError, match=r"a.json:2: malformed JSON array"):
        list(read_dataset(tmp_path / "a.json"))


def test_values_no_writer_can_store_are_rejected(tmp_path):
    text = "\n".join([line(good(1)), '{"instruction": "lone \\ud800 surrogate", "response": "x"}',
                      '{"instruction": "huge", "response": "x", "n": 123456789012345678901234567890}']) + "\n"
    src = write_jsonl(tmp_path / "u.jsonl", None, text=text)
    summary, rows, rejects = run(src, tmp_path)
    assert (summary.written, summary.rejected) == (2, 1)
    assert "surrogate" in rejects[0]["reason"] and rejects[0]["line"] == 2
    assert rows[1]["meta"]["extra"]["n"] == pytest.approx(1.2345678901234568e29)  # too big for int64: a float


def test_strict_stops_at_the_first_bad_row(tmp_path):
    rows = [line(good(i)) for i in range(1, 20001)]
    rows[15000] = "{broken"
    src = write_jsonl(tmp_path / "s.jsonl", None, text="\n".join(rows) + "\n")
    out = tmp_path / "out.jsonl"
    out.write_text("OLD\n")
    with pytest.raises(InputError) as info:
        convert(src, out, strict=True)
    assert f"{src}:15001" in info.value.message and "malformed JSON" in info.value.message
    assert "--strict" in info.value.hint
    assert out.read_text() == "OLD\n"  # nothing half-written replaced it
    assert leftovers(tmp_path) == [] and not (tmp_path / "out.jsonl.rejects.jsonl").exists()


@pytest.mark.parametrize("name", ["o.jsonl", "o.jsonl.gz", "o.json", "o.parquet", "o.csv", "o_folder"])
def test_output_is_atomic_when_a_run_fails_midway(tmp_path, monkeypatch, name):
    import dataforge.convert as conv

    src = write_jsonl(tmp_path / "in.jsonl", [good(i) for i in range(20000)])
    out = tmp_path / name
    if name.endswith("folder"):  # an earlier dataforge output (marked): the only kind of folder it replaces
        out.mkdir()
        (out / "old.txt").write_text("OLD")
        (out / ".dataforge-output").write_text('{"written_by": "dataforge"}\n')
    else:
        out.write_text("OLD")
    old_rejects = tmp_path / f"{name}.rejects.jsonl"
    old_rejects.write_text('{"reason": "old"}\n')

    real, calls = conv.to_shape, []

    def failing(record, target):  # the disk fills up after 12,000 rows (past the first flush)
        calls.append(1)
        if len(calls) > 12000:
            raise OSError(28, "No space left on device")
        return real(record, target)

    monkeypatch.setattr(conv, "to_shape", failing)
    monkeypatch.setenv("DATAFORGE_ROW_PATH", "1")  # the columnar path failing midway: test_io_columnar.py
    with pytest.raises(InputError, match="No space left on device") as info:
        convert(src, out)
    assert "old output" in info.value.hint
    if name.endswith("folder"):
        assert sorted(p.name for p in out.iterdir()) == [".dataforge-output", "old.txt"]
    else:
        assert out.read_text() == "OLD"
    assert old_rejects.read_text() == '{"reason": "old"}\n'
    assert leftovers(tmp_path) == [], list(tmp_path.iterdir())


def test_output_gets_normal_permissions(tmp_path):
    import os

    src = write_jsonl(tmp_path / "in.jsonl", [good(1)])
    convert(src, tmp_path / "o.jsonl")
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(tmp_path / "o.jsonl").st_mode & 0o777 == 0o666 & ~mask


def test_output_may_not_overwrite_input(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [good(1)])
    with pytest.raises(InputError, match="overwrite the input"):
        convert(src, src)
    assert read_lines(src) == [good(1)]


def test_stale_rejects_file_is_removed_when_a_rerun_has_none(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", None, text=line(good(1)) + "\n{bad\n")
    run(src, tmp_path)
    assert (tmp_path / "out.jsonl.rejects.jsonl").exists()
    src.write_text(line(good(1)) + "\n")
    run(src, tmp_path)
    assert not (tmp_path / "out.jsonl.rejects.jsonl").exists()
