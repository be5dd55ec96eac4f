"""Is a chat JSONL ready for OpenAI fine-tuning? Checks from OpenAI's data-preparation guide.

Per example: a `messages` list; each message has a valid role and non-empty
text content; at least one and a final assistant message. For the whole
file: fewer than 10 examples is an error (the API refuses it); under 50
gets the guidance that 50-100 well-crafted examples usually show clear
improvement. Token counts per example and for the training run, and the
cost when a price is given.

Token counts use the given tokenizer, else an estimate of 4 characters per
token (OpenAI's own tokenizer is not available offline); the report says which.

    >>> report = validate_openai(rows, epochs=3, price_per_1m_tokens=8.0)   # doctest: +SKIP
    >>> report.errors, report.guidance, report.billed_tokens, report.cost    # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ROLES = {"system", "user", "assistant"}
ALLOWED_KEYS = {"role", "content", "name", "weight"}
MIN_EXAMPLES = 10
RECOMMENDED = 50
MAX_TOKENS_PER_EXAMPLE = 16_385
# OpenAI's default epoch choice (from its data-preparation guide).
TARGET_EPOCHS, MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES, MIN_EPOCHS, MAX_EPOCHS = 3, 100, 25_000, 1, 25
GUIDANCE = ("fewer than 50 examples: OpenAI's guidance is that 50-100 well-crafted examples usually show"
            " clear improvement; add more before relying on the result")


def example_errors(row) -> list[str]:
    """What is wrong with one example (empty list: it is fine)."""
    if not isinstance(row, dict):
        return ["the example is not a JSON object"]
    msgs = row.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return ["missing or empty 'messages' list"]
    errs = []
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            errs.append(f"message {i} needs 'role' and 'content'")
            continue
        if m["role"] not in ROLES:
            errs.append(f"message {i} has role {m['role']!r}; valid roles: system, user, assistant")
        if set(m) - ALLOWED_KEYS:
            errs.append(f"message {i} has unrecognized keys {sorted(set(m) - ALLOWED_KEYS)}")
        if not isinstance(m["content"], str) or not m["content"].strip():
            errs.append(f"message {i} ({m['role']}) has empty content")
    if not errs:
        if not any(m["role"] == "assistant" for m in msgs):
            errs.append("no assistant message")
        elif msgs[-1]["role"] != "assistant":
            errs.append("does not end with an assistant message")
    if set(row) - {"messages"}:
        errs.append(f"unrecognized top-level keys {sorted(set(row) - {'messages'})}")
    return errs


def default_epochs(n_examples: int) -> int:
    """The number of epochs OpenAI picks when none is given."""
    if n_examples <= 0:
        return TARGET_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


class TokenCounter:
    """Tokens of a chat example: 3 per message + its text + 3 for the reply priming (OpenAI's recipe)."""

    def __init__(self, tokenizer=None):
        self.tokenizer = tokenizer
        self.estimated = tokenizer is None

    def text(self, text: str) -> int:
        if self.tokenizer is None:
            return math.ceil(len(text) / 4) if text else 0
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def example(self, messages: list[dict]) -> int:
        return sum(3 + self.text(m.get("content") or "") + (1 if m.get("name") else 0) for m in messages) + 3


@dataclass
class OpenAIReport:
    examples: int = 0
    invalid: int = 0
    tokens: list[int] = field(default_factory=list)
    estimated: bool = True
    epochs: int = 0
    epochs_given: bool = False
    price_per_1m_tokens: float | None = None
    errors: list[str] = field(default_factory=list)     # file-level: the API would refuse the file
    guidance: list[str] = field(default_factory=list)   # advice, not fatal
    row_errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)

    @property
    def billed_tokens(self) -> int:
        """Tokens trained over all epochs (each example capped at the context limit)."""
        return sum(min(t, MAX_TOKENS_PER_EXAMPLE) for t in self.tokens) * self.epochs

    @property
    def cost(self) -> float | None:
        if self.price_per_1m_tokens is None:
            return None
        return self.billed_tokens / 1_000_000 * self.price_per_1m_tokens

    def lines(self) -> list[str]:
        how = "estimated at 4 characters/token" if self.estimated else "counted with --tokenizer"
        out = [f"OpenAI check: {self.examples:,} valid example(s)" + (f", {self.invalid:,} invalid" if self.invalid else "")]
        if self.tokens:
            toks = sorted(self.tokens)
            out.append(f"  tokens per example ({how}): min {toks[0]:,}, median {toks[len(toks) // 2]:,},"
                       f" max {toks[-1]:,}; total {self.total_tokens:,}")
            over = sum(1 for t in toks if t > MAX_TOKENS_PER_EXAMPLE)
            if over:
                out.append(f"  {over:,} example(s) exceed {MAX_TOKENS_PER_EXAMPLE:,} tokens and will be truncated")
            src = "--epochs" if self.epochs_given else "OpenAI's default for this size"
            out.append(f"  training tokens: {self.billed_tokens:,} ({self.epochs} epoch(s), {src})")
            if self.cost is not None:
                out.append(f"  estimated cost: ${self.cost:,.2f} at ${self.price_per_1m_tokens:g} per 1M tokens")
        out += [f"  error: {e}" for e in self.errors]
        out += [f"  note: {g}" for g in self.guidance]
        return out


def validate_openai(rows, *, tokenizer=None, epochs: int | None = None,
                    price_per_1m_tokens: float | None = None) -> OpenAIReport:
    """Check rows (dicts with `messages`) the way OpenAI's guide does; never raises on bad rows."""
    report = OpenAIReport(estimated=tokenizer is None, price_per_1m_tokens=price_per_1m_tokens)
    counter = TokenCounter(tokenizer)
    for i, row in enumerate(rows):
        errs = example_errors(row)
        if errs:
            report.invalid += 1
            if len(report.row_errors) < 20:
                report.row_errors.append((i, "; ".join(errs)))
            continue
        report.examples += 1
        report.tokens.append(counter.example(row["messages"]))
    finish_report(report, epochs)
    return report


def finish_report(report: OpenAIReport, epochs: int | None) -> None:
    """File-level verdicts once every example is counted."""
    report.epochs_given = epochs is not None
    report.epochs = epochs if epochs is not None else default_epochs(report.examples)
    if report.examples < MIN_EXAMPLES:
        report.errors.append(f"{report.examples} valid example(s); OpenAI fine-tuning needs at least"
                             f" {MIN_EXAMPLES}")
    elif report.examples < RECOMMENDED:
        report.guidance.append(GUIDANCE)
