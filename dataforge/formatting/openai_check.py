"""Is a JSONL ready for OpenAI fine-tuning? Checks from OpenAI's data-preparation guide.

Chat (supervised) examples: a `messages` list; each message has a valid role
and non-empty text content (an assistant turn that only calls tools may have
none); at least one and a final assistant message. Preference (DPO) examples:
`input.messages` (the prompt, ending with a user or tool turn), and
`preferred_output` / `non_preferred_output`, each exactly one assistant
message, the two different. For the whole file: fewer than 10 examples is an
error (the API refuses it); under 50 gets the guidance that 50-100
well-crafted examples usually show clear improvement. Token counts per
example and for the training run, and the cost when a price is given.

Token counts use the given tokenizer, else an estimate from per-script rates
measured on OpenAI's o200k_base tokenizer (gpt-4o, gpt-4.1; dataforge.tokencount,
within 25% per language on held-out real text); the report says which.

    >>> report = validate_openai(rows, epochs=3, price_per_1m_tokens=8.0)   # doctest: +SKIP
    >>> report.errors, report.guidance, report.billed_tokens, report.cost    # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from dataforge.tokencount import DEFAULT_ENCODING, estimate

ROLES = {"system", "developer", "user", "assistant", "tool"}
ALLOWED_KEYS = {"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call"}
CHAT_KEYS = {"messages", "tools", "parallel_tool_calls", "functions"}
PREFERENCE_KEYS = {"input", "preferred_output", "non_preferred_output"}
INPUT_KEYS = {"messages", "tools", "parallel_tool_calls"}
MIN_EXAMPLES = 10
RECOMMENDED = 50
MAX_TOKENS_PER_EXAMPLE = 16_385
# OpenAI's default epoch choice (from its data-preparation guide).
TARGET_EPOCHS, MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES, MIN_EPOCHS, MAX_EPOCHS = 3, 100, 25_000, 1, 25
GUIDANCE = ("fewer than 50 examples: OpenAI's guidance is that 50-100 well-crafted examples usually show"
            " clear improvement; add more before relying on the result")


def is_preference(row) -> bool:
    """A preference (DPO) example rather than a chat one."""
    return isinstance(row, dict) and "messages" not in row and bool(PREFERENCE_KEYS & set(row))


def example_errors(row) -> list[str]:
    """What is wrong with one example, chat or preference (empty list: it is fine)."""
    if not isinstance(row, dict):
        return ["the example is not a JSON object"]
    if is_preference(row):
        return preference_errors(row)
    msgs = row.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return ["missing or empty 'messages' list"]
    errs = _message_errors(msgs)
    if not errs:
        if not any(m["role"] == "assistant" for m in msgs):
            errs.append("no assistant message")
        elif msgs[-1]["role"] != "assistant":
            errs.append("does not end with an assistant message")
    if set(row) - CHAT_KEYS:
        errs.append(f"unrecognized top-level keys {sorted(set(row) - CHAT_KEYS)}")
    return errs


def preference_errors(row: dict) -> list[str]:
    """OpenAI's preference fine-tuning rows: a prompt and two single assistant answers that differ."""
    errs = []
    if set(row) - PREFERENCE_KEYS:
        errs.append(f"unrecognized top-level keys {sorted(set(row) - PREFERENCE_KEYS)}")
    given = row.get("input")
    msgs = given.get("messages") if isinstance(given, dict) else None
    if not isinstance(msgs, list) or not msgs:
        errs.append("missing or empty 'input.messages' list")
    else:
        if set(given) - INPUT_KEYS:
            errs.append(f"unrecognized keys in 'input' {sorted(set(given) - INPUT_KEYS)}")
        prompt_errs = _message_errors(msgs, "input message")
        errs += prompt_errs
        if not prompt_errs and msgs[-1]["role"] not in ("user", "tool"):
            errs.append("'input.messages' must end with a user (or tool) turn for the answers to reply to")
    answers = []
    for key in ("preferred_output", "non_preferred_output"):
        out = row.get(key)
        if not isinstance(out, list) or len(out) != 1:
            errs.append(f"'{key}' must be a list of exactly one assistant message")
            continue
        found = _message_errors(out, key)
        if not found and out[0]["role"] != "assistant":
            found.append(f"'{key}' holds a {out[0]['role']} message; it must be an assistant message")
        errs += found
        answers.append(out[0])
    if not errs and _answer_text(answers[0]) == _answer_text(answers[1]):
        errs.append("preferred and non-preferred outputs are the same: there is no preference to learn")
    return errs


def _answer_text(message: dict) -> str:
    return " ".join(str(message.get("content") or "").split()) + json.dumps(message.get("tool_calls"))


def _message_errors(msgs: list, what: str = "message") -> list[str]:
    errs = []
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or "role" not in m or ("content" not in m and "tool_calls" not in m):
            errs.append(f"{what} {i} needs 'role' and 'content'")
            continue
        if m["role"] not in ROLES:
            errs.append(f"{what} {i} has role {m['role']!r}; valid roles: {', '.join(sorted(ROLES))}")
        if set(m) - ALLOWED_KEYS:
            errs.append(f"{what} {i} has unrecognized keys {sorted(set(m) - ALLOWED_KEYS)}")
        calls_tools = m["role"] == "assistant" and bool(m.get("tool_calls") or m.get("function_call"))
        content = m.get("content")
        if calls_tools and content in (None, ""):
            continue  # an assistant turn that only calls tools has no text
        if not isinstance(content, str) or not content.strip():
            errs.append(f"{what} {i} ({m['role']}) has empty content")
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
    """Tokens of an example: 3 per message + its text (+1 for a name) + 3 for the reply priming (OpenAI's
    recipe). A preference example counts its input once and both answers."""

    def __init__(self, tokenizer=None, encoding: str = DEFAULT_ENCODING):
        self.tokenizer = tokenizer
        self.encoding = encoding
        self.estimated = tokenizer is None

    def texts(self, texts: list[str]) -> list[int]:
        if self.tokenizer is None:
            return estimate(texts, self.encoding).tolist()
        return [len(self.tokenizer(t, add_special_tokens=False)["input_ids"]) if t else 0 for t in texts]

    def text(self, text: str) -> int:
        return self.texts([text])[0]

    def example(self, messages: list[dict]) -> int:
        return self.rows([{"messages": messages}])[0]

    def rows(self, rows: list[dict]) -> list[int]:
        """Tokens of each valid example, chat or preference (their texts estimated in one batch)."""
        totals, texts, owners = [], [], []
        for i, row in enumerate(rows):
            msgs = _all_messages(row)
            totals.append(3 + sum(3 + (1 if m.get("name") else 0) for m in msgs))
            for m in msgs:
                texts.append(_message_text(m))
                owners.append(i)
        for owner, n in zip(owners, self.texts(texts)):
            totals[owner] += n
        return totals


def _all_messages(row: dict) -> list[dict]:
    if is_preference(row):
        return row["input"]["messages"] + row["preferred_output"] + row["non_preferred_output"]
    return row["messages"]


def _message_text(message: dict) -> str:
    """The text a message costs: its content and any tool calls' names and arguments."""
    text = message.get("content") or ""
    if not isinstance(text, str):  # content parts: their text
        text = " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in text)
    for call in message.get("tool_calls") or []:
        fn = call.get("function", {}) if isinstance(call, dict) else {}
        text += f" {fn.get('name', '')} {fn.get('arguments', '')}"
    return text


@dataclass
class OpenAIReport:
    examples: int = 0
    invalid: int = 0
    tokens: list[int] = field(default_factory=list)
    estimated: bool = True
    encoding: str = DEFAULT_ENCODING
    kinds: set = field(default_factory=set)  # "chat" / "preference" of the valid examples
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
    def preference(self) -> bool:
        """DPO examples: their tokens count the input once and both answers."""
        return "preference" in self.kinds

    def add(self, row: dict) -> None:
        """Count one valid example."""
        self.examples += 1
        self.kinds.add("preference" if is_preference(row) else "chat")

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
        how = (f"estimated for OpenAI's {self.encoding} tokenizer (gpt-4o, gpt-4.1)" if self.estimated
               else "counted with --tokenizer")
        if self.preference:
            how += "; input once plus both answers"
        kind = "preference (DPO) " if self.kinds == {"preference"} else ""
        out = [f"OpenAI check: {self.examples:,} valid {kind}example(s)"
               + (f", {self.invalid:,} invalid" if self.invalid else "")]
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
    """Check rows (chat: `messages`; preference: `input` + outputs) the way OpenAI's guide does;
    never raises on bad rows."""
    report = OpenAIReport(estimated=tokenizer is None, price_per_1m_tokens=price_per_1m_tokens)
    counter = TokenCounter(tokenizer)
    valid = []
    for i, row in enumerate(rows):
        errs = example_errors(row)
        if errs:
            report.invalid += 1
            if len(report.row_errors) < 20:
                report.row_errors.append((i, "; ".join(errs)))
            continue
        report.add(row)
        valid.append(row)
    report.tokens = counter.rows(valid)
    finish_report(report, epochs)
    return report


def finish_report(report: OpenAIReport, epochs: int | None) -> None:
    """File-level verdicts once every example is counted."""
    report.epochs_given = epochs is not None
    report.epochs = epochs if epochs is not None else default_epochs(report.examples)
    if len(report.kinds) > 1:
        report.errors.append("the file mixes chat and preference examples; OpenAI fine-tunes with one method"
                             " per file")
    if report.examples < MIN_EXAMPLES:
        report.errors.append(f"{report.examples} valid example(s); OpenAI fine-tuning needs at least"
                             f" {MIN_EXAMPLES}")
    elif report.examples < RECOMMENDED:
        report.guidance.append(GUIDANCE)
