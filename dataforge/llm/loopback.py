"""A scriptable OpenAI-compatible chat-completions server on 127.0.0.1 (and /v1/completions).

Tests, benchmarks and demos talk to it through the real `openai` client, so
every byte goes over a real socket. It speaks HTTP/1.1 with keep-alive on
asyncio streams (no extra dependency) and serves 64+ concurrent clients.

    >>> def reply(req):                                           # doctest: +SKIP
    ...     text = req["messages"][-1]["content"]
    ...     return Fault.rate_limit(2) if "busy" in text else f"echo: {text}"
    >>> with LoopbackServer(reply, latency=Latency.lognormal(0.05)) as srv:   # doctest: +SKIP
    ...     client = AsyncOpenAI(base_url=srv.url, api_key="x")
    ...     ...
    ...     assert max(srv.log.completed.values()) == 1   # nothing finished was sent twice

`reply(request_json)` (or `reply(request_json, attempt)`, attempt = how many
times this request key was received before) returns the content (str), a
`Reply` (content, finish_reason, token counts) or a `Fault`. A dict as `reply`
is a `Scripted` table: {substring of the request's messages: reply}, so each
request's reply depends on its content, never on the order requests arrive in. `faults=` injects
faults at random but deterministically per (request key, attempt): a dict of
{Fault or "429"/"500"/"drop"/"slow"/"length"/"empty"/"malformed": probability}
or a callable. `srv.log` counts requests per key (`body_key`, the same hash the
journal uses). `LoopbackServer.spawn(...)` runs it in a child process (for
benchmarks, so the server does not share the client's CPU); its log is read
over HTTP at GET /_loopback/log. `python -m dataforge.llm.loopback` serves one
for manual tries.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import random
import threading
import time
import urllib.request
from typing import Any, Callable

import orjson

from dataforge.llm.faults import Fault, Latency, Reply, Scripted, _fault_picker, _unit, echo_reply
from dataforge.llm.loopback_http import error_body as _error
from dataforge.llm.loopback_http import send_bytes as _send_raw
from dataforge.llm.loopback_http import send_json as _send
from dataforge.llm.types import body_key

__all__ = ["Reply", "Fault", "Latency", "Scripted", "RequestLog", "LoopbackServer", "echo_reply"]


def _words(text: Any) -> int:
    return len(text.split()) if isinstance(text, str) else 0


class RequestLog:
    """What the server saw, per request key: `received` (every time it came in) and
    `completed` (answered 200 with content and finish_reason stop: a good answer)."""

    def __init__(self):
        self.total = 0
        self.received: collections.Counter[str] = collections.Counter()
        self.completed: collections.Counter[str] = collections.Counter()
        self.statuses: collections.Counter[str] = collections.Counter()
        self.auth: set[str] = set()
        self.answered_at: dict[str, float] = {}  # key -> time.time() its first good answer was sent
        self.max_in_flight = 0
        self.in_flight = 0
        self.slept = 0.0  # total latency served (seconds), for Little's-law limits
        self.first_at: float | None = None  # time.monotonic() of the first request
        self.last_at: float | None = None  # ...and of the last answer sent

    @property
    def span(self) -> float:
        """Seconds from the first request received to the last answer sent."""
        return (self.last_at - self.first_at) if self.first_at is not None and self.last_at else 0.0

    def sent(self, key: str) -> int:
        return self.received[key]

    def to_dict(self) -> dict:
        return {"total": self.total, "received": dict(self.received), "completed": dict(self.completed),
                "statuses": dict(self.statuses), "max_in_flight": self.max_in_flight, "span": self.span,
                "slept": self.slept, "answered_at": self.answered_at}


class LoopbackServer:
    """The server; `start()`/`stop()` or use it as a context manager. `url` ends in /v1."""

    def __init__(self, reply: Callable | None = None, *, latency: Latency | float | None = None,
                 faults=None, seed: int = 0, api_key: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, model: str = "loopback", max_concurrency: int | None = None):
        if isinstance(reply, dict):
            reply = Scripted(reply)
        self.reply = reply or echo_reply
        self._reply_takes_attempt = _arity(self.reply) >= 2
        self.latency = Latency.constant(latency) if isinstance(latency, (int, float)) else latency
        self.faults = _fault_picker(faults, seed)
        self.seed, self.api_key, self.host, self.port, self.model = seed, api_key, host, port, model
        self.log = RequestLog()
        self.max_concurrency = max_concurrency  # a capacity limit: 429 at once above this many in flight
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # -- lifecycle -------------------------------------------------------
    def start(self) -> "LoopbackServer":
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True, name="loopback")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("loopback server did not start")
        return self

    def _run(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, self.host, self.port, backlog=1024))
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown():
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop = None

    def reset_log(self) -> None:
        self.log = RequestLog()

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *_):
        self.stop()

    @classmethod
    def spawn(cls, *args, **kwargs) -> "SpawnedServer":
        """Run a server in a forked child process; returns a handle with url, log() and stop()."""
        return SpawnedServer(cls, args, kwargs)

    # -- HTTP ------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target = lines[0].split(" ", 2)[:2]
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    body = await _read_chunked(reader)
                else:
                    length = int(headers.get("content-length") or 0)
                    body = await reader.readexactly(length) if length else b""
                if not await self._dispatch(method, target.split("?", 1)[0], headers, body, writer):
                    return
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:  # server shutting down: end the connection quietly
            return
        finally:
            writer.close()

    async def _dispatch(self, method, path, headers, body, writer) -> bool:
        if method == "POST" and path.endswith("/completions"):  # chat, and text completions (a "prompt" body)
            return await self._chat(headers, body, writer)
        if method == "GET" and path.endswith("/models"):
            return _send(writer, 200, {"object": "list", "data": [{"id": self.model, "object": "model"}]})
        if "/files" in path or "/batches" in path:  # the Batch API (dataforge.llm.loopback_batch)
            from dataforge.llm.loopback_batch import dispatch

            return dispatch(self, method, path, headers, body, writer)
        if path == "/_loopback/log":
            return _send(writer, 200, self.log.to_dict())
        if path == "/_loopback/reset" and method == "POST":
            self.reset_log()
            return _send(writer, 200, {"ok": True})
        return _send(writer, 404, _error(f"no route {method} {path}", "not_found"))

    async def _chat(self, headers, raw: bytes, writer) -> bool:
        log = self.log
        try:
            body = orjson.loads(raw)
            key = body_key(body)
        except (orjson.JSONDecodeError, TypeError, AttributeError):
            log.statuses["400"] += 1
            return _send(writer, 400, _error("request body is not a JSON object", "invalid_request_error"))
        if log.first_at is None:
            log.first_at = time.monotonic()
        attempt = log.received[key]
        log.received[key] += 1
        log.total += 1
        log.auth.add(headers.get("authorization", ""))
        log.in_flight += 1
        log.max_in_flight = max(log.max_in_flight, log.in_flight)
        if self.max_concurrency is not None and log.in_flight > self.max_concurrency:
            log.in_flight -= 1  # refused at the door, as a provider's concurrency limit does
            log.statuses["429"] += 1
            return _send(writer, 429, _error(f"over capacity: at most {self.max_concurrency} requests at once",
                                             "rate_limit_exceeded"))
        try:
            return await self._answer(body, key, attempt, headers, writer)
        finally:
            log.in_flight -= 1
            log.last_at = time.monotonic()

    async def _answer(self, body, key, attempt, headers, writer) -> bool:
        log = self.log
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            log.statuses["401"] += 1
            return _send(writer, 401, _error("Incorrect API key provided", "invalid_api_key"))
        fault = None
        if self.faults is not None:
            fault = (self.faults(body, attempt, key) if getattr(self.faults, "by_key", False)
                     else self.faults(body, attempt))
        out = None
        if fault is None:
            out = self.reply(body, attempt) if self._reply_takes_attempt else self.reply(body)
            if isinstance(out, Fault):
                fault, out = out, None
        if self.latency is not None:
            rng = random.Random(_unit(self.seed, key, attempt, "latency"))
            delay = max(0.0, self.latency.sample(rng))
            log.slept += delay
            await asyncio.sleep(delay)
        if fault is not None:
            if fault.kind == "status":
                log.statuses[str(fault.status)] += 1
                kind = "rate_limit_exceeded" if fault.status == 429 else "server_error"
                return _send(writer, fault.status, _error(fault.message, kind), fault.headers)
            if fault.kind == "drop":
                log.statuses["drop"] += 1
                writer.transport.abort()
                return False
            if fault.kind == "malformed":
                log.statuses["malformed"] += 1
                return _send_raw(writer, 200, b'{"id": "chatcmpl-x", "choices": [{"mess')
            if fault.kind == "slow":
                log.statuses["slow"] += 1
                await asyncio.sleep(fault.delay)
                return _send(writer, 200, self._completion(body, fault.reply))
            out = fault.reply
        reply = out if isinstance(out, Reply) else Reply(out)
        log.statuses["200" if reply.finish_reason == "stop" and reply.content else
                     f"200:{reply.finish_reason if reply.content else 'empty'}"] += 1
        keep = _send(writer, 200, self._completion(body, reply))
        if reply.finish_reason == "stop" and reply.content:
            log.completed[key] += 1
            log.answered_at.setdefault(key, time.time())
        return keep

    def _completion(self, body: dict, reply: Reply) -> dict:
        if isinstance(body.get("prompt"), str):
            return self._text_completion(body, reply)
        prompt = reply.prompt_tokens
        if prompt is None:
            prompt = sum(_words(m.get("content")) for m in body.get("messages") or [] if isinstance(m, dict))
        completion = reply.completion_tokens if reply.completion_tokens is not None else _words(reply.content)
        self._n = getattr(self, "_n", 0) + 1
        return {
            "id": f"chatcmpl-{self._n}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [{"index": 0, "finish_reason": reply.finish_reason, "logprobs": None,
                         "message": {"role": "assistant", "content": reply.content}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        }

    def _text_completion(self, body: dict, reply: Reply) -> dict:
        """/v1/completions (vLLM, llama.cpp, TGI): the reply is cut at the first `stop` string, as servers do."""
        text, finish = reply.content or "", reply.finish_reason
        stops = body.get("stop") or []
        for stop in [stops] if isinstance(stops, str) else stops:
            if isinstance(stop, str) and stop and stop in text:
                text, finish = text.split(stop, 1)[0], "stop"
        prompt = reply.prompt_tokens if reply.prompt_tokens is not None else _words(body["prompt"])
        completion = reply.completion_tokens if reply.completion_tokens is not None else _words(text)
        self._n = getattr(self, "_n", 0) + 1
        return {"id": f"cmpl-{self._n}", "object": "text_completion", "created": int(time.time()),
                "model": body.get("model") or self.model,
                "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion}}


def _arity(func) -> int:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return 1
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readline()


class SpawnedServer:
    """A LoopbackServer in a forked child process (see LoopbackServer.spawn)."""

    def __init__(self, cls, args, kwargs):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child_main, args=(cls, args, kwargs, child), daemon=True)
        self._proc.start()
        if not parent.poll(20):
            self._proc.kill()
            raise RuntimeError("loopback server process did not start")
        self.port = parent.recv()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.pid = self._proc.pid

    def log(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_loopback/log", timeout=30) as resp:
            return orjson.loads(resp.read())

    def reset(self) -> None:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/_loopback/reset", data=b"{}", method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)

    def __enter__(self) -> "SpawnedServer":
        return self

    def __exit__(self, *_):
        self.stop()


def _child_main(cls, args, kwargs, conn) -> None:
    server = cls(*args, **kwargs).start()
    conn.send(server.port)
    threading.Event().wait()  # serve until terminated


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve a scripted chat-completions API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency", type=float, default=0.0, help="mean seconds (log-normal)")
    parser.add_argument("--fixed-latency", type=float, help="every answer takes exactly this many seconds")
    parser.add_argument("--max-concurrency", type=int, metavar="K", help="answer 429 above K requests in flight")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND=P",
                        help="inject a fault with probability P, e.g. 429=0.05 (repeatable)")
    opts = parser.parse_args(argv)
    faults = {k: float(v) for k, v in (f.split("=", 1) for f in opts.fault)} or None
    latency = Latency.lognormal(opts.latency) if opts.latency > 0 else None
    if opts.fixed_latency is not None:
        latency = Latency.constant(opts.fixed_latency)
    server = LoopbackServer(latency=latency, faults=faults, port=opts.port,
                            max_concurrency=opts.max_concurrency).start()
    print(f"serving {server.url} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
