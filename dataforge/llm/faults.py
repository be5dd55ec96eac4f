"""What the loopback server can be told to do: replies, faults and latency.

`Fault` values stand in for a normal reply (429 with Retry-After, 5xx, a
dropped connection, a slow answer, finish_reason length, empty content,
malformed JSON). Random injection and latency are drawn per (request key,
attempt) from a seed, so a run is repeatable whatever the arrival order.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Reply:
    content: str | None
    finish_reason: str = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class Fault:
    """A misbehaviour to serve instead of a normal reply."""

    kind: str  # "status" | "drop" | "slow" | "malformed" | "reply"
    status: int = 200
    message: str = ""
    headers: tuple = ()
    delay: float = 0.0
    reply: Reply | None = None

    @classmethod
    def rate_limit(cls, retry_after: float | None = 1.0, retry_after_ms: float | None = None) -> "Fault":
        headers = []
        if retry_after is not None:
            headers.append(("retry-after", f"{retry_after:g}"))
        if retry_after_ms is not None:
            headers.append(("retry-after-ms", f"{retry_after_ms:g}"))
        return cls("status", 429, "Rate limit reached", tuple(headers))

    @classmethod
    def server_error(cls, status: int = 500, message: str = "The server had an error") -> "Fault":
        return cls("status", status, message)

    @classmethod
    def error(cls, status: int, message: str = "error") -> "Fault":
        return cls("status", status, message)

    @classmethod
    def drop(cls) -> "Fault":
        """Close the connection without answering."""
        return cls("drop")

    @classmethod
    def slow(cls, seconds: float, content: str = "too late") -> "Fault":
        """Answer only after `seconds` (past the client's timeout)."""
        return cls("slow", delay=seconds, reply=Reply(content))

    @classmethod
    def malformed(cls) -> "Fault":
        """HTTP 200 whose body is not valid JSON."""
        return cls("malformed")

    @classmethod
    def length(cls, content: str = "a truncated ans") -> "Fault":
        return cls("reply", reply=Reply(content, "length"))

    @classmethod
    def content_filter(cls) -> "Fault":
        return cls("reply", reply=Reply("", "content_filter"))

    @classmethod
    def empty(cls) -> "Fault":
        return cls("reply", reply=Reply("", "stop"))


_NAMED = {
    "429": lambda: Fault.rate_limit(0.1), "500": Fault.server_error, "503": lambda: Fault.server_error(503),
    "drop": Fault.drop, "slow": lambda: Fault.slow(30.0), "length": Fault.length, "empty": Fault.empty,
    "malformed": Fault.malformed, "content_filter": Fault.content_filter,
}


class Latency:
    """Seconds to wait before answering, drawn per (key, attempt) so runs are repeatable."""

    def __init__(self, sample: Callable[[random.Random], float], mean: float):
        self.sample, self.mean = sample, mean

    @classmethod
    def constant(cls, seconds: float) -> "Latency":
        return cls(lambda _rng: seconds, seconds)

    @classmethod
    def lognormal(cls, mean: float, sigma: float = 0.5) -> "Latency":
        mu = math.log(mean) - sigma * sigma / 2  # so that the mean is `mean`
        return cls(lambda rng: rng.lognormvariate(mu, sigma), mean)

    @classmethod
    def uniform(cls, low: float, high: float) -> "Latency":
        return cls(lambda rng: rng.uniform(low, high), (low + high) / 2)


def _unit(seed: int, key: str, attempt: int, salt: str) -> float:
    digest = hashlib.blake2b(f"{seed}:{salt}:{key}:{attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _fault_picker(spec, seed: int):
    if spec is None or callable(spec):
        return spec
    table = [(_NAMED[k]() if isinstance(k, str) else k, float(p)) for k, p in dict(spec).items()]

    def pick(body: dict, attempt: int, key: str):
        u, acc = _unit(seed, key, attempt, "fault"), 0.0
        for fault, p in table:
            acc += p
            if u < acc:
                return fault
        return None

    pick.by_key = True
    return pick


def echo_reply(request: dict) -> str:
    """The default reply: the last user message, echoed."""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            return f"echo: {message.get('content', '')}"
    return "echo"


class Scripted:
    """Replies keyed by what a request says, never by when it arrives.

    Requests run concurrently, so the order they reach the server is not the order
    they were made; a script handed out in arrival order gives a reply meant for one
    request to another now and then. Instead each key here is a substring of the
    request's messages (their contents joined by newlines), and a request gets the
    value of the one key it contains:

        Scripted({"[Answer A]\\nRome": "[[A]]", "[Answer A]\\nMilan": "[[B]]"})

    A value is a str, a `Reply`, a `Fault`, or a callable(request) returning one.
    `default` answers requests no key matches; without it such a request, like one
    that matches several keys, is answered HTTP 400 "scripted: ..." (never retried)
    and recorded in `misses`, so a script that does not cover its requests fails
    loudly. `unused` lists keys no request matched (a script that is stale).
    """

    _NO_DEFAULT = object()

    def __init__(self, table: dict, default=_NO_DEFAULT):
        if not table and default is self._NO_DEFAULT:
            raise ValueError("Scripted needs at least one key or a default")
        self.table = dict(table)
        self.default = default
        self.used: dict[str, int] = {k: 0 for k in self.table}
        self.misses: list[str] = []

    @staticmethod
    def text_of(request: dict) -> str:
        messages = request.get("messages") or []
        return "\n".join(m["content"] for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str))

    @property
    def unused(self) -> list[str]:
        return [k for k, n in self.used.items() if n == 0]

    def __call__(self, request: dict):
        text = self.text_of(request)
        hits = [k for k in self.table if k in text]
        if len(hits) == 1:
            self.used[hits[0]] += 1
            value = self.table[hits[0]]
        elif not hits and self.default is not self._NO_DEFAULT:
            value = self.default
        else:
            why = f"keys {hits} all match" if hits else "no key matches"
            self.misses.append(text)
            return Fault.error(400, f"scripted: {why} the request {text[-200:]!r}")
        return value(request) if callable(value) else value
