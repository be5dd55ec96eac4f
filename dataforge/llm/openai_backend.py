"""The OpenAI-compatible backend: OpenAI, vLLM, Ollama, llama.cpp's server, TGI.

It sends one attempt per call and turns every failure into an `LLMError`
saying whether a retry can help; the runner owns retries, so the `openai`
client's own retries are off. The body goes out through the client's generic
`post` (its documented way to call any endpoint: same auth, headers, errors)
and the answer is parsed with orjson: the typed `chat.completions.create`
spends ~1 ms of CPU per request transforming parameters and building pydantic
models, which at hundreds of requests per second is the ceiling. The API key is taken from the environment variable
named by `api_key_env` and scrubbed from every message this module produces.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import orjson

from dataforge.errors import ConfigError, require
from dataforge.llm.limits import parse_retry_after
from dataforge.llm.secrets import Redactor, read_api_key
from dataforge.llm.types import ChatRequest, Completion, LLMError, Usage

RETRY_STATUS = {408, 409, 429}
FATAL_STATUS = {401: "check the key in the variable named by --api-key-env (default OPENAI_API_KEY)",
                403: "check the key's permissions and --base-url",
                404: "check --model and --base-url (an OpenAI-compatible URL usually ends in /v1)"}


def fatal_hint(status: int | None, backend) -> str:
    """What to check after the server refused everything; a 401 names the variables the keys came from
    (several servers from an --endpoints file each name their own)."""
    if status != 401:
        return FATAL_STATUS.get(status, "check --model, --base-url and the key")
    backends = [e.backend for e in getattr(backend, "endpoints", ())] or [backend]
    names = sorted({b.api_key_env for b in backends if getattr(b, "api_key_env", None)})
    if len(names) == 1:
        return f"check the key in {names[0]} (the variable named by --api-key-env or an endpoint's api_key_env)"
    return f"check the keys in {' and '.join(names)} (each endpoint's api_key_env)" if names else FATAL_STATUS[401]


def safe_url(url: str | None) -> str:
    """A base URL without user:password@ or a query string (either could carry a key)."""
    if not url:
        return "https://api.openai.com/v1"
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # keeps a port as written, even one that is not valid
    return f"{parts.scheme}://{host}{parts.path}"


def check_base_url(url: str | None) -> None:
    """Raise ConfigError for a base URL the HTTP client could not use (bad scheme, host or port)."""
    if not url:
        return
    hint = "e.g. --base-url http://localhost:8000/v1"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed [ of an IPv6 address
        raise ConfigError(f"--base-url is not a URL ({exc})", hint) from None
    shown = safe_url(url)
    try:
        port = parts.port  # ValueError for a port that is not a number or above 65535
    except ValueError:
        text = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        raise ConfigError(f"--base-url {shown}: the port '{text}' is not a number from 1 to 65535", hint) from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError("--base-url must start with http:// or https://", hint)
    if not parts.hostname:
        raise ConfigError(f"--base-url {shown}: no host name in the URL", hint)
    if port == 0:
        raise ConfigError(f"--base-url {shown}: the port '0' is not a number from 1 to 65535", hint)


class OpenAIBackend:
    """`complete(request)` -> Completion, or raises LLMError. `model` is the default model."""

    name = "openai"

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 timeout: float = 120.0, concurrency: int = 16, default_headers: dict | None = None):
        if not model:
            raise ConfigError("no model given", "pass --model NAME (e.g. gpt-4o-mini, or the name your server serves)")
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        check_base_url(self.base_url)
        self.api_key_env = api_key_env
        key, raw = read_api_key(api_key_env)
        if not key:
            if self.base_url is None:
                raise ConfigError(f"no API key: the environment variable {api_key_env} is not set",
                                  f"export {api_key_env}=..., or use --api-key-env NAME, or --base-url for a "
                                  "local server that needs no key")
            key = "not-needed"  # local servers (vLLM, Ollama) accept any key; the client needs one
        self.redact = Redactor([key, raw or ""])
        self.timeout = timeout
        openai = require("openai", feature="LLM generation")
        http_client = None
        if concurrency > 100:  # the client's default pool keeps 100 connections alive
            http_client = openai.DefaultAsyncHttpxClient(
                limits=_httpx().Limits(max_connections=concurrency + 16, max_keepalive_connections=concurrency))
        self._openai = openai
        self._httpx = _httpx()
        self._client = openai.AsyncOpenAI(api_key=key, base_url=self.base_url, timeout=timeout, max_retries=0,
                                          default_headers=default_headers, http_client=http_client)
        del key, raw

    @property
    def where(self) -> str:
        return safe_url(self.base_url)

    def describe(self) -> str:
        return f"{self.model} at {self.where}"

    async def complete(self, request: ChatRequest) -> Completion:
        openai = self._openai
        # params go into the body as they are, so anything a server understands can be sent
        # (vLLM's top_k, Ollama's options...)
        body = {"model": request.model or self.model, "messages": request.messages, **request.params}
        path = "/chat/completions"
        if not request.messages:  # a text completion (synth magpie): params["prompt"] to /completions
            body, path = {"model": body["model"], **request.params}, "/completions"
        try:
            response = await self._client.post(path, body=body, cast_to=self._httpx.Response)
            data = response.content
        except openai.APITimeoutError as exc:
            if type(exc.__cause__).__name__ == "ConnectTimeout":  # nothing reached the server
                raise LLMError(f"connection error: could not connect within {self.timeout:g} s", retryable=True,
                               kind="connection") from None
            raise LLMError(f"timeout: no answer within {self.timeout:g} s", retryable=True, kind="timeout") from None
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            raise LLMError(f"connection error: {self.redact(str(cause))[:200] or type(cause).__name__}",
                           retryable=True, kind="connection") from None
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from None
        return self._parse(data)

    def _status_error(self, exc) -> LLMError:
        status = exc.status_code
        message = _error_message(exc.body) or exc.response.reason_phrase or ""
        reason = f"HTTP {status}: {self.redact(message)[:300]}"
        retryable = status in RETRY_STATUS or status >= 500
        return LLMError(reason, retryable=retryable, retry_after=parse_retry_after(exc.response.headers),
                        fatal=status in FATAL_STATUS, status=status)

    def _parse(self, data: bytes) -> Completion:
        try:
            body = orjson.loads(data)
            choice = body["choices"][0]
            message = choice.get("message") or {}
            content = message.get("content") if "message" in choice else choice.get("text")  # chat or text completion
            usage = body.get("usage") or {}
            return Completion(
                content=self.redact(content),
                finish_reason=choice.get("finish_reason"),
                usage=Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)),
                model=body.get("model") or "",
            )
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError, ValueError):
            raise LLMError("malformed response: the body is not a chat completion", retryable=True,
                           kind="malformed") from None

    async def aclose(self) -> None:
        await self._client.close()


def _httpx():
    """The HTTP library under the openai client: httpx2 for openai >= 3, httpx before."""
    try:
        import httpx2

        return httpx2
    except ImportError:  # pragma: no cover - older openai releases
        import httpx

        return httpx


def _error_message(body) -> str:
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get("message") or "")
        return str(inner)
    return str(body or "")
