"""`dataforge dedup` on the command line, and the planted duplicates and leaks in sample_data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from dedup_helpers import FAST, dolly, ids, make_text, read_jsonl, rejects_of, substitute, write_jsonl

from dataforge.cli.main import cli
from dataforge.dedup import dedup

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _run(*args):
    return CliRunner().invoke(cli, ["-q", "dedup", *map(str, args)])


def test_cli_prints_lsh_choice_summary_and_paths(tmp_path):
    a = make_text(1)
    src = write_jsonl(tmp_path / "in.jsonl", [dolly("a", a), dolly("b", substitute(a, [30])), dolly("c", "Hi"),
                                              dolly("d", "hi")])
    out, clusters = tmp_path / "out.parquet", tmp_path / "clusters.jsonl"
    res = _run(src, "-o", out, "--threshold", "0.8", "--clusters", clusters, "--buckets", FAST["buckets"],
               "--hashes-per-bucket", FAST["hashes_per_bucket"])
    assert res.exit_code == 0, res.output
    assert "8 buckets x 4 hashes" in res.output and "0.80:" in res.output
    assert "read 4 rows: 1 exact duplicates, 1 near duplicates, 0 contaminated, 0 unreadable; wrote 2" in res.output
    assert "rows in 4 = out 2 + rejected 2" in res.output
    import polars as pl

    assert pl.read_parquet(out)["id"].to_list() == ["a", "c"]
    assert len(read_jsonl(clusters)) == 2


def test_cli_errors_are_one_clean_line(tmp_path):
    inst = write_jsonl(tmp_path / "i.jsonl", [dolly("a", "Hello?")])
    pref = write_jsonl(tmp_path / "p.jsonl", [{"instruction": "Hi", "chosen": "Hello", "rejected": "Go away"}])
    for args, message in [((inst, "-o", tmp_path / "o.jsonl", "--threshold", "0"), "outside (0, 1]"),
                          ((inst, pref, "-o", tmp_path / "o.jsonl"), "mix instruction and preference"),
                          ((inst, "-o", tmp_path / "o.jsonl", "--keep", "best:"), "not a keep rule"),
                          ((inst, "-o", tmp_path / "o.jsonl", "--executor", "slurm"), "needs --partition")]:
        res = _run(*args)
        assert res.exit_code == 1 and "error: " in res.output and message in res.output, res.output
        assert "Traceback" not in res.output


@pytest.mark.skipif(not (SAMPLE / "PLANTED.json").exists(), reason="sample_data not generated")
def test_finds_the_duplicates_and_leaks_planted_in_sample_data(tmp_path):
    planted = json.loads((SAMPLE / "PLANTED.json").read_text())["dolly_en.jsonl"]
    out = tmp_path / "out.jsonl"
    s = dedup([SAMPLE / "dolly_en.jsonl"], out, key="all", against=[SAMPLE / "eval.jsonl"], **FAST)
    reasons = {r["id"]: r["reason"] for r in rejects_of(out)}
    kept = set(ids(read_jsonl(out)))
    for first, second in planted["exact_duplicates"] + planted["near_duplicates"]:
        assert first in kept and second in reasons, (first, second)
        assert f"duplicate of '{first}'" in reasons[second]
    assert any(r.startswith("near duplicate of") for r in reasons.values())
    # Leaks: the 13-gram / exact-prompt method finds those whose question is the eval question;
    # a reworded question ("What's ..." for "What is ...") is out of reach of lexical overlap.
    found = {rid for rid, r in reasons.items() if r.startswith("contaminated")}
    evals = {json.loads(line)["id"]: json.loads(line) for line in (SAMPLE / "eval.jsonl").read_text().splitlines()}
    train = {r["id"]: r for r in read_jsonl(SAMPLE / "dolly_en.jsonl")}
    from dataforge.dedup.text import normalize

    for rid, eid in planted["eval_leaks"]:
        if normalize(train[rid]["instruction"]) == normalize(evals[eid]["instruction"]):
            assert rid in found and f"'{eid}'" in reasons[rid], (rid, eid)
    assert len(found) >= 3 and found <= {rid for rid, _ in planted["eval_leaks"]}
    # key=all finds exactly what was planted, nothing else
    assert set(reasons) == {b for _, b in planted["exact_duplicates"] + planted["near_duplicates"]} | found
    assert s.rows_in == s.rows_out + s.rejected
