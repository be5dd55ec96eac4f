"""How requests are sent (`RunPolicy`) and what Ctrl-C raises (`Interrupted`)."""

from __future__ import annotations

from dataclasses import dataclass

from dataforge.errors import ConfigError
from dataforge.llm.limits import MAX_RETRY_WAIT, Prices

AUTO_MAX = 512  # `-c auto`: the window moves between 1 and this
MAX_CONCURRENCY = 4096  # a fixed -c above this is a typo: each slot is a task (-c 1000000 took 1.1 GB)


def parse_concurrency(value) -> tuple[int, bool]:
    """`-c auto` -> (AUTO_MAX, adaptive); `-c 32` -> (32, fixed). Raises ConfigError otherwise."""
    text = str(value).strip().lower()
    if text == "auto":
        return AUTO_MAX, True
    try:
        number = int(text)
    except ValueError:
        raise ConfigError(f"--concurrency must be 'auto' or a whole number (got {value!r})",
                          "-c auto adapts to the server; -c 32 keeps 32 requests in flight") from None
    if not 1 <= number <= MAX_CONCURRENCY:
        raise ConfigError(f"--concurrency must be between 1 and {MAX_CONCURRENCY} (got {number})",
                          "-c auto finds what the server takes")
    return number, False


@dataclass
class RunPolicy:
    """How requests are sent. Most fields have a CLI flag of the same name in `dataforge synth`."""

    # requests in flight; with `adaptive`, the most the window may reach. "auto" (the default, as on the
    # command line) means adaptive up to AUTO_MAX; a number fixes it.
    concurrency: int | str = "auto"
    adaptive: bool = False  # `-c auto`: AIMD windows per endpoint and model (dataforge.llm.adaptive)
    start_concurrency: int = 4  # ...starting here
    timeout: float = 120.0  # seconds per attempt (used by the backend)
    max_retries: int = 6  # retries of connection errors, timeouts, 408/409/429/5xx
    backoff: float = 1.0  # first backoff in seconds, doubled per retry, with jitter
    backoff_cap: float = 60.0
    max_retry_wait: float = MAX_RETRY_WAIT  # cap on a server's Retry-After
    parse_retries: int = 1  # unparseable output is asked again this many times
    length_retries: int = 1  # finish_reason=length: retried with max_tokens doubled
    max_tokens_cap: int = 32768  # ...but never above this
    empty_retries: int = 1
    rpm: float | None = None
    tpm: float | None = None
    max_cost: float | None = None  # USD, needs prices
    max_tokens: int | None = None  # tokens in + out over the session
    prices: Prices | None = None
    grace: float = 5.0  # seconds in-flight requests get after Ctrl-C
    handle_sigint: bool = True
    seed: int = 0
    # dataforge.llm.batch_run: --dry-run (estimate the first stage, send nothing), the --max-cost
    # check before the first request (off with --force), --batch (a dataforge.llm.batch.BatchPlan)
    dry_run: bool = False
    preflight: bool = False
    batch: object | None = None
    # The circuit breaker (dataforge.llm.breaker): with these defaults a server that is down
    # is reported within 8-10 s, one that refuses every request after 8 refusals.
    breaker_failures: int = 8  # attempts in a row failing the same way...
    breaker_seconds: float = 8.0  # ...over at least this long (connection errors), before anything succeeded
    breaker_seconds_after_success: float = 60.0  # ...or this long without a success, after one

    def __post_init__(self):
        if isinstance(self.concurrency, str):
            self.concurrency, adaptive = parse_concurrency(self.concurrency)
            self.adaptive = self.adaptive or adaptive
        if self.concurrency < 1:
            raise ConfigError(f"--concurrency must be at least 1 (got {self.concurrency})")
        if self.concurrency > MAX_CONCURRENCY:
            raise ConfigError(f"--concurrency must be at most {MAX_CONCURRENCY} (got {self.concurrency})",
                              "-c auto finds what the server takes")
        if self.max_cost is not None and self.prices is None:
            raise ConfigError("--max-cost needs prices to estimate cost",
                              "add --price-in USD --price-out USD (per million tokens)")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C: the journal is saved; `message` says how to resume. The CLI exits 130."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
