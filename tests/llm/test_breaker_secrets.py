"""The circuit breaker's rule, and API keys: read clean, refused when broken, scrubbed in every spelling."""

from __future__ import annotations

import json
import socket
import time

import pytest

from dataforge.errors import ConfigError
from dataforge.llm import ChatRequest, RunPolicy, ServerUnusable, run_requests
from dataforge.llm.breaker import Breaker
from dataforge.llm.loopback import Fault
from dataforge.llm.openai_backend import OpenAIBackend
from dataforge.llm.secrets import Redactor, read_api_key
from dataforge.llm.types import LLMError

CONN = LLMError("connection error: refused", retryable=True, kind="connection")


def status(code: int, message: str = "no") -> LLMError:
    return LLMError(f"HTTP {code}: {message}", status=code, retryable=code in (408, 409, 429) or code >= 500)


class Clock:
    def __init__(self, monkeypatch):
        self.now = 1000.0
        monkeypatch.setattr("dataforge.llm.breaker.time.monotonic", lambda: self.now)


def test_before_any_success_connection_failures_trip_after_n_attempts_and_some_seconds(monkeypatch):
    clock = Clock(monkeypatch)
    breaker = Breaker(failures=8, seconds=8.0)
    for _ in range(20):  # many at once (a window of requests refused together): not yet
        assert breaker.failure(CONN) is None
    clock.now += 8.0
    assert breaker.failure(CONN) == "connection"


def test_a_request_giving_up_trips_once_n_attempts_failed(monkeypatch):
    Clock(monkeypatch)
    breaker = Breaker(failures=3, seconds=60)
    assert breaker.failure(CONN, gave_up=True) is None  # one request with --max-retries 0: not enough
    assert breaker.failure(CONN, gave_up=True) is None
    assert breaker.failure(CONN, gave_up=True) == "connection"


def test_the_same_4xx_n_times_in_a_row_trips_but_not_mixed_or_retryable_ones(monkeypatch):
    Clock(monkeypatch)
    breaker = Breaker(failures=3)
    assert [breaker.failure(status(400)) for _ in range(2)] == [None, None]
    assert breaker.failure(status(422)) is None  # another status starts over
    assert [breaker.failure(status(400)) for _ in range(2)] == [None, None]
    assert all(breaker.failure(status(429)) is None for _ in range(10))  # busy, not refusing
    assert all(breaker.failure(status(503)) is None for _ in range(10))
    assert breaker.failure(status(400)) == "status"


def test_after_a_success_only_a_server_gone_for_a_long_while_trips(monkeypatch):
    clock = Clock(monkeypatch)
    breaker = Breaker(failures=3, seconds=1, seconds_after_success=60)
    breaker.success()
    assert all(breaker.failure(status(400)) is None for _ in range(50))  # rows can be refused one by one
    for _ in range(10):
        clock.now += 5
        assert breaker.failure(CONN) is None  # 50 s without an answer: not yet
    breaker.success()  # it answered again: start over
    clock.now += 30
    assert breaker.failure(CONN) is None
    clock.now += 61
    assert [breaker.failure(CONN) for _ in range(2)] == [None, "connection"]


def requests(n):
    return [ChatRequest([{"role": "user", "content": f"q{i}"}], params={"max_tokens": 8}, tag=i) for i in range(n)]


def backend(url):
    return OpenAIBackend("m", base_url=url, api_key_env="DF_TEST_KEY", timeout=2)


def test_a_run_against_a_dead_address_raises_serverunusable_quickly(api_key, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    policy = RunPolicy(concurrency=8, breaker_seconds=0.5, backoff=0.05)
    start = time.monotonic()
    with pytest.raises(ServerUnusable) as info:
        run_requests(requests(200), backend(url), tmp_path / "j.sqlite", policy=policy, progress=False)
    assert time.monotonic() - start < 5
    assert info.value.message.startswith(f"cannot reach the server (m at {url}): connection error")
    assert "--base-url" in info.value.hint
    assert (tmp_path / "j.sqlite").exists() and not (tmp_path / "j.sqlite.lock").exists()


def test_a_server_refusing_everything_stops_after_a_few_requests(loopback, api_key):
    srv = loopback(lambda req: Fault.error(400, "Invalid model name passed in model=m"))
    with pytest.raises(ServerUnusable) as info:
        run_requests(requests(500), backend(srv.url), policy=RunPolicy(concurrency=4), progress=False)
    assert "HTTP 400: Invalid model name passed in model=m" in info.value.message
    assert srv.log.total < 20


def test_transport_failures_are_marked_transient_content_ones_not(loopback, api_key):
    srv = loopback(lambda req: Fault.server_error(503) if req["messages"][0]["content"] == "q0"
                   else Fault.error(400, "too long") if req["messages"][0]["content"] == "q1" else "ok")
    results = run_requests(requests(3), backend(srv.url), policy=RunPolicy(max_retries=1, backoff=0.01),
                           progress=False)
    assert [(r.ok, r.transient) for r in results] == [(False, True), (False, False), (True, False)]


# -- keys ------------------------------------------------------------------------------------------------
KEY = "sk-canary-5a6b7c8d9e"


def test_a_key_is_stripped_and_a_broken_one_refused_without_showing_it(monkeypatch):
    monkeypatch.setenv("K", f"  {KEY}\r\n")
    assert read_api_key("K") == (KEY, f"  {KEY}\r\n")
    monkeypatch.setenv("K", " \r\n")
    assert read_api_key("K")[0] is None
    monkeypatch.delenv("K")
    assert read_api_key("K") == (None, None)
    monkeypatch.setenv("K", "sk-part-one\rpart-two")
    with pytest.raises(ConfigError, match=r"\$K contains a control character \(carriage return\)") as info:
        read_api_key("K")
    shown = info.value.message + info.value.hint
    assert "part-one" not in shown and "part-two" not in shown


@pytest.mark.parametrize("spell", [
    lambda k: k, str.strip, lambda k: json.dumps(k), lambda k: repr(k), lambda k: repr(k.encode()),
    lambda k: json.dumps({"auth": f"Bearer {k}"}), lambda k: f"Illegal header value {('Bearer ' + k).encode()!r}",
])
def test_redaction_covers_every_spelling_of_the_key(spell):
    raw = f"{KEY}\r\n"
    redact = Redactor([raw.strip(), raw])
    text = f"the server said: {spell(raw)} (end)"
    assert KEY not in redact(text) and "***" in redact(text)
