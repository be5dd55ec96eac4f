"""Exact metric values on hand-computed cases: defaults, language codes, boundaries and empty sets.

Each case pins one rule a user's scores depend on (found by `make mutation AREA=eval`: these faults
were planted in dataforge/eval/metrics.py and no test noticed).
"""

from __future__ import annotations

from dataforge.eval.metrics import (
    MIN_LANG_CHARS,
    aggregate,
    chrf,
    detect_language,
    exact_match,
    language_faithful,
    lcs_length,
    normalize_answer,
    row_scores,
    tokens,
)

KOREAN_20 = "안녕하세요 저는 학생입니다 반갑습니다"  # exactly MIN_LANG_CHARS characters, clearly Korean
CHINESE = "今天天气很好，我们去公园散步吧。我们明天再见。"


def test_normalize_drops_symbols_and_articles_by_default_and_joins_with_one_space():
    assert normalize_answer("The  $5 + tax!") == "5 tax"  # "$" and "+" are Unicode symbols (S*), not punctuation
    assert exact_match("$5", "5") == 1.0
    assert normalize_answer("An apple,   the pear") == "apple pear"  # no lang given: English rules


def test_exact_match_applies_the_rows_language_to_both_sides():
    # French keeps "the" as a word: a prediction with it is not the reference without it, either way round
    assert exact_match("the mer", "mer", "fr") == 0.0
    assert exact_match("mer", "the mer", "fr") == 0.0
    # English drops it on both sides
    assert exact_match("cat", "the cat", "en") == 1.0
    assert exact_match("the cat", "cat") == 1.0


def test_tokens_lower_case_and_none():
    assert tokens("Hello World") == ["hello", "world"]
    assert tokens(None) == []
    assert tokens("北京 Ok") == ["北", "京", "ok"]


def test_lcs_length_is_symmetric_and_hand_computed():
    assert lcs_length(list("xab"), list("bxa")) == 2  # "xa"
    assert lcs_length(["a"], ["a", "b"]) == 1  # shorter first: swapped, not lost
    assert lcs_length(list("bxa"), list("xab")) == 2


def test_chrf_of_an_empty_set_is_zero():
    assert chrf([], []) == 0.0


def test_detect_language_boundary_at_min_chars_and_unsure_text():
    assert len(KOREAN_20) == MIN_LANG_CHARS
    assert detect_language(KOREAN_20) == "ko"  # exactly the minimum length is judged
    assert detect_language(KOREAN_20[:-1]) is None  # one character less is not
    assert detect_language("12345678901234567890") is None  # long enough, but no language: not judged
    assert language_faithful("12345678901234567890", "en") is None


def test_language_faithful_compares_base_codes_and_skips_mixed():
    assert language_faithful(CHINESE, "zh-TW") is True  # records may carry a region; langid says zh
    assert language_faithful(CHINESE, "zh") is True
    assert language_faithful(CHINESE, "ja") is False
    assert language_faithful(CHINESE, "mixed") is None
    assert language_faithful(CHINESE, "unknown") is None


def test_row_scores_pass_the_rows_language_and_both_texts():
    assert row_scores("the mer", "mer", "fr", {"exact"}) == {"exact_match": 0.0}
    assert row_scores("cat", "the cat", "en", {"exact"}) == {"exact_match": 1.0}
    assert row_scores("the cat sat", "the cat sat", "en", {"rouge"}) == {"rouge_l": 1.0}
    assert row_scores("a b", "a c", "en", {"rouge"}) == {"rouge_l": 0.5}  # ROUGE keeps articles: LCS "a", P = R = 1/2


def test_aggregate_of_no_rows_is_none_not_zero_or_a_crash():
    assert aggregate([], [], [], {"exact", "rouge", "chrf", "lang"}) == {
        "exact_match": None, "rouge_l": None, "chrf": None, "lang_faithfulness": None, "lang_judged": 0}
