"""The parts under the report: intervals, n-grams, signal patterns, the language sample."""

from __future__ import annotations

import time

import polars as pl
import pytest
from quality_helpers import base_rows

from dataforge.quality.ngrams import chunks
from dataforge.quality.stats import describe, histogram, wilson


def test_ngrams_ignore_case_punctuation_and_spacing():
    frame = pl.DataFrame({"t": ["Hello, World!  How are you?", "hello world how ARE you", "", "one", "a b"]})
    part = next(chunks(frame, ["t"]))["t"]
    assert part.words.tolist() == [5, 5, 0, 1, 2]
    by_row = [sorted(part.hashes[part.rows == i].tolist()) for i in range(5)]
    assert by_row[0] == by_row[1] and len(by_row[0]) == 3
    assert by_row[2] == [] and len(by_row[3]) == 1 and len(by_row[4]) == 1


def test_wilson_interval():
    low, high = wilson(50, 100)
    assert low < 0.5 < high and high - low == pytest.approx(0.19, abs=0.01)
    assert wilson(0, 200)[0] == 0.0 and wilson(0, 200)[1] > 0
    assert wilson(200, 200)[1] == 1.0
    narrow = wilson(500, 1000, population=1100)  # most of the population seen: narrower
    assert narrow[1] - narrow[0] < (wilson(500, 1000)[1] - wilson(500, 1000)[0]) / 2
    assert wilson(30, 100, population=100) == (0.3, 0.3)  # a census is exact


def test_describe_and_histogram():
    d = describe([1, 2, 3, 4, 100])
    assert (d["count"], d["min"], d["p50"], d["max"], d["total"]) == (5, 1, 3, 100, 110)
    h = histogram(list(range(1000)) + [10**6])
    assert sum(h["counts"]) + h["overflow"] == 1001 and h["overflow"] >= 1
    assert describe([])["count"] == 0 and histogram([])["counts"] == [0]


@pytest.mark.parametrize("text, cut", [
    ("The committee met on Monday and, after a long debate about the budget, decided that the new "
     "bridge across the river would", True),
    ("The committee met on Monday and, after a long debate about the budget, decided that the new "
     "bridge across the river would be built.", False),
    ("Dear Ms Okafor,\n\nThank you for a wonderful year. You made maths feel like a puzzle instead of "
     "a chore.\n\nWith gratitude,\nLena", False),  # a sign-off is not a cut
    ("Here are the steps you need to follow to set this up on your computer today:\n- open the "
     "settings\n- choose the network tab", False),  # nor a list
    ("Sort these messages by topic for the support team, please, as quickly as you can manage it:\n"
     '"I was charged twice this month.": billing', False),  # nor a label
])
def test_cut_off_heuristic(report_of, text, cut):
    row = dict(base_rows(1)[0], response=text)
    report = report_of([row])
    assert report["signals"]["signals"]["cut_off"]["rows"] == int(cut)


@pytest.mark.parametrize("text, signal, hit", [
    ("Als KI-Sprachmodell kann ich dabei nicht helfen, aber hier ist eine Idee.", "refusal", True),
    ("En tant qu'IA, je ne peux pas répondre à cette question personnelle.", "refusal", True),
    ("作为一个人工智能，我无法提供这方面的建议。", "refusal", True),
    ("The model card describes an AI system trained on public text.", "refusal", False),
    ("Call me at +44 20 7946 0958 tomorrow morning about the invoice.", "pii", True),
    ("The server at 192.168.10.24 answered within two seconds.", "pii", True),
    ("Version 3.12 of the library fixed the 42 open issues in 2023.", "pii", False),
    ("Use `{name}` in the f-string to insert the value.", "placeholder", False),  # code, not a template
    ("Hello [Your Name], welcome aboard!", "placeholder", True),
    ("Expand ${HOME} and ${USER} before calling the script.", "placeholder", False),
    ("AKIAIOSFODNN7EXAMPLE is the key id in the docs.", "secret", True),
])
def test_signal_patterns(report_of, text, signal, hit):
    row = dict(base_rows(1)[0], response=text)
    assert report_of([row])["signals"]["signals"][signal]["rows"] == int(hit)


def _frame(rows):
    return pl.DataFrame({"row": list(range(len(rows))), "id": [r["id"] for r in rows], "lang": [""] * len(rows),
                         "instruction": [r["instruction"] for r in rows],
                         "output": [r["response"] for r in rows]}).with_columns(pl.col("row").cast(pl.UInt32))


def _sampler_run(rows, sample, expected, workers, offer_every=10):
    from dataforge.quality.languages import LanguageSampler

    s = LanguageSampler(("instruction", "output"), ("output",), sample=sample, expected_rows=expected,
                        workers=workers, parallel_from=10, batch=5)
    for start in range(0, len(rows), offer_every):
        part = rows[start:start + offer_every]
        s.offer(start, {"instruction": [r["instruction"] for r in part], "output": [r["response"] for r in part]})
    if workers:  # let the workers answer everything, so the test is about their results, not the main's
        deadline = time.monotonic() + 60
        while len(s.pool._done) < len(s.pool.batches) and time.monotonic() < deadline:
            time.sleep(0.05)
    return s, s.finish(_frame(rows))


@pytest.mark.parametrize("expected", [None, 60, 200, 1000])  # unknown, too low, right, too high
def test_language_sample_is_exactly_sample_rows_whatever_the_estimate(expected):
    rows = base_rows(200)
    _, (data, labels) = _sampler_run(rows, 30, expected, workers=0)
    assert data["sampled"] and data["rows_checked"] == 30 and labels.height == 30
    assert data["fields"]["output"]["counts"]["en"] == 30
    assert "uniform random sample of 30 of 200 rows" in data["method"]


def test_language_sample_is_reproducible_and_workers_agree_with_in_process():
    rows = base_rows(40)
    rows[7]["response"] = rows[8]["response"] = ("Der alte Fluss fließt langsam durch das stille Tal, und die "
                                                 "Menschen im Dorf hören das Wasser.")
    s1, (inline, lab1) = _sampler_run(rows, 40, 40, workers=0)
    s2, (pooled, lab2) = _sampler_run(rows, 40, 40, workers=2)
    assert s1.pool.workers == 0 and s2.pool.workers == 2
    assert sorted(b for w in s2.pool._workers for b in w.sent) == list(range(len(s2.pool.batches)))
    assert all(w.sent for w in s2.pool._workers), "both workers got batches"
    assert lab1.equals(lab2) and inline["fields"] == pooled["fields"]
    assert pooled["during_read"] and not pooled["sampled"]
    assert set(pooled["mismatch"]["output"]["ids_listed"]) == {"b-007", "b-008"}


def test_language_detection_reads_the_script_first():
    from dataforge.quality.langpool import detect_batch

    got = detect_batch(["识别并解释给定列表中的两个科学理论：细胞理论和日心说。", "输入三支篮球队的名称",
                        "東京に行く", "서울에 간다", "", "OK",
                        "Der alte Fluss fließt langsam durch das stille Tal, und die Menschen hören das Wasser."])
    assert [g[0] for g in got] == ["zh", "zh", "ja", "ko", "empty", "too short", "de"]
    assert [g[2] for g in got] == [True, True, True, True, False, False, True]  # sure: by script, or corroborated


def test_language_mismatch_is_flagged_only_between_sure_answers(report_of):
    rows = base_rows(20)
    # langdetect calls this short German answer Dutch; its German function words say otherwise: not flagged
    rows[3].update(instruction="Wo mündet der Rhein?", context="", response="In den Niederlanden, in die Nordsee.")
    rows[5].update(instruction="Explique ce qu'est la photosynthèse en une phrase simple, s'il te plaît.",
                   context="", response="Die Photosynthese ist der Vorgang, bei dem Pflanzen mithilfe von "
                                        "Lichtenergie aus Kohlendioxid und Wasser Zucker bilden.")
    mismatch = report_of(rows)["languages"]["mismatch"]["output"]
    assert mismatch["ids_listed"] == ["b-005"]
    assert mismatch["pairs"] == [{"instruction": "fr", "answer": "de", "count": 1}]
