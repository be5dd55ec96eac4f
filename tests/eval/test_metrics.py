"""Metrics on handcrafted pairs whose values were computed by hand."""

from __future__ import annotations

import pytest

from dataforge.eval import metrics as M


@pytest.mark.parametrize("pred, ref, lang, want", [
    ("The Pacific Ocean.", "pacific ocean", "en", 1.0),
    ("  PARIS!! ", "Paris", "en", 1.0),
    ("an apple", "apple", "", 1.0),
    ("Paris, France", "Paris", "en", 0.0),
    ("１４４", "144", "en", 1.0),  # NFKC folds full-width digits
    ("la mer", "mer", "fr", 0.0),  # French articles are words, not dropped
    ("the", "", "en", 1.0),
])
def test_exact_match_normalises(pred, ref, lang, want):
    assert M.exact_match(pred, ref, lang) == want


def test_rouge_l_hand_computed():
    # LCS("the cat sat on the mat", "the cat is on the mat") = 5 of 6 words each side: P = R = F = 5/6
    assert M.rouge_l("the cat sat on the mat", "the cat is on the mat") == pytest.approx(5 / 6)
    # [a b c d] vs [a c e]: LCS = 2 (a, c); P = 2/4, R = 2/3, F = 2PR/(P+R) = 4/7
    assert M.rouge_l("a b c d", "a c e") == pytest.approx(4 / 7)
    # CJK is split per character: [東 京 で す] vs [東 京]: P = 1/2, R = 1, F = 2/3
    assert M.rouge_l("東京です", "東京") == pytest.approx(2 / 3)
    assert M.rouge_l("Paris", "paris.") == 1.0
    assert M.rouge_l("", "x") == 0.0
    assert M.rouge_l("x y", "z") == 0.0


def test_chrf_hand_computed():
    # "abc" vs "abd": 1-grams P=R=2/3, 2-grams 1/2, 3-grams 0; mean P = mean R = 7/18; F(beta=2) = 7/18
    assert M.chrf(["abc"], ["abd"]) == pytest.approx(100 * 7 / 18)
    assert M.chrf_sentence("abc", "abd") == pytest.approx(100 * 7 / 18)
    # corpus level sums the n-gram counts: 1-grams 4/5, 2-grams 2/3, 3-grams 0/1 -> (4/5 + 2/3) / 3
    assert M.chrf(["abc", "xy"], ["abd", "xy"]) == pytest.approx(100 * (4 / 5 + 2 / 3) / 3)
    assert M.chrf(["same text"], ["same text"]) == pytest.approx(100.0)
    assert M.chrf(["xyz"], ["abc"]) == 0.0


def test_language_faithfulness():
    en = "The weather is lovely today and we are going for a long walk in the park."
    fr = "Il fait très beau aujourd'hui et nous allons faire une longue promenade au parc."
    assert M.language_faithful(en, "en") is True
    assert M.language_faithful(fr, "en") is False
    assert M.language_faithful(fr, "fr") is True
    assert M.language_faithful("长城是中国古代修建的军事防御工程，现存的大部分城墙建于明朝。", "zh") is True
    assert M.language_faithful("Oui.", "fr") is None  # too short to judge
    assert M.language_faithful(en, "unknown") is None
    # seeded: the same text gets the same answer every time
    assert len({M.detect_language("Hola, ¿cómo estás? Espero que muy bien hoy.") for _ in range(5)}) == 1


def test_a_chinese_answer_is_judged_chinese_where_plain_langdetect_says_korean():
    # Real rows of LLaMA-Factory's alpaca_zh_demo.json (tests/realdata/langid): seeded langdetect alone
    # calls each of these "ko", which made a faithful Chinese answer count as unfaithful.
    for text in ("比较以下两位著名人物，使用特征列表并以句子形式提供输出。",
                 "用“黎明”、“天空”和“广阔”这三个词组成一个句子。",
                 "1天有24小时，每小时有60分钟，所以24小时有：24 * 60 = 1440 分钟。"):
        assert M.detect_language(text) == "zh", text
        assert M.language_faithful(text, "zh") is True
        assert M.language_faithful(text, "ko") is False


def test_aggregate_leaves_unjudged_rows_out_of_the_share():
    which = {"exact", "rouge", "chrf", "lang"}
    preds = ["Paris", "The weather is lovely today and we go for a walk.", "Il fait très beau aujourd'hui, vraiment."]
    refs = ["Paris", "The weather is nice.", "It is nice today."]
    langs = ["en", "en", "en"]
    rows = [M.row_scores(p, r, lang, which) for p, r, lang in zip(preds, refs, langs)]
    agg = M.aggregate(rows, preds, refs, which)
    assert agg["exact_match"] == pytest.approx(1 / 3)
    assert agg["lang_judged"] == 2  # "Paris" is too short to judge
    assert agg["lang_faithfulness"] == pytest.approx(0.5)
    assert agg["rouge_l"] == pytest.approx(sum(r["rouge_l"] for r in rows) / 3)
    assert agg["chrf"] == pytest.approx(M.chrf(preds, refs))


def test_set_level_chrf_sums_ngram_counts_not_sentence_scores():
    # the hand-computed pair of test_chrf_hand_computed: corpus chrF 48.89; the mean of the
    # sentence scores (38.89 and 100) would be 69.44, which over-weights the short exact row
    preds, refs = ["abc", "xy"], ["abd", "xy"]
    rows = [M.row_scores(p, r, "", {"chrf"}) for p, r in zip(preds, refs)]
    assert [r["chrf"] for r in rows] == [pytest.approx(100 * 7 / 18), pytest.approx(100.0)]
    agg = M.aggregate(rows, preds, refs, {"chrf"})
    assert agg["chrf"] == pytest.approx(100 * (4 / 5 + 2 / 3) / 3)  # 48.89
    assert set(agg) == {"chrf"}


def test_set_level_chrf_matches_sacrebleu_corpus_chrf():
    sacrebleu = pytest.importorskip("sacrebleu")
    preds = ["The cat sat on the mat.", "Le ciel est bleu.", "東京は日本の首都です。", "", "ok"]
    refs = ["A cat was sitting on the mat.", "Le ciel est bleu aujourd'hui.", "日本の首都は東京です。", "empty", "ok"]
    rows = [M.row_scores(p, r, "", {"chrf"}) for p, r in zip(preds, refs)]
    want = sacrebleu.corpus_chrf(preds, [refs]).score
    assert M.aggregate(rows, preds, refs, {"chrf"})["chrf"] == pytest.approx(want, abs=1e-9)
    assert [r["chrf"] for r in rows] == [pytest.approx(sacrebleu.sentence_chrf(p, [r]).score, abs=1e-9)
                                        for p, r in zip(preds, refs)]
    assert want != pytest.approx(sum(r["chrf"] for r in rows) / len(rows), abs=1.0)
