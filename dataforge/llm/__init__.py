"""dataforge's LLM layer: send many chat requests, lose none, pay for each once.

The API other features build on (names are stable; see docs/synth.md):

    from dataforge.llm import ChatRequest, RunPolicy, open_backend, run_requests, LLMSession

    backend = open_backend("openai", model="gpt-4o-mini", base_url=None,      # or OPENAI_BASE_URL
                           api_key_env="OPENAI_API_KEY", timeout=120, concurrency=32)
    # backend = open_backend("transformers", model="path/to/model_dir", batch_size=8)
    requests = [ChatRequest([{"role": "user", "content": text}], params={"temperature": 0,
                "max_tokens": 512}, tag=row_id) for row_id, text in rows]
    results = run_requests(requests, backend, journal_path_for("out.jsonl"),
                           validate=my_parser, policy=RunPolicy(concurrency=32, rpm=500))
    for r in results:          # one Result per request, in input order
        r.ok, r.value, r.reason, r.tag, r.usage, r.cached, r.key

- `ChatRequest(messages, model="", params={}, tag=None)`: `model` defaults to the
  backend's; `params` are sent as is (temperature, max_tokens, seed, stop, ...);
  `tag` is yours (not sent, not hashed). `request.key` = `request_key(model,
  messages, params)`, the journal's hash: changing the prompt, model or params
  changes it, so a rerun with the same inputs resumes and a changed one does not.
- `validate(content, request) -> value` may raise `ParseError(reason)`: the
  answer is asked again once, then the request fails with "unparseable output:
  <reason>". Truncated (`finish_reason=length`, retried once with max_tokens
  doubled), content-filtered and empty answers are never returned as ok.
- `Result.ok` False carries `reason`; `sent=False` means the run stopped before
  sending it (budget reached). Failed requests are retried on the next run.
- `LLMSession(backend, journal_path, policy=, fresh=)` keeps one event loop,
  journal and usage totals (`session.stats`) over several `session.run(...)`
  calls (multi-stage jobs); `session.stopped` says why sending stopped (budget).
  `session.run(requests, validate, on_result=callback)` streams results instead
  of collecting them (flat memory for millions of requests).
- Ctrl-C inside a run raises `Interrupted` (a KeyboardInterrupt) after in-flight
  requests had `policy.grace` seconds; its `.message` says how to resume. A
  fatal server answer (401/403/404) raises ConfigError at once; a server that
  is down or refuses every request raises `ServerUnusable` (the circuit breaker,
  `dataforge.llm.breaker`) within about 10 s. Both keep the journal.
- One run per journal: a second process opening it gets `JournalBusy` naming the
  first one's pid. The journal commits each answer within ~10 ms (a writer thread).
- API keys are read with `dataforge.llm.secrets.read_api_key` (surrounding
  whitespace stripped, control characters inside refused) and scrubbed from every
  message in all their spellings (`Redactor`).
- `dataforge.llm.loopback.LoopbackServer`: a scriptable chat-completions server
  on 127.0.0.1 for tests and benchmarks (faults, latency, request log).
  `tests/llm/conftest.py` has the `loopback` fixture.

Nothing here imports torch or transformers at import time.
"""

from __future__ import annotations

from dataforge.errors import ConfigError
from dataforge.llm.breaker import ServerUnusable
from dataforge.llm.journal import Journal, journal_path_for
from dataforge.llm.limits import Prices, RunStats
from dataforge.llm.runlock import JournalBusy
from dataforge.llm.runner import Interrupted, LLMSession, RunPolicy, run_requests
from dataforge.llm.types import ChatRequest, Completion, LLMError, ParseError, Result, Usage, request_key

BACKENDS = ("openai", "transformers")


def open_backend(kind: str = "openai", *, model: str, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", timeout: float = 120.0, concurrency: int = 16,
                 batch_size: int = 8, device: str | None = None):
    """The backend for `--backend`: "openai" (any OpenAI-compatible server) or "transformers"."""
    if kind == "openai" and isinstance(base_url, (list, tuple)) and len(base_url) > 1:
        from dataforge.llm.endpoints import open_pool  # several endpoints (--base-url twice, --endpoints FILE)

        return open_pool(model, list(base_url), api_key_env=api_key_env, timeout=timeout, concurrency=concurrency)
    if isinstance(base_url, (list, tuple)):
        from dataforge.llm.endpoints import EndpointSpec

        spec = base_url[0] if base_url else None
        if isinstance(spec, EndpointSpec):
            if spec.api_key_env:
                api_key_env = spec.api_key_env
            model = spec.model or model
            spec = spec.base_url
        base_url = spec
    if kind == "openai":
        from dataforge.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(model, base_url=base_url, api_key_env=api_key_env, timeout=timeout,
                             concurrency=concurrency)
    if kind == "transformers":
        from dataforge.llm.local import TransformersBackend

        if not model:
            raise ConfigError("--backend transformers needs --model DIR", "a folder saved with save_pretrained")
        return TransformersBackend(model, batch_size=batch_size, device=device)
    raise ConfigError(f"unknown backend '{kind}'", f"use one of: {', '.join(BACKENDS)}")


__all__ = [
    "ChatRequest", "Completion", "Result", "Usage", "LLMError", "ParseError", "request_key",
    "Journal", "journal_path_for", "Prices", "RunStats", "RunPolicy", "LLMSession", "run_requests",
    "Interrupted", "ServerUnusable", "JournalBusy", "open_backend", "BACKENDS",
]
