"""Exact values of the retry rules, rate buckets, usage totals and the circuit breaker at its boundaries.

The jitter comes from a seeded random.Random, so each delay is computed here from the same seed; the
clock is a fake one. Found by `make mutation AREA=llm` (dataforge/llm/limits.py and breaker.py).
"""

from __future__ import annotations

import asyncio
import email.utils
import random

import pytest

from dataforge.errors import ConfigError
from dataforge.llm.breaker import Breaker
from dataforge.llm.limits import Bucket, Prices, RunStats, _k, estimate_tokens, parse_retry_after, retry_delay
from dataforge.llm.types import ChatRequest, LLMError, Usage

CONN = LLMError("connection error: refused", retryable=True, kind="connection")


class Clock:
    def __init__(self, monkeypatch, module):
        self.now = 1000.0
        monkeypatch.setattr(f"{module}.time.monotonic", lambda: self.now)


def test_parse_retry_after_every_form():
    assert parse_retry_after(None) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "-5"}) == 0.0
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "2"}) == 2.0  # bad ms: the other header
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    assert parse_retry_after({"retry-after": "-3"}) == 0.0
    assert parse_retry_after({"retry-after": ""}) is None
    assert parse_retry_after({"retry-after": "whenever"}) is None
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # a date in the past
    future = email.utils.formatdate(2_000_000_000.0, usegmt=True)
    assert parse_retry_after({"retry-after": future}) == pytest.approx(2_000_000_000.0 - __import__("time").time(),
                                                                       abs=5)


def test_retry_delay_from_the_seeded_jitter():
    kw = dict(backoff=1.0, backoff_cap=30.0, max_retry_wait=600.0)
    assert retry_delay(1, 2.0, rng=random.Random(7), **kw) == 2.0 * random.Random(7).uniform(1.0, 1.1)
    assert retry_delay(1, 900.0, rng=random.Random(7), **kw) == 600.0 * random.Random(7).uniform(1.0, 1.1)
    assert retry_delay(1, 0.0, rng=random.Random(7), **kw) == 0.0  # "retry now" is honoured, not backed off
    for retry, step in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0)):  # 1, 2, 4 ... capped at 30
        assert retry_delay(retry, None, rng=random.Random(7), **kw) == step / 2 + random.Random(7).uniform(0, step / 2)


def test_bucket_rate_capacity_refund_and_refusal(monkeypatch):
    with pytest.raises(ConfigError) as info:
        Bucket(0)
    assert info.value.message == "a rate limit must be above 0 (got 0)" and info.value.hint == "e.g. --rpm 500"
    slow, fast = Bucket(30), Bucket(600)
    assert (slow.rate, slow.capacity, slow.tokens) == (0.5, 1.0, 1.0)  # at least one request's worth
    assert (fast.rate, fast.capacity) == (10.0, 10.0)
    fast.tokens = 4.0
    fast.refund(3.0)
    assert fast.tokens == 7.0
    fast.refund(100.0)
    assert fast.tokens == 10.0  # never more than a full bucket


def test_bucket_take_waits_exactly_for_the_missing_tokens(monkeypatch):
    clock = Clock(monkeypatch, "dataforge.llm.limits")
    clock.now = 0.0  # with 8 tokens a second every figure below is exact in binary floating point
    slept = []

    async def fake_sleep(seconds):
        slept.append(seconds)
        clock.now += seconds

    monkeypatch.setattr("dataforge.llm.limits.asyncio.sleep", fake_sleep)
    b = Bucket(480)  # 8 per second, holds 8
    asyncio.run(b.take(8))
    assert b.tokens == 0.0 and slept == []
    asyncio.run(b.take(4))
    assert slept == [0.5] and b.tokens == 0.0
    asyncio.run(b.take(50))  # more than the bucket holds: waits for a full bucket, not forever
    assert slept == [0.5, 1.0] and b.tokens == 0.0
    clock.now += 0.25
    asyncio.run(b.take())  # 2 tokens came back in a quarter second: no wait
    assert slept == [0.5, 1.0] and b.tokens == 1.0


def test_estimates_prices_and_totals():
    req = ChatRequest(messages=[{"role": "user", "content": "x" * 41}, {"role": "system", "content": None}],
                      params={"max_tokens": 7})
    assert estimate_tokens(req) == 10 + 7
    assert estimate_tokens(ChatRequest(messages=[{"role": "user", "content": "abcd"}])) == 1 + 256
    assert Prices(input=2.0, output=8.0).cost(Usage(1_000_000, 500_000)) == 6.0
    stats = RunStats()
    stats.fail("HTTP 500: boom")
    stats.fail("HTTP 500: other")
    stats.fail("timeout")
    assert stats.failed == 3 and stats.reasons == {"HTTP 500": 2, "timeout": 1}
    stats.usage = Usage(1200, 300)
    stats.cost = 0.01234
    assert stats.brief(priced=True) == "1.5k tok $0.0123 · 3 failed"
    stats.retries = 2
    assert stats.brief(priced=False) == "1.5k tok · 3 failed · 2 retries"
    stats.done, stats.cached, stats.sent, stats.batched = 4, 1, 9, 2
    assert stats.line(priced=True).startswith(
        "requests: 4 ok (1 from the journal), 3 failed, 9 HTTP attempts (2 retries), 2 answered through the"
        " Batch API; tokens in 1,200 out 300; est. cost $0.0123; ")
    assert _k(999) == "999" and _k(1000) == "1.0k"


def status(code: int) -> LLMError:
    return LLMError(f"HTTP {code}: no", status=code, retryable=code in (408, 409, 429) or code >= 500)


def test_breaker_probe_interval():
    assert Breaker(seconds=8.0).probe_every() == 2.0
    assert Breaker(seconds=1.0).probe_every() == 0.5
    b = Breaker()
    b.success()
    assert b.probe_every() is None
    assert Breaker(failures=0).failures == 1


def test_breaker_trips_at_exactly_n_failures_and_exactly_the_seconds(monkeypatch):
    clock = Clock(monkeypatch, "dataforge.llm.breaker")
    b = Breaker(failures=3, seconds=8.0)
    assert [b.failure(CONN) for _ in range(3)] == [None, None, None]  # n reached, but not 8 s yet
    clock.now += 7.5
    assert b.failure(CONN) is None
    clock.now += 0.5  # exactly 8 s after the first failure
    assert b.failure(CONN) == "connection"
    b.success()  # a success starts the count over
    clock.now += 100
    assert [b.failure(CONN) for _ in range(3)] == [None, None, None]


def test_breaker_4xx_boundaries(monkeypatch):
    Clock(monkeypatch, "dataforge.llm.breaker")
    for code, counts in ((399, False), (400, True), (499, True), (500, False), (409, False), (429, False)):
        b = Breaker(failures=2)
        results = [b.failure(status(code)) for _ in range(2)]
        assert results == ([None, "status"] if counts else [None, None]), code
    b = Breaker(failures=2)
    assert b.failure(LLMError("bad body", kind="malformed")) is None  # no status: never counted
    assert b.failure(LLMError("bad body", kind="malformed")) is None
    b = Breaker(failures=2)
    b.success()
    assert [b.failure(status(400)) for _ in range(5)] == [None] * 5  # after a success: one row's fault


def test_breaker_after_success_needs_the_long_silence_exactly(monkeypatch):
    clock = Clock(monkeypatch, "dataforge.llm.breaker")
    b = Breaker(failures=2, seconds=8.0, seconds_after_success=60.0)
    b.success()
    clock.now += 10
    assert [b.failure(CONN), b.failure(CONN)] == [None, None]
    clock.now += 59.5  # 69.5 s after the success, 59.5 s after the streak began
    assert b.failure(CONN) is None
    clock.now += 0.5  # exactly 60 s after the first failure of the streak
    assert b.failure(CONN) == "connection"


class _Backend:
    model = "tiny"
    api_key_env = "MY_KEY"

    def describe(self):
        return "tiny at http://127.0.0.1:9/v1"


def test_breaker_errors_say_what_happened(monkeypatch):
    clock = Clock(monkeypatch, "dataforge.llm.breaker")
    b = Breaker(failures=2, seconds=8.0)
    b.failure(CONN)
    clock.now += 9
    assert b.failure(CONN) == "connection"
    err = b.error("connection", LLMError("connection   error:\nrefused", kind="connection"), _Backend())
    assert err.message == ("cannot reach the server (tiny at http://127.0.0.1:9/v1): connection error: refused;"
                           " 2 attempts in a row failed over 9 s and no request has succeeded")
    assert err.hint.startswith("check that the server is running and that --base-url points at it")
    b = Breaker(failures=2)
    b.failure(status(401))
    b.failure(status(401))
    err = b.error("status", status(401), _Backend())
    assert err.message == ("the server (tiny at http://127.0.0.1:9/v1) refused every request: HTTP 401: no"
                           " (2 in a row, none succeeded)")
    assert "the API key in $MY_KEY" in err.hint
    plain = type("B", (), {"model": "m2"})()
    assert "the server (m2) refused" in b.error("status", status(401), plain).message
    assert "$OPENAI_API_KEY" in b.error("status", status(401), plain).hint
