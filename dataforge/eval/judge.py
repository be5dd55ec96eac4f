"""Pairwise LLM judge: is the fine-tuned answer better than the base model's?

Each pair is judged twice with the answers in both positions (candidate as A,
then as B), because judges favour one position; the two verdicts are
averaged, so a judge that always answers "A" scores every pair a tie (0.5).
Per pair the candidate scores 1 (better), 0.5 (tie) or 0 (worse) in each
order; the win rate is the mean over pairs. Identical answers are a tie
without asking. Requests go through the LLM layer (`dataforge.llm`): any
OpenAI-compatible server, retried, journaled (a rerun asks only what is
missing) and with the API key kept out of every output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dataforge.errors import ConfigError

SYSTEM = ("You are an impartial judge of answers to a user's request. Compare the two answers for correctness, "
          "helpfulness and whether they answer in the language of the request. Ignore their length and "
          "their order. Reply with exactly one of: A, B, tie.")
USER = """[Request]
{question}
{reference}
[Answer A]
{a}
[End of answer A]

[Answer B]
{b}
[End of answer B]

Which answer is better? Reply with exactly one of: A, B, tie."""
_VERDICT = re.compile(r"\[\[\s*(A|B|tie)\s*\]\]|^\W*(A|B|tie)\b", re.IGNORECASE)


@dataclass
class JudgeConfig:
    """Which server judges: `model` on `base_url` (or $OPENAI_BASE_URL), key from $`api_key_env`."""

    model: str
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    timeout: float = 120.0
    max_tokens: int = 16
    max_retries: int = 6
    show_reference: bool = True  # give the judge the reference answer too


def parse_verdict(content: str, request=None) -> str:
    """'A', 'B' or 'tie' from the judge's reply; ParseError (asked again once) otherwise."""
    from dataforge.llm import ParseError

    m = _VERDICT.search((content or "").strip())
    if not m:
        raise ParseError(f"expected A, B or tie, got {content[:40]!r}")
    word = (m.group(1) or m.group(2)).lower()
    return "tie" if word == "tie" else word.upper()


def judge_messages(question: str, a: str, b: str, reference: str | None = None) -> list[dict]:
    ref = f"\n[Reference answer]\n{reference}\n" if reference else ""
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": USER.format(question=question, reference=ref, a=a, b=b)}]


def _score(verdict: str | None, candidate_pos: str) -> float | None:
    if verdict is None:
        return None
    if verdict == "tie":
        return 0.5
    return 1.0 if verdict == candidate_pos else 0.0


def judge_pairs(questions: list[str], candidates: list[str], baselines: list[str], config: JudgeConfig, *,
                references: list[str] | None = None, journal: str | Path | None = None,
                progress: bool = True) -> dict:
    """Win rate of `candidates` over `baselines`, position-swapped; per-pair details in "pairs"."""
    from dataforge.eval.metrics import normalize_answer
    from dataforge.llm import ChatRequest, RunPolicy, open_backend, run_requests

    if not config.model:
        raise ConfigError("the judge needs a model name", "pass --judge-model NAME (served at --judge-base-url)")
    n = len(questions)
    references = references or [None] * n
    params = {"temperature": 0, "max_tokens": config.max_tokens}
    requests, asked = [], []
    for i in range(n):
        if normalize_answer(candidates[i]) == normalize_answer(baselines[i]):
            continue
        ref = references[i] if config.show_reference else None
        requests.append(ChatRequest(judge_messages(questions[i], candidates[i], baselines[i], ref), params=params,
                                    tag=(i, "A")))
        requests.append(ChatRequest(judge_messages(questions[i], baselines[i], candidates[i], ref), params=params,
                                    tag=(i, "B")))
        asked.append(i)
    verdicts: dict[tuple[int, str], str | None] = {}
    failures: list[str] = []
    if requests:
        backend = open_backend("openai", model=config.model, base_url=config.base_url,
                               api_key_env=config.api_key_env, timeout=config.timeout,
                               concurrency=config.concurrency)
        policy = RunPolicy(concurrency=config.concurrency, timeout=config.timeout, max_retries=config.max_retries)
        for r in run_requests(requests, backend, journal, validate=parse_verdict, policy=policy,
                              progress=progress, description="judge"):
            verdicts[r.tag] = r.value if r.ok else None
            if not r.ok:
                failures.append(r.reason or "failed")
    pairs, scores = [], []
    wins = losses = ties = inconsistent = failed = identical = 0
    said_a = said = 0
    asked_set = set(asked)
    for i in range(n):
        if i not in asked_set:
            identical += 1
            ties += 1
            scores.append(0.5)
            pairs.append({"verdicts": None, "score": 0.5, "outcome": "identical"})
            continue
        v1, v2 = verdicts.get((i, "A")), verdicts.get((i, "B"))
        s1, s2 = _score(v1, "A"), _score(v2, "B")
        for v in (v1, v2):
            if v is not None:
                said += 1
                said_a += v == "A"
        if s1 is None or s2 is None:
            failed += 1
            pairs.append({"verdicts": [v1, v2], "score": None, "outcome": "failed"})
            continue
        score = (s1 + s2) / 2
        scores.append(score)
        outcome = "win" if score > 0.5 else "loss" if score < 0.5 else "tie"
        wins, losses, ties = wins + (outcome == "win"), losses + (outcome == "loss"), ties + (outcome == "tie")
        if {s1, s2} == {0.0, 1.0}:
            inconsistent += 1  # each order preferred whichever answer sat in the same position
        pairs.append({"verdicts": [v1, v2], "score": score, "outcome": outcome})
    return {
        "judge_model": config.model, "pairs_total": n, "judged": len(scores), "win_rate": (sum(scores) / len(scores))
        if scores else None, "wins": wins, "losses": losses, "ties": ties, "identical": identical,
        "inconsistent": inconsistent, "failed": failed, "position_a_share": said_a / said if said else None,
        "requests": len(requests), "failure_reasons": sorted(set(failures))[:5], "pairs": pairs,
    }
