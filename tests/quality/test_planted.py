"""The report finds every problem planted in a small dataset, with the right rows, and nothing in the clean rows."""

from __future__ import annotations

import json

import pytest
from quality_helpers import SECRET, finding, planted_rows, write_jsonl


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    from dataforge.progress import set_quiet
    from dataforge.quality import build_report, render_html

    set_quiet(True)
    path = write_jsonl(tmp_path_factory.mktemp("planted") / "planted.jsonl", planted_rows())
    report = build_report(str(path), max_length=2048)
    set_quiet(False)
    return report, render_html(report)


def test_rows_and_fields(planted):
    r, _ = planted
    assert r["rows"] == {"read": 67, "usable": 67, "rejected": 0}
    out = r["lengths"]["fields"]["output"]
    assert (out["empty"], out["whitespace_only"]) == (1, 1)
    assert set(out["empty_examples"]) == {"empty-1", "blank-1"}
    assert finding(r, "empty:output")["count"] == 2
    assert r["lengths"]["fields"]["context"]["filled"] == sum(1 for x in planted_rows() if x["context"])


def test_exact_and_near_duplicates(planted):
    r, _ = planted
    ex = r["duplicates"]["exact"]
    assert (ex["groups"], ex["removable"]) == (2, 3)
    assert sorted(map(sorted, ex["groups_listed"])) == [["b-003", "dup-1"], ["b-007", "dup-2", "dup-3"]]
    near = r["duplicates"]["near"]
    assert near["clusters_listed"] == [["b-010", "near-1"]]
    pair = near["example_pairs"][0]
    assert {pair["a"], pair["b"]} == {"b-010", "near-1"} and pair["jaccard"] > 0.8
    assert finding(r, "exact_duplicates")["count"] == 3
    assert finding(r, "near_duplicates")["count"] == 1
    # copies of a row repeat its prompt too; the near copy and the edited rows all do
    assert r["duplicates"]["prompts"]["removable"] >= 3


@pytest.mark.parametrize("signal, ids", [
    ("refusal", {"refuse-1"}),
    ("cut_off", {"cut-1", "fence-1"}),
    ("unbalanced_fences", {"fence-1"}),
    ("placeholder", {"ph-1"}),
    ("html", {"html-1"}),
    ("pii", {"pii-1"}),  # docmail-1 writes to example.com, a reserved documentation domain
    ("secret", {"secret-1"}),
])
def test_content_signals_flag_exactly_the_planted_rows(planted, signal, ids):
    r, _ = planted
    info = r["signals"]["signals"][signal]
    assert info["rows"] == len(ids)
    assert set(info["examples"]) == ids
    assert set(finding(r, signal)["examples"]) == ids


def test_repetition_long_rows_and_languages(planted):
    r, _ = planted
    rep = r["repetition"]["fields"]["output"]
    assert rep["rows"] == 1 and rep["examples"] == ["rep-1"]
    ready = r["readiness"]
    assert ready["over_max_length"] == 1 and ready["over_examples"] == ["long-1"]
    assert not ready["tokens_exact"] and "estimated" in finding(r, "over_max_length")["detail"]
    lang = r["languages"]
    assert not lang["sampled"] and "all 67 rows" in lang["method"]
    mm = lang["mismatch"]["output"]
    assert mm["examples"] == ["lang-1"] and mm["pairs"] == [{"instruction": "en", "answer": "de", "count": 1}]
    assert lang["fields"]["output"]["shares"]["en"]["share"] > 0.9


def test_findings_are_ranked_and_link_to_shown_rows(planted):
    r, page = planted
    order = ["high", "medium", "low", "info"]
    ranks = [order.index(f["severity"]) for f in r["findings"]]
    assert ranks == sorted(ranks)
    assert finding(r, "secret")["severity"] == "high"
    for f in r["findings"]:
        for rid in f["examples"]:
            assert rid in r["examples"], f"{f['code']} links to {rid}, which the page does not show"
    assert 'href="#row-' in page


def test_secrets_are_masked_in_html_and_json(planted):
    r, page = planted
    assert SECRET not in page
    assert SECRET not in json.dumps(r)
    assert "sk-a…[redacted]" in r["examples"]["secret-1"]["output"]


def test_every_number_in_the_html_tables_is_in_the_json(planted):
    """Spot-check: the numbers the page prints come from the report dict."""
    r, page = planted
    out = r["lengths"]["fields"]["output"]
    for value in (out["chars"]["p50"], out["chars"]["p99"], out["tokens"]["total"],
                  r["readiness"]["tokens_per_epoch"]):
        assert f"{value:,}" in page
    assert r["languages"]["method"] in page


def test_length_histograms_per_language(report_of):
    from quality_helpers import GERMAN, base_rows

    rows = base_rows(60) + [dict(r, id=f"de-{i}", instruction="Beschreibe bitte kurz, was im Dorf am Fluss passiert.",
                                 response=GERMAN) for i, r in enumerate(base_rows(25, seed=5))]
    report = report_of(rows)
    per = report["lengths"]["by_language"]["output"]
    assert set(per) == {"en", "de"}
    assert per["de"]["rows"] == 25 and per["de"]["median"] == len(GERMAN)
    assert sum(per["en"]["counts"]) + per["en"]["overflow"] == per["en"]["rows"] == 60
