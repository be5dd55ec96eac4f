"""The small vocabulary every LLM backend and caller shares.

    ChatRequest(messages, model, params, tag)   what to send; `key` is its journal hash
    Completion(content, finish_reason, usage)   what a backend returned
    Result(ok, value, reason, ...)              what the runner hands back per request
    LLMError(reason, retryable, retry_after)    how a backend reports a failed attempt

`request_key` is the one hash of (model, messages, params) used by the
journal, the runner and the loopback server, so all three agree on what
"the same request" means.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

# Parameters sent to the server besides model and messages; anything else in a
# request body (stream, n, tools...) is not something this layer sends.
SENT_PARAMS = ("temperature", "top_p", "max_tokens", "seed", "stop", "presence_penalty",
               "frequency_penalty", "response_format")


def request_key(model: str, messages: list[dict], params: dict) -> str:
    """A 32-hex-digit hash of what is sent: same model, messages and params, same key."""
    blob = orjson.dumps([model, messages, params], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(blob, digest_size=16).hexdigest()


def body_key(body: dict) -> str:
    """The request_key of a chat-completions JSON body (what a server receives)."""
    params = {k: v for k, v in body.items() if k not in ("model", "messages")}
    return request_key(body.get("model", ""), body.get("messages", []), params)


@dataclass(slots=True)
class ChatRequest:
    """One chat-completions request. `tag` is the caller's handle (row index, id): not hashed, not sent."""

    messages: list[dict]
    model: str = ""
    params: dict = field(default_factory=dict)
    tag: Any = None
    _key: str | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        if self._key is None:
            self._key = request_key(self.model, self.messages, self.params)
        return self._key

    def with_params(self, **changes) -> "ChatRequest":
        """A copy with some params changed (e.g. a larger max_tokens for a retry)."""
        return ChatRequest(self.messages, self.model, {**self.params, **changes}, self.tag)

    def body(self) -> dict:
        return {"model": self.model, "messages": self.messages, **self.params}


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: "Usage") -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


@dataclass(slots=True)
class Completion:
    content: str | None
    finish_reason: str | None
    usage: Usage = field(default_factory=Usage)
    model: str = ""


@dataclass(slots=True)
class Result:
    """The outcome of one request after retries and validation.

    ok: `value` holds what `validate` returned (the content when no validator).
    not ok: `reason` says why (e.g. "truncated: finish_reason=length", "HTTP 400: ...",
    "unparseable output: no numbered list", "not sent: --max-cost 2.00 reached").
    `cached`: taken from the journal, not sent in this run. `sent`: False when the
    run stopped (budget, Ctrl-C) before it was sent.
    """

    request: ChatRequest
    ok: bool
    value: Any = None
    content: str | None = None
    finish_reason: str | None = None
    reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    attempts: int = 0
    cached: bool = False
    sent: bool = True
    transient: bool = False  # failed in transport (connection, timeout, 429, 5xx): resend as is, do not split

    @property
    def key(self) -> str:
        return self.request.key

    @property
    def tag(self) -> Any:
        return self.request.tag


class LLMError(Exception):
    """One failed attempt. `retryable` errors are tried again after `retry_after` or a backoff.

    `fatal` means every request would fail the same way (bad key, unknown model):
    the run stops instead of failing each row. `kind` is "connection" (nothing
    reached the server), "timeout" (no answer in time), "status" (an HTTP error,
    see `status`) or "malformed" (a 200 that is not a completion).
    """

    def __init__(self, reason: str, *, retryable: bool = False, retry_after: float | None = None,
                 fatal: bool = False, status: int | None = None, kind: str = "status"):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.fatal = fatal
        self.status = status
        self.kind = kind


class ParseError(ValueError):
    """A completion that a method's parser cannot use; the message is the reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
