"""Several endpoints and adaptive windows in front of OpenAI-compatible backends (`-c auto`, `--endpoints`).

    >>> specs = load_endpoints("endpoints.yaml")            # doctest: +SKIP
    >>> pool = EndpointPool([OpenAIBackend("m", base_url=s.base_url, api_key_env=s.api_key_env) for s in specs])

`EndpointPool` speaks the backend protocol (`complete(request)`), so the
runner's retries, breaker and journal work as with one server. Each endpoint
has its own `adaptive.Window` per model; a request goes to the endpoint with
room whose window is least used for its weight, so an endpoint that answers
faster (or holds more in flight) gets more of the requests. An endpoint that
fails (3 connection errors or 5xx in a row, or a 401/403/404 while others
work) is taken out for 2 s, doubled each time up to 60 s, then tried with one
request before it gets its window back; the runner retries the requests that
failed there elsewhere. With a single endpoint nothing is ever taken out (the
runner's circuit breaker decides when a run cannot go on).

`wait_room()` / `leave_room()` bracket each request the runner works on:
it takes the next request only while the windows have a free place, so
requests are not pulled (and journaled as sent) long before they can go out.

The YAML file is a list of `{base_url, api_key_env, model, weight}`; keys are
read from the environment variables it names, never from the file.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import sys
import time
from dataclasses import dataclass

from dataforge.errors import ConfigError
from dataforge.llm.adaptive import FixedWindow, Window
from dataforge.llm.types import ChatRequest, Completion, LLMError

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")  # what a shell accepts as a variable name
FAILURES_OUT = 3  # connection errors / 5xx in a row that take an endpoint out
COOLDOWN, MAX_COOLDOWN = 2.0, 60.0


@dataclass(frozen=True)
class EndpointSpec:
    base_url: str
    api_key_env: str | None = None  # None: the command's --api-key-env, and no key is fine for a local server
    model: str | None = None  # the name this endpoint serves the run's model under
    weight: float = 1.0


def load_endpoints(path) -> list[EndpointSpec]:
    """Read and check an endpoints YAML file; every named key variable must be set."""
    import yaml

    where = f"--endpoints {path}"
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if isinstance(data, dict) and "endpoints" in data:
        data = data["endpoints"]
    hint = "a list of {base_url: http://host:8000/v1, api_key_env: VAR, model: NAME, weight: 1}"
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{where}: expected a list of endpoints", hint)
    specs = []
    for i, item in enumerate(data, 1):
        if not isinstance(item, dict) or not isinstance(item.get("base_url"), str):
            raise ConfigError(f"{where}: endpoint {i} has no base_url", hint)
        if "api_key" in item or "key" in item:
            # never echo the value: it is a secret that should not be in the file at all
            raise ConfigError(f"{where}: endpoint {i} holds a key; keys are read from environment variables only",
                              "remove it from the file and name its variable instead: api_key_env: MY_KEY_VAR")
        unknown = sorted(set(item) - {"base_url", "api_key_env", "model", "weight"})
        if unknown:
            raise ConfigError(f"{where}: endpoint {i}: unknown field {unknown[0]!r}", hint)
        weight = item.get("weight", 1.0)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
            raise ConfigError(f"{where}: endpoint {i}: weight must be a number above 0")
        env = item.get("api_key_env")
        if env is not None and not (isinstance(env, str) and _ENV_NAME.fullmatch(env)):
            # never echo it: a key pasted here instead of a variable's name would be printed
            raise ConfigError(f"{where}: endpoint {i}: api_key_env must be the name of an environment variable"
                              " (letters, digits and _), not a key",
                              "put the key in a variable (export MY_KEY=...) and write api_key_env: MY_KEY")
        if env is not None and not os.environ.get(str(env)):
            raise ConfigError(f"{where}: endpoint {i} ({item['base_url']}): the environment variable {env} is not set",
                              f"export {env}=... before the run, or remove api_key_env for a server without a key")
        specs.append(EndpointSpec(item["base_url"], None if env is None else str(env), item.get("model"),
                                  float(weight)))
    return specs


class Endpoint:
    def __init__(self, backend, weight: float = 1.0, model: str | None = None):
        self.backend, self.weight, self.model = backend, weight, model
        self.windows: dict[str, Window] = {}
        self.in_flight = 0
        self.ok = 0
        self.failed = 0
        self.streak = 0  # failures in a row
        self.down_until = 0.0  # taken out until then (monotonic)
        self.cooldown = COOLDOWN
        self.probing = False  # back after being taken out: one request until it answers
        self.dead = False  # refused with 401/403/404 while others worked: out for good
        self.outs = 0

    @property
    def where(self) -> str:
        return getattr(self.backend, "where", "") or getattr(self.backend, "model", "")


class EndpointPool:
    """Backends for the same model on several servers (or one, with an adaptive window)."""

    name = "openai"

    def __init__(self, backends: list, *, weights: list[float] | None = None, models: list | None = None,
                 adaptive: bool = True, start: int = 4, maximum: int = 512, clock=time.monotonic):
        if not backends:
            raise ConfigError("no endpoint given", "pass --base-url URL (repeatable) or --endpoints FILE")
        weights = weights or [1.0] * len(backends)
        models = models or [None] * len(backends)
        self.endpoints = [Endpoint(b, w, m) for b, w, m in zip(backends, weights, models)]
        self.model = backends[0].model
        self.api_key_env = getattr(backends[0], "api_key_env", None)
        self.adaptive, self.start, self.maximum = adaptive, start, maximum
        self.clock = clock
        self.in_flight = 0
        self.busy = 0  # requests the runner holds between wait_room() and leave_room()
        self._slot_waiters: collections.deque = collections.deque()
        self._room_waiters: collections.deque = collections.deque()
        self._retry_at: float | None = None
        self._timer_set = False

    # -- settings, description ------------------------------------------------------
    def use_policy(self, policy) -> None:
        self.adaptive = bool(getattr(policy, "adaptive", False))
        self.maximum = policy.concurrency
        self.start = min(getattr(policy, "start_concurrency", 4), policy.concurrency)

    def _new_window(self) -> Window:
        return Window(self.start, maximum=self.maximum) if self.adaptive else FixedWindow(self.maximum)

    def window(self, ep: Endpoint, model: str) -> Window:
        win = ep.windows.get(model)
        if win is None:
            win = ep.windows[model] = self._new_window()
        return win

    @property
    def where(self) -> str:
        return ", ".join(ep.where for ep in self.endpoints)

    def describe(self) -> str:
        return f"{self.model} at {self.where}"

    def window_text(self) -> str:
        """The current window(s) for the progress line: 'c=37' or 'c=24+12'. A fixed -c N is N in all,
        however many servers share it."""
        if not self.adaptive:
            live = [ep for ep in self.endpoints if not (ep.dead or ep.down_until > self.clock())]
            return f"c={self.maximum}" + ("" if len(live) == len(self.endpoints) else f" ({len(live)} of {len(self.endpoints)} servers up)")
        parts = []
        for ep in self.endpoints:
            limit = sum(w.limit for w in ep.windows.values()) or self.start
            parts.append("out" if ep.dead or ep.down_until > self.clock() else str(limit))
        return "c=" + "+".join(parts)

    # -- choosing, waiting ----------------------------------------------------------
    def _usable(self) -> list[Endpoint]:
        now = self.clock()
        live = [ep for ep in self.endpoints if not ep.dead and ep.down_until <= now]
        if live:
            return live
        # every endpoint is out: use the one due back first (the runner's breaker decides when to stop)
        left = [ep for ep in self.endpoints if not ep.dead] or self.endpoints
        return [min(left, key=lambda ep: ep.down_until)]

    def _choose(self, model: str) -> Endpoint | None:
        best, best_score = None, 0.0
        now = None
        for ep in self._usable():
            win = self.window(ep, model)
            limit = 1 if ep.probing else win.limit
            used = ep.in_flight if ep.probing else win.in_flight
            if used >= limit:
                continue
            if win.exploring() and win.explore_at > (now := now or self.clock()):
                self._retry_at = min(self._retry_at or win.explore_at, win.explore_at)  # spaced: wait
                continue
            score = (used + 1) / (limit * ep.weight)
            if best is None or score < best_score:
                best, best_score = ep, score
        return best

    def capacity(self) -> int:
        """Requests the windows allow in flight now, over every usable endpoint."""
        total = 0
        for ep in self._usable():
            windows = ep.windows.values() or [self.window(ep, self.model)]
            total += 1 if ep.probing else sum(w.limit for w in windows)
        return total

    async def wait_room(self) -> None:
        """Take one place in the windows for the next request; `leave_room()` gives it back once answered."""
        if self.busy < self.capacity() and not self._room_waiters:
            self.busy += 1
            return
        future = asyncio.get_running_loop().create_future()
        self._room_waiters.append(future)
        try:
            await future  # the place was taken for us (busy counted) when woken
        except asyncio.CancelledError:
            if future in self._room_waiters:
                self._room_waiters.remove(future)
            elif not future.cancelled():
                self.leave_room()
            raise

    def leave_room(self) -> None:
        self.busy -= 1
        self._wake_room()

    def _wake_room(self) -> None:
        free = self.capacity() - self.busy
        while free > 0 and self._room_waiters:
            future = self._room_waiters.popleft()
            if not future.done():
                future.set_result(None)
                self.busy += 1
                free -= 1

    def _wake(self) -> None:
        # every request already waiting for a slot re-checks (there are few: wait_room holds the rest back)
        waiters, self._slot_waiters = self._slot_waiters, collections.deque()
        for future in waiters:
            if not future.done():
                future.set_result(None)
        self._wake_room()

    # -- sending ----------------------------------------------------------------------
    async def complete(self, request: ChatRequest) -> Completion:
        model = request.model or self.model
        loop = asyncio.get_running_loop()
        while True:
            self._retry_at = None
            ep = self._choose(model)
            if ep is not None:
                break
            future = loop.create_future()
            self._slot_waiters.append(future)
            if self._retry_at is not None and not self._timer_set:  # a spaced slot opens then
                self._timer_set = True
                loop.call_later(max(0.0, self._retry_at - self.clock()), self._timer)
            await future
        win = self.window(ep, model)
        if win.exploring():
            win.explore_at = self.clock() + win.explore_gap()
        ticket = win.acquire()
        ep.in_flight += 1
        self.in_flight += 1
        send = request
        if ep.model and model == self.model:  # this server knows the model under another name
            send = ChatRequest(request.messages, ep.model, request.params, request.tag)
        started = self.clock()
        try:
            completion = await ep.backend.complete(send)
        except LLMError as exc:
            self._done(ep)
            error = self._failed(ep, win, ticket, exc)
            self._wake()
            raise error from None
        except BaseException:
            self._done(ep)
            win.released(ticket)
            self._wake()
            raise
        self._done(ep)
        win.success(ticket, self.clock() - started)
        ep.ok += 1
        ep.streak = 0
        if ep.probing:
            ep.probing, ep.cooldown = False, COOLDOWN
            self._note(f"endpoint {ep.where} answers again: back in the rotation")
        self._wake()
        return completion

    def _timer(self) -> None:
        self._timer_set = False
        self._wake()

    def _done(self, ep: Endpoint) -> None:
        ep.in_flight -= 1
        self.in_flight -= 1

    def _failed(self, ep: Endpoint, win: Window, ticket, exc: LLMError) -> LLMError:
        if exc.status in (429, 503) or exc.kind == "timeout":
            win.throttled(ticket)
        else:
            win.released(ticket)
        ep.failed += 1
        if len(self.endpoints) == 1:
            return exc
        others = any(o is not ep and not o.dead for o in self.endpoints)
        if exc.fatal and others:
            ep.dead = True
            self._note(f"endpoint {ep.where} refused the request ({exc.reason}): taken out for this run")
            return LLMError(f"endpoint {ep.where}: {exc.reason}", retryable=True, kind="endpoint")
        if exc.kind in ("connection", "malformed") or (exc.status or 0) >= 500:
            ep.streak += 1
            if (ep.streak >= FAILURES_OUT or ep.probing) and ep.down_until <= self.clock():
                self._take_out(ep, exc)
        return exc

    def _take_out(self, ep: Endpoint, exc: LLMError) -> None:
        ep.down_until = self.clock() + ep.cooldown
        ep.outs += 1
        why = "still fails" if ep.probing else f"taken out after {ep.streak} failures in a row"
        self._note(f"endpoint {ep.where} {why} ({exc.reason[:120]}); trying it again in {ep.cooldown:g} s")
        ep.cooldown = min(MAX_COOLDOWN, ep.cooldown * 2)
        ep.streak = 0
        ep.probing = True

    def _note(self, text: str) -> None:
        sys.stderr.write(f"note: {text}\n")
        sys.stderr.flush()

    async def aclose(self) -> None:
        for ep in self.endpoints:
            close = getattr(ep.backend, "aclose", None)
            if close is not None:
                await close()


def open_pool(model: str, urls: list, *, api_key_env: str = "OPENAI_API_KEY", timeout: float = 120.0,
              concurrency: int = 16) -> EndpointPool:
    """A pool over `urls` (strings or EndpointSpec), one OpenAIBackend each."""
    from dataforge.llm.openai_backend import OpenAIBackend

    specs = [u if isinstance(u, EndpointSpec) else EndpointSpec(u) for u in urls]
    backends = [OpenAIBackend(model, base_url=s.base_url, api_key_env=s.api_key_env or api_key_env,
                              timeout=timeout, concurrency=concurrency) for s in specs]
    return EndpointPool(backends, weights=[s.weight for s in specs], models=[s.model for s in specs])


def for_policy(backend, policy):
    """The backend the runner should use: a pool told the policy, or a single HTTP backend put in a pool
    for `-c auto`; anything else (a fixed -c on one server, a local model) as it is."""
    if isinstance(backend, EndpointPool):
        backend.use_policy(policy)
        return backend
    if getattr(policy, "adaptive", False) and getattr(backend, "name", "") == "openai":
        pool = EndpointPool([backend])
        pool.use_policy(policy)
        return pool
    return backend
