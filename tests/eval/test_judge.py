"""The pairwise judge against a real HTTP server on 127.0.0.1 with scripted verdicts."""

from __future__ import annotations

import pytest
from eval_helpers import fair_judge

from dataforge.errors import ConfigError
from dataforge.eval.judge import JudgeConfig, judge_pairs, parse_verdict
from dataforge.llm.loopback import Scripted

CANARY = "sk-canary-eval-3c1f9a77b2e0"
QUESTIONS = ["Capital of France?", "Capital of Spain?", "Capital of Italy?"]
REFS = ["Paris", "Madrid", "Rome"]
GOOD = ["Paris", "Madrid", "Rome"]
BAD = ["Lyon", "Porto", "Milan"]


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("DF_EVAL_KEY", CANARY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return CANARY


def _config(srv) -> JudgeConfig:
    return JudgeConfig("judge-x", base_url=srv.url, api_key_env="DF_EVAL_KEY", max_retries=1)


def test_position_swap_cancels_a_judge_that_always_says_a(loopback, key):
    srv = loopback(lambda req: "A")
    res = judge_pairs(QUESTIONS, GOOD, BAD, _config(srv), references=REFS, progress=False)
    assert srv.log.total == 6  # every pair asked in both orders
    assert res["win_rate"] == 0.5  # pure position bias: every pair is a tie after the swap
    assert res["position_a_share"] == 1.0
    assert res["inconsistent"] == 3 and res["ties"] == 3 and res["wins"] == 0


def test_a_fair_judge_sees_the_better_model_in_both_positions(loopback, key):
    srv = loopback(fair_judge, api_key=CANARY)  # the server insists on the key from the environment
    good = judge_pairs(QUESTIONS, GOOD, BAD, _config(srv), references=REFS, progress=False)
    assert good["win_rate"] == 1.0 and good["wins"] == 3 and good["inconsistent"] == 0
    assert good["position_a_share"] == 0.5
    bad = judge_pairs(QUESTIONS, BAD, GOOD, _config(srv), references=REFS, progress=False)
    assert bad["win_rate"] == 0.0 and bad["losses"] == 3
    assert [p["verdicts"] for p in good["pairs"]] == [["A", "B"]] * 3


def test_ties_identical_answers_and_bracketed_verdicts(loopback, key):
    # Keyed by which answer sits in position A: the four requests run concurrently and arrive in any order.
    script = Scripted({"[Answer A]\nParis\n": "tie", "[Answer A]\nLyon\n": "tie",
                       "[Answer A]\nRome\n": "Answer: [[A]]", "[Answer A]\nMilan\n": "[[B]] is better"})
    srv = loopback(script)
    cands = ["Paris", "Madrid", "Rome"]
    bases = ["Lyon", "madrid.", "Milan"]  # the second pair is identical once normalised: not sent
    res = judge_pairs(QUESTIONS, cands, bases, _config(srv), references=REFS, progress=False)
    assert srv.log.total == 4 and script.misses == [] and script.unused == []
    assert res["identical"] == 1
    scores = [p["score"] for p in res["pairs"]]
    assert scores == [0.5, 0.5, 1.0]
    assert res["win_rate"] == pytest.approx(2 / 3)


def test_rerun_uses_the_journal_and_keeps_the_key_out(loopback, key, tmp_path):
    srv = loopback(fair_judge)
    journal = tmp_path / "judge.journal.sqlite"
    first = judge_pairs(QUESTIONS, GOOD, BAD, _config(srv), references=REFS, journal=journal, progress=False)
    sent = srv.log.total
    second = judge_pairs(QUESTIONS, GOOD, BAD, _config(srv), references=REFS, journal=journal, progress=False)
    assert srv.log.total == sent  # nothing asked twice
    assert second["win_rate"] == first["win_rate"] == 1.0
    for path in tmp_path.iterdir():
        assert CANARY.encode() not in path.read_bytes()
    assert CANARY not in repr(first)


def test_unparseable_verdicts_are_counted_as_failed_not_guessed(loopback, key):
    srv = loopback(lambda req: "I cannot decide between them.")
    res = judge_pairs(QUESTIONS[:1], GOOD[:1], BAD[:1], _config(srv), references=REFS[:1], progress=False)
    assert res["failed"] == 1 and res["win_rate"] is None
    assert "unparseable" in res["failure_reasons"][0]


def test_parse_verdict_and_missing_model():
    assert parse_verdict("B") == "B"
    assert parse_verdict(" tie.") == "tie"
    assert parse_verdict("[[a]]") == "A"
    with pytest.raises(ConfigError, match="judge needs a model"):
        judge_pairs(["q"], ["a"], ["b"], JudgeConfig(""))
