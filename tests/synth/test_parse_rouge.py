"""The parsers accept the asked-for forms and name what is wrong otherwise; ROUGE-L is exact."""

from __future__ import annotations

import random

import pytest

from dataforge.llm import ParseError
from dataforge.synth import parse
from dataforge.synth.rouge import NoveltyPool, lcs_length, rouge_l, tokens


def test_numbered_list_forms():
    text = "Here you go:\n1. First task\n2) Second task\n   that continues\n**3.** Third\nTask 4: Fourth one"
    assert parse.numbered_list(text) == ["First task", "Second task that continues", "Third", "Fourth one"]


@pytest.mark.parametrize("func, text, reason", [
    (parse.numbered_list, "I cannot help with that.", "no numbered list"),
    (lambda t: parse.extract_json(t, list), "no json here", "no JSON array"),
    (lambda t: parse.extract_json(t, dict), '{"a": 1,,}', "invalid JSON"),
    (lambda t: parse.extract_json(t, dict), '[1, 2]', "no JSON object"),
    (parse.qa_pairs, '[{"question": "Why?"}]', "item 1 has no answer"),
    (parse.qa_pairs, '[{"question": "", "answer": "x"}]', "item 1 has no question"),
    (parse.qa_pairs, '["just text"]', "item 1 is not an object"),
    (parse.qa_pairs, "[]", "no question-answer pairs"),
    (parse.labelled, "Instruction:   ", "nothing after 'Instruction:'"),
    (parse.evolved_prompt, "#Rewritten Prompt#:", "holds no prompt"),
    (lambda t: parse.score(t, 1, 5), "Quite good overall.", "no 'Score: N' line"),
    (lambda t: parse.score(t, 1, 5), "Score: 7", "score 7 is not a whole number from 1 to 5"),
    (lambda t: parse.score(t, 1, 5), "Score: 3.5", "score 3.5 is not a whole number"),
    (parse.equal_verdict, "Maybe.", "neither 'Equal' nor 'Different'"),
    (lambda t: parse.judge_scores(t, 2), '{"scores": [3, 4, 5], "rationale": "r"}', "expected 2 scores, got 3"),
    (lambda t: parse.judge_scores(t, 2), '{"scores": [3, 11], "rationale": "r"}', "score 11 is not a number"),
    (lambda t: parse.judge_scores(t, 2), '{"scores": [3, true], "rationale": "r"}', "score True is not"),
    (lambda t: parse.judge_scores(t, 2), '{"scores": [3, 4]}', "no rationale"),
])
def test_malformed_output_is_rejected_with_a_reason(func, text, reason):
    with pytest.raises(ParseError) as info:
        func(text)
    assert reason in info.value.reason


def test_good_forms_parse():
    assert parse.qa_pairs('```json\n[{"question": "Q?", "answer": 42}]\n```') == [("Q?", "42")]
    assert parse.qa_pairs('{"pairs": [{"question": "Q?", "answer": "A"}]}') == [("Q?", "A")]
    assert parse.labelled('Sure.\nInstruction: "Write a poem."') == "Write a poem."
    assert parse.evolved_prompt("#Rewritten Prompt#: Do X with Y.") == "Do X with Y."
    assert parse.evolved_prompt("Rewritten prompt: Do X.") == "Do X."
    assert parse.score("Reasoning... Score: 2\nfinal Score: 4") == 4
    assert parse.equal_verdict("Equal.") is True and parse.equal_verdict("Different") is False
    assert parse.judge_scores('Here: {"scores": [3, 8.5], "rationale": " ok "}', 2) == ([3.0, 8.5], "ok")


def _dp(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def test_bit_parallel_lcs_matches_the_textbook_table():
    rng = random.Random(0)
    for _ in range(500):
        a = [rng.choice("abcd") for _ in range(rng.randint(0, 25))]
        b = [rng.choice("abcd") for _ in range(rng.randint(0, 25))]
        assert lcs_length(a, b) == _dp(a, b)


def test_rouge_l_values_and_tokens():
    assert rouge_l("the cat sat on the mat", "the cat sat on the mat") == 1.0
    assert rouge_l("the cat sat on the mat", "the cat lay on the mat") == pytest.approx(5 / 6)
    assert rouge_l("alpha beta", "gamma delta") == 0.0
    assert tokens("東京 is BIG!") == ["東", "京", "is", "big"]


def test_novelty_pool_rejects_paraphrases_at_the_threshold():
    pool = NoveltyPool(["Write a short poem about the sea."], threshold=0.7)
    novel, score, similar = pool.is_novel("Write a short poem about the ocean.")
    assert not novel and score == pytest.approx(6 / 7) and similar == "Write a short poem about the sea."
    assert pool.is_novel("Explain how vaccines train the immune system.")[0]
