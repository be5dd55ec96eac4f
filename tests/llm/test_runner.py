"""run_requests against the loopback server through the real openai client: faults, retries, validation."""

from __future__ import annotations

import collections
import time

import pytest

from dataforge.errors import ConfigError
from dataforge.llm import ChatRequest, LLMSession, ParseError, Prices, RunPolicy, run_requests
from dataforge.llm.loopback import Fault, Latency
from dataforge.llm.openai_backend import OpenAIBackend


def backend_for(srv, timeout=5.0):
    return OpenAIBackend("m", base_url=srv.url, api_key_env="DF_TEST_KEY", timeout=timeout)


def requests(n, **params):
    return [ChatRequest([{"role": "user", "content": f"q{i}"}], params={"max_tokens": 16, **params}, tag=i)
            for i in range(n)]


def policy(**kw):
    return RunPolicy(**{"concurrency": 16, "backoff": 0.01, "backoff_cap": 0.05, **kw})


def content_of(req):
    return req["messages"][-1]["content"]


def test_no_row_lost_or_duplicated_under_every_fault(loopback, api_key, tmp_path):
    faults = {Fault.rate_limit(None, retry_after_ms=20): 0.08, "500": 0.05, "drop": 0.04, Fault.slow(3.0): 0.02,
              "malformed": 0.04, "length": 0.04, "empty": 0.04}
    srv = loopback(lambda req: f"answer {content_of(req)}", faults=faults, latency=Latency.lognormal(0.01), seed=7)
    run = dict(policy=policy(concurrency=32, max_retries=10), progress=False)
    results = run_requests(requests(200), backend_for(srv, timeout=0.5), tmp_path / "j.sqlite", **run)
    assert [r.tag for r in results] == list(range(200))
    # a good answer is the right one; a bad one (truncated or empty twice in a row) says so
    for i, r in enumerate(results):
        assert r.value == f"answer q{i}" if r.ok else r.reason in (
            "truncated: finish_reason=length at max_tokens=32", "empty completion")
    # every fault kind happened, and no request got a second good answer
    assert {"429", "500", "drop", "slow", "malformed", "200:length", "200:empty"} <= set(srv.log.statuses)
    assert max(srv.log.completed.values()) == 1
    assert srv.log.total > 200
    # a rerun sends only the failed ones again
    done = {r.key for r in results if r.ok}
    before = dict(srv.log.received)
    again = run_requests(requests(200), backend_for(srv, timeout=0.5), tmp_path / "j.sqlite", **run)
    assert {r.key for r in again if r.cached} == done
    assert all(srv.log.received[k] == before[k] for k in done)


def test_sliding_window_does_not_wait_for_the_slowest(loopback, api_key):
    slow = {f"q{i}" for i in range(0, 20, 4)}  # one slow request in each of the first five groups of 4
    srv = loopback(lambda req: Fault.slow(1.0, "slow one") if content_of(req) in slow else "fast")
    srv.latency = Latency.constant(0.05)
    with LLMSession(backend_for(srv), policy=policy(concurrency=4), progress=False) as session:
        session.run([ChatRequest([{"role": "user", "content": "warm-up"}])])  # the client's lazy imports
        start = time.monotonic()
        results = session.run(requests(60))
        elapsed = time.monotonic() - start
    assert all(r.ok for r in results)
    # batches of 4 waiting for their slowest: 5 x 1.05 s + 10 x 0.05 s = 5.75 s;
    # the window spreads the work over 4 workers: (5 x 1.05 + 55 x 0.05) / 4 = 2 s
    assert elapsed < 4.0, elapsed
    assert srv.log.max_in_flight == 4


def test_retry_after_is_honoured_including_ms_and_capped(loopback, api_key):
    seen = collections.defaultdict(list)

    def reply(req, attempt):
        seen[content_of(req)].append(time.monotonic())
        if attempt == 0:
            return {"q0": Fault.rate_limit(0.6), "q1": Fault.rate_limit(None, retry_after_ms=300),
                    "q2": Fault.rate_limit(3600)}.get(content_of(req), "ok")
        return "ok"

    srv = loopback(reply)
    results = run_requests(requests(3), backend_for(srv), policy=policy(max_retry_wait=0.8), progress=False)
    assert all(r.ok for r in results)
    waits = {k: v[1] - v[0] for k, v in seen.items()}
    assert 0.6 <= waits["q0"] < 1.6
    assert 0.3 <= waits["q1"] < 1.3
    assert 0.8 <= waits["q2"] < 1.8  # an hour asked, the 0.8 s cap honoured


def test_4xx_other_than_408_409_429_is_not_retried(loopback, api_key):
    srv = loopback(lambda req: Fault.error(400, "context too long") if content_of(req) == "q1" else "ok")
    results = run_requests(requests(3), backend_for(srv), policy=policy(), progress=False)
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].reason == "HTTP 400: context too long"
    assert srv.log.received[results[1].key] == 1


def test_5xx_retries_stop_at_max_retries(loopback, api_key):
    srv = loopback(lambda req: Fault.server_error(503))
    [result] = run_requests(requests(1), backend_for(srv), policy=policy(max_retries=3), progress=False)
    assert not result.ok and result.reason.startswith("HTTP 503") and "after 4 attempts" in result.reason
    assert srv.log.total == 4


def test_length_is_retried_with_a_larger_limit_then_rejected(loopback, api_key):
    def reply(req):
        if content_of(req) == "q0":
            return "complete" if req["max_tokens"] >= 32 else Fault.length()
        return Fault.length()

    srv = loopback(reply)
    ok, bad = run_requests(requests(2), backend_for(srv), policy=policy(), progress=False)
    assert ok.ok and ok.value == "complete"
    assert not bad.ok and bad.reason == "truncated: finish_reason=length at max_tokens=32"
    assert bad.content == "a truncated ans"  # kept for the rejects file, never as a good row


def test_empty_and_content_filtered_answers_are_rejected(loopback, api_key):
    srv = loopback(lambda req: Fault.empty() if content_of(req) == "q0" else Fault.content_filter())
    empty, filtered = run_requests(requests(2), backend_for(srv), policy=policy(), progress=False)
    assert (empty.ok, empty.reason, empty.attempts) == (False, "empty completion", 2)
    assert (filtered.ok, filtered.reason, filtered.attempts) == (False, "content filtered: finish_reason=content_filter", 1)


def test_validator_failure_is_asked_again_once_then_rejected(loopback, api_key):
    srv = loopback(lambda req, attempt: "42" if content_of(req) == "q0" and attempt == 1 else "not a number")

    def number(text, _req):
        if not text.isdigit():
            raise ParseError(f"'{text}' is not a number")
        return int(text)

    good, bad = run_requests(requests(2), backend_for(srv), validate=number, policy=policy(), progress=False)
    assert good.ok and good.value == 42 and good.attempts == 2
    assert not bad.ok and bad.reason == "unparseable output: 'not a number' is not a number"


def test_journal_resumes_done_requests_and_retries_failed_ones(loopback, api_key, tmp_path):
    broken = {"q3", "q7"}
    srv = loopback(lambda req: Fault.error(400, "bad") if content_of(req) in broken else f"a {content_of(req)}")
    journal = tmp_path / "out.jsonl.journal.sqlite"
    first = run_requests(requests(10), backend_for(srv), journal, policy=policy(), progress=False)
    assert sum(r.ok for r in first) == 8
    received = dict(srv.log.received)
    broken.clear()
    second = run_requests(requests(10), backend_for(srv), journal, policy=policy(), progress=False)
    assert all(r.ok for r in second)
    assert sum(r.cached for r in second) == 8
    resent = {k for k, n in srv.log.received.items() if n > received.get(k, 0)}
    assert resent == {first[3].key, first[7].key}
    # --fresh forgets the journal; new params are new requests
    run_requests(requests(10), backend_for(srv), journal, policy=policy(), fresh=True, progress=False)
    assert all(srv.log.received[r.key] >= 2 for r in first)
    changed = run_requests(requests(10, temperature=0.1), backend_for(srv), journal, policy=policy(), progress=False)
    assert not any(r.cached for r in changed)


def test_identical_requests_in_flight_are_sent_once(loopback, api_key):
    srv = loopback(latency=0.05)
    same = [ChatRequest([{"role": "user", "content": "same"}], params={"max_tokens": 8}, tag=i) for i in range(10)]
    results = run_requests(same, backend_for(srv), policy=policy(concurrency=10), progress=False)
    assert all(r.ok and r.value == "echo: same" for r in results)
    assert srv.log.total == 1


def test_token_budget_stops_sending_and_says_why(loopback, api_key):
    srv = loopback(lambda req: "one two three four five")  # 5 completion + 1 prompt tokens each
    with LLMSession(backend_for(srv), policy=policy(concurrency=1, max_tokens=30), progress=False) as session:
        results = session.run(requests(20))
        assert session.stopped.startswith("--max-tokens 30 reached")
    sent = [r for r in results if r.sent]
    assert len(sent) == 5 and all(r.ok for r in sent)
    assert all(r.reason == f"not sent: {session.stopped}" for r in results if not r.sent)
    assert srv.log.total == 5


def test_cost_budget_needs_prices_and_stops(loopback, api_key):
    with pytest.raises(ConfigError, match="--max-cost needs prices"):
        RunPolicy(max_cost=1.0)
    srv = loopback(lambda req: "x " * 1000)
    pol = policy(concurrency=1, max_cost=0.05, prices=Prices(input=0, output=10.0))  # $0.01 per answer
    with LLMSession(backend_for(srv), policy=pol, progress=False) as session:
        results = session.run(requests(10))
        assert session.stats.cost == pytest.approx(0.05)
    assert sum(r.sent for r in results) == 5


def test_rpm_limit_spaces_requests(loopback, api_key):
    srv = loopback()
    start = time.monotonic()
    run_requests(requests(20), backend_for(srv), policy=policy(rpm=600), progress=False)  # 10/s, burst 10
    assert time.monotonic() - start >= 0.9


def test_unauthorized_stops_the_run_with_a_hint(loopback, api_key):
    srv = loopback(api_key="another-key")
    with pytest.raises(ConfigError) as info:
        run_requests(requests(50), backend_for(srv), policy=policy(concurrency=2), progress=False)
    assert "HTTP 401" in info.value.message and "--api-key-env" in info.value.hint
    assert srv.log.total < 50
    assert api_key not in str(info.value) + info.value.hint


def test_canary_key_never_reaches_results_journal_or_errors(loopback, api_key, tmp_path):
    def leaky(req, attempt):  # a server that echoes the Authorization header back
        auth = srv.log.auth and next(iter(srv.log.auth))
        if content_of(req) == "q0":
            return Fault.error(400, f"bad key {auth}")
        if content_of(req) == "q1" and attempt == 0:
            return Fault.server_error(500, f"upstream said {auth}")
        return f"your key is {auth}"

    srv = loopback(leaky)
    journal = tmp_path / "j.sqlite"
    results = run_requests(requests(4), backend_for(srv), journal, policy=policy(), progress=False)
    assert f"Bearer {api_key}" in srv.log.auth  # the key was really sent
    text = repr([(r.reason, r.content, r.value) for r in results])
    assert api_key not in text and "***" in text
    for path in tmp_path.iterdir():
        assert api_key.encode() not in path.read_bytes()
