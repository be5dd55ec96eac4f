"""The shipped sample data: bad rows land exactly where PLANTED.json says, good data converts whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from io_helpers import read_lines, rejects_of

from dataforge.convert import convert
from dataforge.io import read_dataset

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
pytestmark = pytest.mark.skipif(not (SAMPLE / "PLANTED.json").exists(), reason="sample_data not built")


def test_bad_rows_are_rejected_exactly_at_the_planted_lines(tmp_path):
    planted = json.loads((SAMPLE / "PLANTED.json").read_text())["bad_rows.jsonl"]
    out = tmp_path / "clean.jsonl"
    summary = convert(SAMPLE / "bad_rows.jsonl", out)
    rejects = rejects_of(out)
    assert sorted(r["line"] for r in rejects) == planted["bad_lines"]
    assert summary.read == summary.written + summary.rejected == 15
    assert summary.written == len(planted["good_lines"]) == len(read_lines(out))
    assert all(r["file"] == str(SAMPLE / "bad_rows.jsonl") and r["reason"] for r in rejects)
    by_line = {r["line"]: r for r in rejects}
    assert by_line[4]["field"] == "instruction" and by_line[7]["field"] == "response"
    assert "invalid UTF-8" in by_line[10]["reason"]
    # line 9 repeats the id bad-02 with other content: kept under a derived id, the original in meta
    kept = {r["id"]: r for r in read_lines(out)}
    assert kept["bad-02-2"]["instruction"] == "Translate 'thank you' into French."
    assert kept["bad-02-2"]["meta"]["original_id"] == "bad-02" and summary.renamed == 1


def test_dolly_sample_round_trips_through_openai(tmp_path):
    src = SAMPLE / "dolly_en.jsonl"
    original = list(read_dataset(src))
    s1 = convert(src, tmp_path / "chat.parquet", to="openai")
    s2 = convert(tmp_path / "chat.parquet", tmp_path / "back.jsonl", to="dolly")
    assert s1.rejected == s2.rejected == 0 and s1.written == s2.written == len(original) == 423
    back = list(read_dataset(tmp_path / "back.jsonl"))
    assert [(r.id, r.output) for r in back] == [(r.id, r.output) for r in original]
    assert [r.instruction for r in back] == [
        f"{r.instruction}\n\n{r.context}" if r.context else r.instruction for r in original]
