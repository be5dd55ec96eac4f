"""Token estimates without a tokenizer come within 25% of OpenAI's real tokenizers on real text.

The fixture tests/realdata/tokens/samples.jsonl holds held-out real sentences and answers
(lingua-py's test sentences, LLaMA-Factory's alpaca demos) with their real token counts under
o200k_base and cl100k_base, recorded by `bench/bench_tokens.py --fit` with bpe-openai; no
tokenizer is needed here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataforge import tokencount
from dataforge.tokencount import estimate, estimate_one

SAMPLES = Path(__file__).parent / "realdata" / "tokens" / "samples.jsonl"
TARGETS = ("en", "zh", "ja", "ko", "ru", "ar", "hi", "alpaca_en", "alpaca_zh")


def samples(lang: str | None = None) -> list[dict]:
    rows = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if lang is None or r["lang"] == lang]


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
@pytest.mark.parametrize("lang", TARGETS)
def test_estimate_is_within_a_quarter_of_the_real_count(lang, encoding):
    rows = samples(lang)
    assert len(rows) >= 10
    real = sum(r[encoding] for r in rows)
    est = int(estimate([r["text"] for r in rows], encoding).sum())
    assert 0.75 <= est / real <= 1.25, f"{lang}: estimate {est} vs real {real}"


def test_every_language_in_the_fixture_is_within_a_third():
    by_lang: dict[str, list] = {}
    for r in samples():
        by_lang.setdefault(r["lang"], []).append(r)
    assert len(by_lang) >= 70
    for lang, rows in by_lang.items():
        real = sum(r["o200k_base"] for r in rows)
        est = int(estimate([r["text"] for r in rows]).sum())
        assert 0.67 <= est / real <= 1.5, f"{lang}: estimate {est} vs real {real}"


def test_bytes_over_four_was_far_off_for_chinese():
    """The old estimate this replaces (report: UTF-8 bytes / 4) misses Chinese under cl100k_base by far."""
    rows = samples("alpaca_zh")
    real = sum(r["cl100k_base"] for r in rows)
    old = sum(-(-len(r["text"].encode()) // 4) for r in rows)
    assert old / real < 0.75
    assert 0.75 <= estimate([r["text"] for r in rows], "cl100k_base").sum() / real <= 1.25


def test_empty_and_missing_texts_cost_nothing_and_any_text_at_least_one():
    assert estimate(["", None, "a", "。"]).tolist()[:2] == [0, 0]
    assert min(estimate(["a", "。", "\n"]).tolist()) >= 1
    assert estimate_one("") == 0
    assert estimate([]).tolist() == []


def test_batches_do_not_change_the_answer(monkeypatch):
    texts = [r["text"] for r in samples()][:80] + ["", "word " * 50]
    whole = estimate(texts).tolist()
    monkeypatch.setattr(tokencount, "BATCH_CHARS", 50)  # a text per batch, and texts split across none
    assert estimate(texts).tolist() == whole
    assert [estimate_one(t) for t in texts[:20]] == whole[:20]


def test_known_words_cost_less_than_unknown_words_of_the_same_length():
    # "information" is one token in both vocabularies; a made-up word of the same letters is not
    assert estimate_one(" information") < estimate_one(" nfoirmatino")
    assert estimate_one(" information", "cl100k_base") < estimate_one(" nfoirmatino", "cl100k_base")


def test_unknown_encoding_is_named():
    with pytest.raises(ValueError, match="no token rates for 'p50k_base'"):
        estimate(["x"], "p50k_base")


def test_lone_surrogates_do_not_crash():
    assert estimate(["bad \ud800 text"]).tolist()[0] >= 2


def test_report_uses_the_estimate(tmp_path):
    """`report` without --tokenizer: per-field token totals near the real count for Chinese answers."""
    from dataforge.progress import set_quiet
    from dataforge.quality import build_report

    rows = samples("alpaca_zh")
    path = tmp_path / "zh.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"问题 {i}", "output": r["text"]}, ensure_ascii=False) + "\n"
                            for i, r in enumerate(rows)), encoding="utf-8")
    set_quiet(True)
    try:
        report = build_report(str(path))
    finally:
        set_quiet(False)
    total = report["lengths"]["fields"]["output"]["tokens"]["total"]
    real = sum(r["o200k_base"] for r in rows)
    assert 0.75 <= total / real <= 1.25
    assert "o200k_base" in report["lengths"]["token_source"]


def test_format_to_openai_estimates_the_cost_with_it(tmp_path):
    """`format --to openai`: tokens per example near the real count (+ OpenAI's per-message overhead)."""
    from dataforge.formatting import format_dataset
    from dataforge.progress import set_quiet

    rows = samples("zh") + samples("alpaca_zh")
    path = tmp_path / "zh.jsonl"
    path.write_text("".join(json.dumps({"instruction": "翻译", "output": r["text"]}, ensure_ascii=False) + "\n"
                            for r in rows), encoding="utf-8")
    set_quiet(True)
    try:
        s = format_dataset(path, tmp_path / "ft.jsonl", to="openai", epochs=1, price_per_1m_tokens=10.0)
    finally:
        set_quiet(False)
    overhead = 3 + 3 + estimate_one("翻译") + 3 + 3
    real = sum(r["o200k_base"] + overhead for r in rows)
    assert 0.75 <= s.openai.total_tokens / real <= 1.25
    assert s.openai.cost == pytest.approx(s.openai.total_tokens / 1e6 * 10.0)
    assert any("o200k_base" in line for line in s.lines())
