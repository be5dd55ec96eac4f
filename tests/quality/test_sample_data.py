"""The report on sample_data/ flags what sample_data/PLANTED.json says was planted there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from quality_helpers import finding

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
PLANTED = json.loads((SAMPLE / "PLANTED.json").read_text())


def test_dolly_duplicates(report_of):
    report = report_of(SAMPLE / "dolly_en.jsonl", sample=50)  # languages are not the point here
    planted = PLANTED["dolly_en.jsonl"]
    # dedup's normalisation (case, punctuation, whitespace) makes the planted case/punctuation
    # copies exact duplicates; only the reworded copies are near duplicates.
    edits = planted["near_duplicate_edits"]
    folded = [p for p in planted["near_duplicates"] if not edits[p[1]].startswith("word changed")]
    reworded = [p for p in planted["near_duplicates"] if p not in folded]
    assert folded and reworded
    exact = report["duplicates"]["exact"]
    assert sorted(map(sorted, exact["groups_listed"])) == sorted(map(sorted, planted["exact_duplicates"] + folded))
    near = report["duplicates"]["near"]
    assert sorted(map(sorted, near["clusters_listed"])) == sorted(map(sorted, reworded))
    # the report says exactly what `dedup` with defaults would remove: one row per pair
    assert report["duplicates"]["dedup"]["exact"] == len(planted["exact_duplicates"]) + len(folded)
    assert report["duplicates"]["dedup"]["near"] == len(reworded)
    assert finding(report, "exact_duplicates") is not None
    assert finding(report, "near_duplicates") is not None
    # no false alarms on this clean, hand-written data
    assert all(s["rows"] == 0 for s in report["signals"]["signals"].values())


def test_bad_rows_are_listed_and_the_empty_instruction_is_flagged(report_of):
    planted = PLANTED["bad_rows.jsonl"]
    report = report_of(SAMPLE / "bad_rows.jsonl")
    # The report keeps rows with empty text to measure them, so "empty instruction" is a
    # finding about a row rather than a rejected line; every other bad line is rejected.
    empty_line = next(int(k) for k, why in planted["why"].items() if "empty instruction" in why)
    rejected_lines = sorted(set(planted["bad_lines"]) - {empty_line})
    assert report["rows"]["rejected"] == len(rejected_lines)
    assert sorted(e["line"] for e in report["rejects"]["examples"]) == rejected_lines
    assert report["rows"]["usable"] == len(planted["good_lines"]) + 1
    assert finding(report, "rejected_rows")["severity"] == "high"
    assert finding(report, "empty:instruction")["examples"] == ["bad-06"]


def test_multilingual_language_mismatches(report_of):
    planted = set(PLANTED["multilingual.jsonl"]["language_mismatch"])
    report = report_of(SAMPLE / "multilingual.jsonl")
    mismatch = report["languages"]["mismatch"]["output"]
    assert planted <= set(mismatch["ids_listed"])
    assert mismatch["count"] <= len(planted) + 1  # langdetect may misread one short list-like answer
    assert set(finding(report, "language_mismatch:output")["examples"]) == set(mismatch["ids_listed"])
    assert planted <= set(report["languages"]["declared"]["ids_listed"])
    assert len(report["languages"]["fields"]["output"]["shares"]) >= 6


@pytest.fixture(scope="module")
def preference(tmp_path_factory):
    from dataforge.progress import set_quiet
    from dataforge.quality import build_report

    set_quiet(True)
    try:
        return build_report(str(SAMPLE / "preference.jsonl"))
    finally:
        set_quiet(False)


def test_preference_problems(preference):
    planted = PLANTED["preference.jsonl"]
    p = preference["preference"]
    assert p["identical"]["count"] == len(planted["identical"])
    assert set(p["identical"]["examples"]) == set(planted["identical"])
    assert set(p["near_identical"]["examples"]) == set(planted["near_identical"])
    empty = set(preference["lengths"]["fields"]["chosen"]["empty_examples"]) | set(
        preference["lengths"]["fields"]["rejected"]["empty_examples"])
    assert empty == set(planted["empty"])
    shared = set(p["repeated_prompts"]["examples"])
    assert p["repeated_prompts"]["prompts"] == len(planted["duplicated_prompts"])
    assert shared <= {i for pair in planted["duplicated_prompts"] for i in pair}
    lb = p["length_bias"]
    assert lb["share_chosen_longer"] > 0.65 and finding(preference, "length_bias") is not None
    for code in ("preference_identical", "preference_near_identical", "empty:chosen", "empty:rejected"):
        assert finding(preference, code) is not None, code
