"""The circuit breaker: stop a run whose server cannot be used, instead of failing every row slowly.

Without it a server that is down costs each request its full retry budget
(seven attempts over about a minute) and the run "finishes" with every row
rejected. The rule:

* Before any request has succeeded, the run stops when `failures` attempts
  in a row failed to connect (refused, reset, DNS, connect timeout) and
  either `seconds` have passed since the first of them or a request used up
  its retries (the runner retries such a server at least every
  `probe_every()` seconds, so with the defaults, 8 attempts and 8 s, a
  server that is down is reported in 8 to 10 s); or when `failures` requests
  in a row got the same non-retryable 4xx status (proxies such as LiteLLM
  answer 400 for a bad key or an unknown model).
* After a success, a single failing request never stops the run (a 400 can
  be one row's fault: a prompt too long). Only a server that stopped
  answering altogether does: `failures` connection failures in a row with no
  success for `seconds_after_success`.

Answers that show the server is there but busy or broken for a moment (429,
5xx, read timeouts, malformed bodies) neither count nor reset. The error
names what the server said and what to check; the journal keeps every
finished request, so a rerun resumes.
"""

from __future__ import annotations

import time

from dataforge.errors import DataforgeError
from dataforge.llm.types import LLMError


class ServerUnusable(DataforgeError):
    """The run stopped because the server could not be reached or refused every request."""


class Breaker:
    def __init__(self, failures: int = 8, seconds: float = 8.0, seconds_after_success: float = 60.0):
        self.failures, self.seconds, self.seconds_after_success = max(1, failures), seconds, seconds_after_success
        self.succeeded = False
        self._conn = 0
        self._conn_since = 0.0
        self._last_success = 0.0
        self._status: int | None = None
        self._status_n = 0

    def probe_every(self) -> float | None:
        """The longest wait before retrying a connection error while nothing has succeeded yet."""
        return None if self.succeeded else max(0.5, self.seconds / 4)

    def success(self) -> None:
        self.succeeded = True
        self._last_success = time.monotonic()
        self._conn = self._status_n = 0
        self._status = None

    def failure(self, exc: LLMError, *, gave_up: bool = False) -> str | None:
        """Count one failed attempt; returns why the run must stop, or None."""
        now = time.monotonic()
        if exc.kind == "connection":
            if self._conn == 0:
                self._conn_since = now
            self._conn += 1
            if self._conn < self.failures:
                return None
            if not self.succeeded:
                if gave_up or now - self._conn_since >= self.seconds:
                    return "connection"  # (several requests giving up at once: the user asked for few retries)
            elif now - max(self._conn_since, self._last_success) >= self.seconds_after_success:
                return "connection"
            return None
        if self.succeeded or exc.status is None or not 400 <= exc.status < 500 or exc.retryable:
            return None
        if exc.status != self._status:
            self._status, self._status_n = exc.status, 0
        self._status_n += 1
        return "status" if self._status_n >= self.failures else None

    def error(self, why: str, exc: LLMError, backend) -> ServerUnusable:
        """The one error the user sees: what the server said, and what to check."""
        where = backend.describe() if hasattr(backend, "describe") else getattr(backend, "model", "the server")
        reason = " ".join(exc.reason.split())
        key_env = getattr(backend, "api_key_env", None) or "OPENAI_API_KEY"
        if why == "connection":
            seconds = time.monotonic() - self._conn_since
            state = "after earlier requests succeeded" if self.succeeded else "no request has succeeded"
            return ServerUnusable(
                f"cannot reach the server ({where}): {reason}; {self._conn} attempts in a row failed over"
                f" {seconds:.0f} s and {state}",
                "check that the server is running and that --base-url points at it (it usually ends in /v1);"
                " rerun the same command to resume: finished requests are kept in the journal")
        return ServerUnusable(
            f"the server ({where}) refused every request: {reason} ({self._status_n} in a row, none succeeded)",
            f"check --model, the API key in ${key_env} and --base-url; a proxy such as LiteLLM answers 400"
            " for a bad key or an unknown model")
