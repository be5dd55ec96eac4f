"""Cost preflight: what a run would send and what it would cost, before anything is sent.

    >>> est = estimate(requests, model="gpt-4o-mini", prices=table_prices("gpt-4o-mini"))   # doctest: +SKIP
    >>> print("\\n".join(est.lines()))                                                      # doctest: +SKIP

Prices come from `dataforge/data/prices.json` (USD per million tokens for common
OpenAI models, with the Batch API's factor and where the figures were read), or
from `--price IN/OUT` / `--price-in` / `--price-out`. Input tokens are estimated
from the prompts that would be sent (`dataforge.tokencount`, plus the few tokens
the chat format adds per message); output tokens from `max_tokens` (an upper
bound) or, when the journal of an earlier run holds answers, from their observed
mean length. Requests already answered in that journal are not counted: a rerun
does not send them.

`--dry-run` raises `DryRun` (carrying the `Estimate`) at the first stage of a
run, before the first request; the CLI prints `lines()` and exits 0. A run with
`--max-cost` and no `--force` checks the same estimate first (`preflight`).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from dataforge.errors import ConfigError, DataforgeError
from dataforge.llm.limits import Prices
from dataforge.llm.types import ChatRequest

PRICES_FILE = Path(__file__).resolve().parent.parent / "data" / "prices.json"
MESSAGE_OVERHEAD = 4  # tokens the chat format adds around each message (role, separators)
REPLY_PRIMING = 3  # ...and before the answer

# What a method sends after its first stage, which depends on the answers (not counted by a dry run).
LATER_STAGES = {
    "self-instruct": "an answer request per new task, and further rounds until -n rows exist",
    "evol-instruct": "an answer request per evolution (plus an 'Equal?' request with --equality llm), and"
                     " further --rounds",
    "backtranslate": "one judge request per instruction written",
    "preference": "one judge request per instruction with two or more answers",
    "magpie": "an answer request per instruction written",
    "translate": "re-asks of rows that fail a check, and rows past the first 10,000 (translate reads in windows)",
    "translate --backcheck": "a back-translation request per forward request, re-asks of rows that fail a check,"
                             " and rows past the first 10,000",
}


@functools.cache
def price_table() -> dict:
    return json.loads(PRICES_FILE.read_text(encoding="utf-8"))


def table_prices(model: str | None) -> Prices | None:
    """The table's prices for `model` (a dated snapshot such as gpt-4o-mini-2024-07-18, or a LiteLLM name
    such as openai/gpt-4o, takes its family's); None when the model is not listed."""
    if not model:
        return None
    models = price_table()["models"]
    name = model.rsplit("/", 1)[-1].lower()
    match = name if name in models else max((k for k in models if name.startswith(k + "-")), key=len,
                                            default=None)
    if match is None:
        return None
    return Prices(float(models[match]["input"]), float(models[match]["output"]))


def batch_factor() -> float:
    """What the Batch API charges, as a fraction of the synchronous price."""
    return float(price_table().get("batch_factor", 0.5))


class PriceError(ConfigError):
    """A --price / --price-in / --price-out value that cannot be used (the CLI makes it a usage error, exit 2)."""


def _problem(value) -> tuple[float, str | None]:
    """(the price, what is wrong with it or None)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0, "is not a number"
    if number != number or number in (float("inf"), float("-inf")):
        return 0.0, "is not a finite number"
    if number < 0:  # a negative price makes every estimate negative: --max-cost would never stop a run
        return number, "is negative: a price cannot be below 0"
    return number, None


def _price_value(value, flag: str) -> float:
    number, problem = _problem(value)
    if problem:
        raise PriceError(f"{flag} {value} {problem}", "USD per million tokens, e.g. 0.15")
    return number


def parse_price(text: str) -> Prices:
    """`--price IN/OUT` (USD per million input / output tokens), e.g. 0.15/0.60."""
    hint = "e.g. --price 0.15/0.60 (USD per million input / output tokens)"
    parts = text.replace(",", "/").split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise PriceError(f"--price '{text}' is not IN/OUT (two prices separated by /)", hint)
    values = []
    for part, name in zip(parts, ("input", "output")):
        number, problem = _problem(part.strip())
        if problem:
            raise PriceError(f"--price '{text}': the {name} price {part.strip()} {problem}", hint)
        values.append(number)
    return Prices(values[0], values[1])


def resolve_prices(model: str | None, price: str | None = None, price_in: float | None = None,
                   price_out: float | None = None) -> Prices | None:
    """Prices from the flags (`--price`, then `--price-in/--price-out` over it), else from the table.
    A half given alone (`--price-in` only) keeps the table's other half; with no table entry for the
    model it is an error naming the missing half (never a silent $0)."""
    if price_in is not None:
        price_in = _price_value(price_in, "--price-in")
    if price_out is not None:
        price_out = _price_value(price_out, "--price-out")
    if price is not None:
        base = parse_price(price)
        return Prices(base.input if price_in is None else price_in, base.output if price_out is None else price_out)
    if price_in is None and price_out is None:
        return table_prices(model)
    if price_in is not None and price_out is not None:
        return Prices(price_in, price_out)
    table = table_prices(model)
    if table is None:
        given, missing = ("--price-in", "--price-out") if price_out is None else ("--price-out", "--price-in")
        raise PriceError(f"{given} is given but not {missing}, and model '{model or ''}' is not in the price"
                         f" table: the {missing[8:]}put price is unknown",
                         f"add {missing} USD (per million tokens), or give both as --price IN/OUT")
    return Prices(table.input if price_in is None else price_in, table.output if price_out is None else price_out)


def request_tokens(requests: list[ChatRequest], journal=None) -> list[tuple[int, int]]:
    """(input, output) tokens estimated for each request, as `estimate` counts them (output: max_tokens,
    or the mean answer length observed in `journal` when it holds answers)."""
    from dataforge.tokencount import estimate as count

    texts, owner = [], []
    fixed = [0] * len(requests)
    for i, r in enumerate(requests):
        for m in r.messages:
            texts.append(m.get("content") if isinstance(m.get("content"), str) else json.dumps(m.get("content")))
            owner.append(i)
            fixed[i] += MESSAGE_OVERHEAD
        if isinstance(r.params.get("prompt"), str):
            texts.append(r.params["prompt"])
            owner.append(i)
        fixed[i] += REPLY_PRIMING
    per = count(texts) if texts else []
    for i, n in zip(owner, per):
        fixed[i] += int(n)
    _, seen, seen_tokens = _journal_facts(journal, set())
    mean = seen_tokens / seen if seen else None
    out = []
    for r, n_in in zip(requests, fixed):
        limit = int(r.params.get("max_tokens") or 0)
        n_out = (min(mean, limit) if limit else mean) if mean is not None else limit
        out.append((n_in, int(n_out)))
    return out


def input_tokens(requests: list[ChatRequest]) -> int:
    from dataforge.tokencount import estimate as count

    texts = [m.get("content") if isinstance(m.get("content"), str) else json.dumps(m.get("content"))
             for r in requests for m in r.messages]
    messages = len(texts)
    texts += [r.params["prompt"] for r in requests if isinstance(r.params.get("prompt"), str)]  # completions
    per_text = int(count(texts).sum()) if texts else 0
    return per_text + MESSAGE_OVERHEAD * messages + REPLY_PRIMING * len(requests)


def _journal_facts(path, keys: set[str]) -> tuple[set[str], int, int]:
    """(keys already done, answers seen, their completion tokens) from an earlier run's journal, read only."""
    if path is None or not Path(path).is_file():
        return set(), 0, 0
    try:
        db = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        try:
            done = {k for (k,) in db.execute("SELECT key FROM requests WHERE state='done'") if k in keys}
            n, tokens = db.execute("SELECT COUNT(*), COALESCE(SUM(completion_tokens), 0) FROM requests"
                                   " WHERE state='done' AND completion_tokens > 0").fetchone()
        finally:
            db.close()
    except sqlite3.Error:  # not a journal we can read: estimate as if there were none
        return set(), 0, 0
    return done, int(n), int(tokens)


@dataclass
class Estimate:
    requests: int  # to be sent
    cached: int  # answered in the journal of an earlier run: not sent again
    input_tokens: int
    output_tokens: int
    output_basis: str
    model: str
    prices: Prices | None
    factor: float  # batch price / synchronous price
    stage: str = ""

    def cost(self, batch: bool = False) -> float | None:
        if self.prices is None:
            return None
        full = (self.input_tokens * self.prices.input + self.output_tokens * self.prices.output) / 1e6
        return full * (self.factor if batch else 1.0)

    def lines(self, later: str | None = None) -> list[str]:
        out = ["dry run: nothing was sent and no file was written",
               f"  requests:      {self.requests:,} to send"
               + (f" ({self.cached:,} more answered in the journal of an earlier run: not sent again)"
                  if self.cached else ""),
               f"  input tokens:  ~{self.input_tokens:,} (estimated from the prompts)",
               f"  output tokens: ~{self.output_tokens:,} ({self.output_basis})"]
        if self.prices is None:
            out.append(f"  cost: no price known for model '{self.model}': pass --price IN/OUT (USD per 1M tokens)")
        else:
            out.append(f"  cost at ${self.prices.input:g}/${self.prices.output:g} per 1M tokens ({self.model}):"
                       f" synchronous ~${self.cost():,.4f}, Batch API (--batch) ~${self.cost(True):,.4f}")
        if later:
            out.append(f"  first stage only ({self.stage}): the later requests depend on the answers and are not"
                       f" counted: {later}")
        return out


def estimate(requests: list[ChatRequest], *, model: str, prices: Prices | None, journal=None,
             stage: str = "") -> Estimate:
    """The estimate for sending `requests` (their `model` filled in); `journal`: an earlier run's journal path."""
    unique = {r.key: r for r in requests}
    done, seen, seen_tokens = _journal_facts(journal, set(unique))
    todo = [r for k, r in unique.items() if k not in done]
    limits = [int(r.params.get("max_tokens") or 0) for r in todo]
    if seen:
        mean = seen_tokens / seen
        out_tokens = int(sum(min(mean, lim) if lim else mean for lim in limits))
        basis = f"observed: {mean:,.0f} tokens per answer on average over {seen:,} answers in the journal"
    else:
        out_tokens = sum(limits)
        basis = (f"at most: max_tokens {max(limits):,} per request" if limits and min(limits) == max(limits)
                 else "at most: the requests' max_tokens")
    return Estimate(len(todo), len(done), input_tokens(todo), out_tokens, basis, model, prices, batch_factor(),
                    stage)


class DryRun(Exception):
    """Raised by a `--dry-run` session at its first stage, before anything is sent."""

    def __init__(self, estimate: Estimate):
        super().__init__("dry run")
        self.estimate = estimate

    def lines(self, method: str | None = None) -> list[str]:
        return self.estimate.lines(LATER_STAGES.get(method or ""))


def preflight(est: Estimate, max_cost: float, batch: bool) -> None:
    """Refuse to start a run whose estimate is above --max-cost."""
    cost = est.cost(batch)
    if cost is None or cost <= max_cost:
        return
    raise DataforgeError(f"the estimated cost is ${cost:,.4f} ({est.requests:,} requests, ~{est.input_tokens:,}"
                         f" tokens in, ~{est.output_tokens:,} out: {est.output_basis}), above --max-cost"
                         f" {max_cost:g}",
                         "raise --max-cost, see the details with --dry-run, or pass --force to start anyway"
                         " (the run still stops sending at --max-cost)")
