"""Report signals on hand-computed frames: the repetition ratio and its thresholds, empty and blank
fields, the findings they produce (severity, title, count, examples).

Found by `make mutation AREA=quality` (dataforge/quality/repetition.py and lengths.py): faults there
changed these numbers and no test noticed.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dataforge.quality import lengths, repetition


def test_repetition_ratio_hand_computed_and_short_rows_skipped():
    # field rows 5..7 of a chunk starting at row 5: row 5 has 10 n-grams, 4 distinct; row 6 has 9 (too few);
    # row 7 has 12, all distinct
    rows = np.array([5] * 10 + [6] * 9 + [7] * 12)
    hashes = np.array([1, 2, 3, 4, 1, 2, 3, 4, 1, 2] + [9] * 9 + list(range(100, 112)), dtype=np.uint64)
    full = np.arange(rows.size)
    out = repetition.ratios(rows, hashes, full, 5, 3)
    assert out.dtype == np.float32 and out.tolist() == [np.float32(0.6), 0.0, 0.0]
    # `full` picks which n-grams count (a field's own): leaving out two repeats of row 5 changes its ratio
    picked = np.r_[np.arange(8), np.arange(10, 31)]
    assert repetition.ratios(rows, hashes, picked, 5, 3).tolist()[0] == 0.0  # 8 n-grams: too few now
    assert repetition.ratios(rows, np.array([], dtype=np.uint64), full[:0], 5, 3).tolist() == [0.0, 0.0, 0.0]
    assert repetition.MIN_NGRAMS == 10 and repetition.FLAG_AT == 0.3


def test_repetition_section_flags_at_exactly_the_threshold_and_findings():
    frame = pl.DataFrame({"id": ["a", "b", "c", "d"], "output__repetition": [0.3, 0.29, 0.9, 0.0]})
    sec = repetition.section(frame, ["output"])
    info = sec["fields"]["output"]
    assert (sec["ngram"], sec["flag_at"], sec["min_ngrams"]) == (3, 0.3, 10)
    assert info["rows"] == 2 and info["share"] == 0.5 and info["examples"] == ["c", "a"]  # worst first
    assert info["stats"]["count"] == 4 and info["stats"]["max"] == 0.9
    assert sum(info["hist"]["counts"]) == 4 and len(info["hist"]["counts"]) == 20 and info["hist"]["edges"][-1] == 1.0
    [found] = repetition.findings(sec, 4)
    assert (found.code, found.severity, found.title, found.count, found.share, found.examples, found.field) == (
        "repetition:output", "high", "repetitive output in 2 rows", 2, 0.5, ["c", "a"], "output")
    assert found.detail == ("2 rows repeat at least 30% of their word 3-grams (looping generations, pasted"
                            " boilerplate).")
    # severity by the share of rows: 2% high, 0.2% medium
    assert repetition.findings({"fields": {"output": {**info, "rows": 2}}}, 1000)[0].severity == "medium"
    assert repetition.findings({"fields": {"output": {**info, "rows": 1}}}, 1000)[0].severity == "low"
    assert repetition.findings({"fields": {"output": {**info, "rows": 0}}}, 1000) == []


def _frame(**cols):
    n = len(next(iter(cols.values())))
    frame = pl.DataFrame({"id": [f"r{i}" for i in range(n)], **cols})
    frame = lengths.add_char_columns(frame, list(cols))
    for name in cols:  # words and tokens as plain counts for the section
        frame = frame.with_columns(pl.col(name).fill_null("").str.split(" ").list.len().alias(f"{name}__words"),
                                   pl.col(f"{name}__chars").alias(f"{name}__tokens"))
    return frame


def test_char_columns_count_characters_bytes_and_blank():
    frame = lengths.add_char_columns(pl.DataFrame({"output": ["héllo", "", "  \n", None]}), ["output"])
    assert frame["output__chars"].to_list() == [5, 0, 3, 0]
    assert frame["output__bytes"].to_list() == [6, 0, 3, 0]
    assert frame["output__blank"].to_list() == [False, True, True, True]
    assert frame["output__chars"].dtype == pl.UInt32


def test_length_section_counts_empty_and_whitespace_only_apart():
    frame = _frame(output=["abc", "", "  ", "de", None], context=["", "", "", "", ""])
    sec = lengths.section(frame, ["output", "context"], "estimated")
    out = sec["fields"]["output"]
    assert sec["token_source"] == "estimated"
    assert (out["rows"], out["empty"], out["whitespace_only"], out["filled"], out["blank"]) == (5, 2, 1, 2, 3)
    assert (out["filled_share"], out["blank_share"]) == (0.4, 0.6)
    assert out["empty_examples"] == ["r1", "r2", "r4"]
    assert out["chars"]["count"] == 2 and out["chars"]["max"] == 3 and out["chars"]["min"] == 2  # filled only
    assert set(out) >= {"chars_hist", "words_hist", "tokens_hist"}

    found = {f.code: f for f in lengths.findings(sec, 5)}
    assert set(found) == {"empty:output", "field_all_empty:context"}
    empty = found["empty:output"]
    assert (empty.severity, empty.title, empty.count, empty.share, empty.examples) == (
        "high", "empty output in 3 rows", 3, 0.6, ["r1", "r2", "r4"])
    assert empty.detail.startswith("2 empty and 1 whitespace-only values;")
    ctx = found["field_all_empty:context"]  # context may be empty: only noted
    assert (ctx.severity, ctx.title, ctx.count, ctx.share, ctx.examples) == (
        "info", "no row has a context", 5, 1.0, [])


def test_a_required_field_empty_everywhere_is_high():
    frame = _frame(output=["", " "], system=["x", ""])
    sec = lengths.section(frame, ["output", "system"], "")
    found = {f.code: f for f in lengths.findings(sec, 2)}
    assert set(found) == {"field_all_empty:output"}  # system: optional and partly filled, not a finding
    f = found["field_all_empty:output"]
    assert (f.severity, f.title, f.count, f.share, f.examples) == (
        "high", "'output' is empty in every row", 2, 1.0, ["r0", "r1"])
    assert f.detail.startswith("All 2 rows have an empty or whitespace-only output;") and f.section == "fields"


def test_findings_point_at_their_report_section():
    frame = pl.DataFrame({"id": ["a"], "output__repetition": [0.5]})
    [rep] = repetition.findings(repetition.section(frame, ["output"]), 1)
    assert rep.section == "signals"
    sec = lengths.section(_frame(output=["", "x"], context=["", ""]), ["output", "context"], "")
    assert {f.code: f.section for f in lengths.findings(sec, 2)} == {"empty:output": "fields",
                                                                     "field_all_empty:context": "fields"}
    assert {f.code: f.examples for f in lengths.findings(sec, 2)}["empty:output"] == ["r0"]


def test_per_language_histograms_hand_computed():
    n_en, n_de = 21, 20
    texts = ["abc"] * 20 + [""] + ["0123456789"] * 20 + ["zz"] * 20  # one blank English row
    frame = _frame(output=texts).with_columns(pl.Series("row", range(len(texts))), pl.lit("en").alias("lang"))
    labels = pl.DataFrame({"row": list(range(len(texts))),
                           "lang": ["en"] * n_en + ["de"] * n_de + ["too short"] * 20})
    section_data = {"fields": {"output": {"chars_hist": {"edges": [0.0, 5.0, 8.0]}}}}
    out = lengths.by_language(frame, ["output"], labels, section_data)
    assert out == {"output": {
        "en": {"rows": 20, "counts": [20, 0], "overflow": 0, "median": 3},  # the blank row left out
        "de": {"rows": 20, "counts": [0, 0], "overflow": 20, "median": 10},
    }}
    one = labels.with_columns(pl.when(pl.col("lang") == "de").then(pl.lit("too short")).otherwise(pl.col("lang"))
                              .alias("lang"))
    assert lengths.by_language(frame, ["output"], one, section_data) == {}  # one language: nothing to compare
    assert lengths.by_language(frame, ["output"], labels.head(0), section_data) == {}
    assert lengths.MIN_LANG_ROWS == 20 and lengths.TOP_LANGS == 6
