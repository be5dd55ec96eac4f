"""Rate limits (--rpm/--tpm), retry delays, prices and the running usage totals.

Retry delays: exponential backoff with jitter (1 s, 2 s, 4 s ... capped at
`backoff_cap`), unless the server says how long to wait (`retry-after-ms` or
`Retry-After` in seconds or as an HTTP date). A server's wait is honoured up
to `max_retry_wait` (default 600 s, i.e. 10 minutes; the openai client alone
ignores values above 60 s); a longer one is cut to that cap.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass, field

from dataforge.errors import ConfigError
from dataforge.llm.types import ChatRequest, Usage

MAX_RETRY_WAIT = 600.0


def parse_retry_after(headers) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or HTTP date); None if absent."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_delay(retry: int, retry_after: float | None, *, backoff: float, backoff_cap: float,
                max_retry_wait: float, rng: random.Random) -> float:
    """The wait before retry number `retry` (1-based)."""
    if retry_after is not None:
        # A little jitter on top, so many requests told "wait 2 s" do not return at the same instant.
        return min(retry_after, max_retry_wait) * rng.uniform(1.0, 1.1)
    step = min(backoff_cap, backoff * 2 ** (retry - 1))
    return step / 2 + rng.uniform(0, step / 2)


class Bucket:
    """A token bucket refilled at `per_minute`/60 per second, holding at most one second's worth."""

    def __init__(self, per_minute: float):
        if per_minute <= 0:
            raise ConfigError(f"a rate limit must be above 0 (got {per_minute:g})", "e.g. --rpm 500")
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    async def take(self, amount: float = 1.0) -> None:
        amount = min(amount, self.capacity)  # a request larger than the bucket waits for a full one
        while True:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= amount:
                self.tokens -= amount
                return
            await asyncio.sleep((amount - self.tokens) / self.rate)

    def refund(self, amount: float) -> None:
        """Correct an estimate afterwards (negative `amount` charges more)."""
        self.tokens = min(self.capacity, self.tokens + amount)


def estimate_tokens(request: ChatRequest) -> int:
    """A cheap upper-ish guess for --tpm before the real usage is known: chars/4 + max_tokens."""
    chars = sum(len(m.get("content") or "") for m in request.messages)
    return chars // 4 + int(request.params.get("max_tokens") or 256)


@dataclass(frozen=True)
class Prices:
    """USD per million tokens."""

    input: float = 0.0
    output: float = 0.0

    def cost(self, usage: Usage) -> float:
        return (usage.prompt_tokens * self.input + usage.completion_tokens * self.output) / 1e6


@dataclass
class RunStats:
    """Running totals over every run of a session (shown in the progress bar and the summary)."""

    sent: int = 0  # HTTP attempts (including retries)
    done: int = 0  # requests finished ok in this session (sent or cached)
    cached: int = 0  # of which taken from the journal
    failed: int = 0
    not_sent: int = 0
    retries: int = 0
    batched: int = 0  # of `done`, answered through the Batch API (--batch)
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    reasons: dict = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def fail(self, reason: str) -> None:
        self.failed += 1
        stem = reason.split(":", 1)[0]
        self.reasons[stem] = self.reasons.get(stem, 0) + 1

    def brief(self, priced: bool) -> str:
        text = f"{_k(self.usage.total)} tok"
        if priced:
            text += f" ${self.cost:,.4f}"
        return text + f" · {self.failed} failed" + (f" · {self.retries} retries" if self.retries else "")

    def line(self, priced: bool = False) -> str:
        secs = max(time.monotonic() - self.started, 1e-9)
        text = (f"requests: {self.done:,} ok ({self.cached:,} from the journal), {self.failed:,} failed,"
                f" {self.sent:,} HTTP attempts ({self.retries:,} retries)"
                + (f", {self.batched:,} answered through the Batch API" if self.batched else "")
                + f"; tokens in {self.usage.prompt_tokens:,} out {self.usage.completion_tokens:,}")
        if priced:
            text += f"; est. cost ${self.cost:,.4f}"
        return text + f"; {secs:,.1f} s"


def _k(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)
