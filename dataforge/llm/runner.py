"""Run many chat requests: a sliding window, retries, validation, the journal, budgets, Ctrl-C.

    >>> with LLMSession(backend, "out.jsonl.journal.sqlite") as llm:      # doctest: +SKIP
    ...     results = llm.run(requests, validate=parse_numbered_list)
    >>> [r.value for r in results if r.ok]                                 # doctest: +SKIP

Concurrency is a sliding window: `concurrency` workers pull the next request
as soon as their last one finishes, so no request waits for a slow one. Each
request is looked up in the journal first (`done` ones are not sent again);
identical requests in flight at once share one send. A completion is good
only if it finished (`finish_reason` stop), is not empty and passes
`validate`; `length` is retried once with max_tokens doubled, an empty or
unparseable answer once more as is, then the request fails with its reason.

With `on_result`, the caller's code (its request iterator and the callback)
runs in one helper thread, one call at a time, so however long it takes
(parsing, language checks, writing rows) the event loop keeps reading
answers and the journal records each within milliseconds of its arrival. A
server that is down or refuses everything trips the circuit breaker
(`dataforge.llm.breaker`): the run stops with one error, the journal kept.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import threading
import time
from typing import Any, Callable, Iterable

from dataforge.errors import ConfigError, DataforgeError
from dataforge.llm.breaker import Breaker
from dataforge.llm.endpoints import for_policy
from dataforge.llm.journal import Journal
from dataforge.llm.limits import Bucket, RunStats, estimate_tokens, retry_delay
from dataforge.llm.pacing import Pacer, caller_thread, gc_frozen
from dataforge.llm.policy import Interrupted, RunPolicy
from dataforge.llm.types import ChatRequest, Completion, LLMError, ParseError, Result, Usage

Validator = Callable[[str, ChatRequest], Any]


class _Abandon(Exception):
    """A request given up because the run is being interrupted (it stays 'sent' in the journal)."""


class LLMSession:
    """One backend, one journal and running totals, shared by every stage of a job.

    `run(requests, validate)` returns one Result per request in input order;
    with `on_result` results are handed over as they finish instead (memory
    stays flat however many requests there are).
    """

    def __init__(self, backend, journal: str | os.PathLike | Journal | None = None, *,
                 policy: RunPolicy | None = None, fresh: bool = False, progress: bool = True):
        self.policy = policy or RunPolicy()
        self.backend = for_policy(backend, self.policy)  # -c auto / several endpoints: an EndpointPool
        self.fresh = fresh
        if self.policy.dry_run and journal is not None and not isinstance(journal, Journal):
            self.dry_journal, journal = journal, None  # a dry run reads an earlier journal, never makes one
        if journal is None or isinstance(journal, Journal):
            self.journal = journal
        else:
            self.journal = Journal(journal, fresh=fresh)
        self.stats = RunStats()
        self.stopped: str | None = None  # why new requests are no longer sent (budget, fatal error)
        self.show_progress = progress
        self._loop = asyncio.new_event_loop()
        self._rng = random.Random(self.policy.seed)
        self._rpm = Bucket(self.policy.rpm) if self.policy.rpm else None
        self._tpm = Bucket(self.policy.tpm) if self.policy.tpm else None
        self._inflight: dict[str, asyncio.Future] = {}
        self._interrupted = False
        self._fatal: LLMError | None = None
        self._breaker = Breaker(self.policy.breaker_failures, self.policy.breaker_seconds,
                                self.policy.breaker_seconds_after_success)
        self._tripped: DataforgeError | None = None  # the breaker's error, raised when the run ends
        self._workers: list[asyncio.Task] = []
        self._pacer = Pacer()
        self._grace_timer: asyncio.TimerHandle | None = None

    # -- public --------------------------------------------------------------
    def run(self, requests: Iterable[ChatRequest], validate: Validator | None = None, *,
            description: str = "llm", on_result: Callable[[Result], None] | None = None):
        policy = self.policy
        if policy.dry_run or policy.batch is not None or (policy.preflight and policy.max_cost is not None):
            from dataforge.llm.batch_run import run_prepared  # estimate first; --batch answers first

            return run_prepared(self, self._run, requests, validate, description=description, on_result=on_result)
        return self._run(requests, validate, description=description, on_result=on_result)

    def _run(self, requests: Iterable[ChatRequest], validate: Validator | None = None, *,
             description: str = "llm", on_result: Callable[[Result], None] | None = None):
        total = len(requests) if hasattr(requests, "__len__") else None
        collected: list[Result | None] | None = None if on_result is not None else []
        if collected is not None:
            requests = list(requests)
            collected.extend([None] * len(requests))

        from dataforge.progress import _NoBar, progress_bar

        bar_ctx = progress_bar(description, total=total, unit="req") if self.show_progress else None
        bar = bar_ctx.__enter__() if bar_ctx else _NoBar()
        try:
            indexed = enumerate(requests)

            def deliver(i: int, result: Result) -> None:
                if collected is not None:
                    collected[i] = result
                else:
                    on_result(result)
                bar.advance(1)
                self._show(bar, description)

            if on_result is None:
                self._drive(self._window(indexed, validate, deliver))
            else:  # the caller's code runs in one helper thread, off the event loop
                with caller_thread() as caller:
                    self._drive(self._window(indexed, validate, deliver, caller))
        finally:
            if bar_ctx:
                self._show(bar, description, force=True)
                bar_ctx.__exit__(None, None, None)
        return collected

    def close(self) -> None:
        try:
            self._loop.run_until_complete(self._aclose())
        finally:
            self._loop.close()
            if self.journal is not None:
                self.journal.close()

    def __enter__(self) -> "LLMSession":
        return self

    def __exit__(self, *_):
        self.close()

    # -- driving the loop, Ctrl-C ----------------------------------------------
    def _drive(self, coro) -> None:
        installed = (self.policy.handle_sigint and threading.current_thread() is threading.main_thread()
                     and sys.platform != "win32")
        if installed:
            self._loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        try:
            with gc_frozen():
                self._loop.run_until_complete(coro)
        finally:
            if installed:
                self._loop.remove_signal_handler(signal.SIGINT)
            if self._grace_timer is not None:
                self._grace_timer.cancel()
            if self.journal is not None:
                self.journal.flush()
        if self._interrupted:
            raise Interrupted(self._resume_message())
        if self._tripped is not None:
            raise self._tripped
        if self._fatal is not None:
            from dataforge.llm.openai_backend import fatal_hint

            raise ConfigError(f"the server refused the requests: {self._fatal.reason}",
                              fatal_hint(self._fatal.status, self.backend))

    def _on_sigint(self) -> None:
        if self._interrupted:  # second Ctrl-C: save what is known and leave at once
            if self.journal is not None:
                self.journal.flush()
            sys.stderr.write("\ninterrupted again: exiting now; the journal is saved\n")
            sys.stderr.flush()
            os._exit(130)
        self._interrupted = True
        sys.stderr.write(f"\ninterrupt: letting requests in flight finish (up to {self.policy.grace:g} s);"
                         " Ctrl-C again to quit at once\n")
        self._grace_timer = self._loop.call_later(self.policy.grace, self._cancel_workers)

    def _cancel_workers(self) -> None:
        for task in self._workers:
            task.cancel()

    def _resume_message(self) -> str:
        where = f" in {self.journal.path}" if self.journal is not None else ""
        saved = f"{self.stats.done:,} finished requests are saved{where}"
        if self.journal is None:
            saved = "no journal was kept, so a rerun starts over"
        return f"interrupted: {saved}; run the same command again to resume (--fresh starts over)"

    # -- the window --------------------------------------------------------------
    async def _window(self, indexed, validate, deliver, caller=None) -> None:
        loop = self._loop

        async def call(func, *args):
            return func(*args) if caller is None else await loop.run_in_executor(caller, func, *args)

        # an adaptive window (EndpointPool): a worker takes a request only while the window has room for it
        room, leave = getattr(self.backend, "wait_room", None), getattr(self.backend, "leave_room", None)

        async def worker():
            while True:
                if room is not None:
                    await room()
                try:
                    item = await call(next, indexed, None)  # shared iterator: a free worker takes the next request
                    if item is None:
                        return
                    i, request = item
                    try:
                        result = await self._one(request, validate)
                    except _Abandon:
                        return
                finally:
                    if room is not None:
                        leave()
                await call(deliver, i, result)

        workers = self.policy.concurrency
        if self.policy.adaptive and room is None:  # a local model: -c auto means the old default
            workers = 16
        self._workers = [asyncio.ensure_future(worker()) for _ in range(workers)]
        watch = asyncio.ensure_future(self._pacer.watch())
        try:
            outcomes = await asyncio.gather(*self._workers, return_exceptions=True)
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
        self._workers = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                raise outcome

    async def _one(self, request: ChatRequest, validate: Validator | None) -> Result:
        if not request.model:
            request.model = self.backend.model
        key = request.key
        journal = self.journal
        if journal is not None:
            entry = journal.get(key)
            if entry is not None and entry.state == "done":
                cached = self._from_journal(request, entry, validate)
                if cached is not None:
                    return cached
        if self._interrupted:
            raise _Abandon()
        prepaid = getattr(self.backend, "prepaid", None)  # --batch: an answer already paid for is always kept
        if self.stopped is not None and not (prepaid is not None and prepaid(key)):
            self.stats.not_sent += 1
            return Result(request, ok=False, reason=f"not sent: {self.stopped}", sent=False)
        shared = self._inflight.get(key)
        if shared is not None:  # the same request is already on its way: wait for its answer
            first: Result = await asyncio.shield(shared)
            return Result(request, first.ok, first.value, first.content, first.finish_reason, first.reason,
                          Usage(), first.attempts, cached=True, sent=first.sent)
        future = self._loop.create_future()
        self._inflight[key] = future
        try:
            if journal is not None:
                journal.mark_sent(key, request.model)
            result = await self._attempts(request, validate)
            if journal is not None and result.sent:
                journal.record(key, state="done" if result.ok else "failed", model=request.model,
                               content=result.content, finish_reason=result.finish_reason,
                               prompt_tokens=result.usage.prompt_tokens,
                               completion_tokens=result.usage.completion_tokens,
                               attempts=result.attempts, reason=result.reason)
            if result.ok:
                self.stats.done += 1
            elif result.sent:
                self.stats.fail(result.reason or "failed")
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(_Abandon() if not isinstance(exc, _Abandon) else exc)
            future.exception()  # mark retrieved
            raise
        finally:
            del self._inflight[key]

    def _from_journal(self, request, entry, validate) -> Result | None:
        try:
            value = validate(entry.content, request) if validate else entry.content
        except ParseError:
            return None  # the parser changed since: ask again
        self.stats.done += 1
        self.stats.cached += 1
        return Result(request, True, value, entry.content, entry.finish_reason, None,
                      Usage(entry.prompt_tokens, entry.completion_tokens), entry.attempts, cached=True)

    async def _attempts(self, request: ChatRequest, validate: Validator | None) -> Result:
        policy, stats = self.policy, self.stats
        current, usage = request, Usage()
        attempts = retries = 0
        left = {"length": policy.length_retries, "empty": policy.empty_retries, "parse": policy.parse_retries}
        last_content = last_finish = None

        def failed(reason: str, transient: bool = False) -> Result:
            return Result(request, False, None, last_content, last_finish, reason, usage, attempts,
                          transient=transient)

        while True:
            estimate = await self._gate(current)
            attempts += 1
            stats.sent += 1
            try:
                completion: Completion = await self.backend.complete(current)
            except LLMError as exc:
                if self._tpm is not None:
                    self._tpm.refund(estimate)
                if exc.fatal:
                    self._fatal = self._fatal or exc
                    self.stopped = self.stopped or exc.reason
                    return failed(exc.reason)
                gave_up = not exc.retryable or retries >= policy.max_retries
                why = self._breaker.failure(exc, gave_up=gave_up)
                if why is not None:
                    self._trip(self._breaker.error(why, exc, self.backend))
                if gave_up:
                    return failed(exc.reason + (f" (after {attempts} attempts)" if exc.retryable else ""),
                                  transient=exc.retryable)
                if self._interrupted:
                    raise _Abandon() from None
                retries += 1
                stats.retries += 1
                delay = retry_delay(retries, exc.retry_after, backoff=policy.backoff,
                                    backoff_cap=policy.backoff_cap, max_retry_wait=policy.max_retry_wait,
                                    rng=self._rng)
                probe = self._breaker.probe_every() if exc.kind == "connection" else None
                if probe is not None:  # a server never reached: find out soon whether it is down
                    delay = min(delay, probe * self._rng.uniform(0.75, 1.0))
                await asyncio.sleep(delay)
                continue
            self._breaker.success()
            self._account(completion.usage, estimate)
            usage.add(completion.usage)
            last_content, last_finish = completion.content, completion.finish_reason
            finish = completion.finish_reason or "stop"
            if finish == "length":
                limit = current.params.get("max_tokens")
                if left["length"] > 0 and limit and limit < policy.max_tokens_cap and not self._interrupted:
                    left["length"] -= 1
                    current = current.with_params(max_tokens=min(int(limit) * 2, policy.max_tokens_cap))
                    continue
                return failed(f"truncated: finish_reason=length at max_tokens={limit}")
            if finish == "content_filter":
                return failed("content filtered: finish_reason=content_filter")
            if not completion.content or not completion.content.strip():
                if left["empty"] > 0 and not self._interrupted:
                    left["empty"] -= 1
                    continue
                return failed("empty completion")
            if validate is not None:
                try:
                    value = validate(completion.content, request)
                except ParseError as exc:
                    if left["parse"] > 0 and not self._interrupted:
                        left["parse"] -= 1
                        continue
                    return failed(f"unparseable output: {exc.reason}")
            else:
                value = completion.content
            return Result(request, True, value, completion.content, completion.finish_reason, None, usage,
                          attempts)

    def _trip(self, error: DataforgeError) -> None:
        """Stop the run: every worker is cancelled (requests in flight stay 'sent' in the journal)."""
        if self._tripped is None:
            self._tripped = error
            self.stopped = self.stopped or error.message
            self._cancel_workers()
        raise _Abandon()

    async def _gate(self, request: ChatRequest) -> int:
        """Wait for the pacer and the --rpm/--tpm buckets; returns the token estimate taken."""
        await self._pacer.wait()
        if self._rpm is not None:
            await self._rpm.take(1)
        estimate = 0
        if self._tpm is not None:
            estimate = estimate_tokens(request)
            await self._tpm.take(estimate)
        return estimate

    def _account(self, usage: Usage, estimate: int) -> None:
        stats, policy = self.stats, self.policy
        stats.usage.add(usage)
        if policy.prices is not None:
            stats.cost += policy.prices.cost(usage)
        if self._tpm is not None:
            self._tpm.refund(estimate - usage.total)
        if self.stopped is None:
            if policy.max_cost is not None and stats.cost >= policy.max_cost:
                self.stopped = f"--max-cost {policy.max_cost:g} reached (est. ${stats.cost:.4f})"
            elif policy.max_tokens is not None and stats.usage.total >= policy.max_tokens:
                self.stopped = f"--max-tokens {policy.max_tokens:,} reached ({stats.usage.total:,} used)"

    def _show(self, bar, description: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - getattr(self, "_shown", 0.0) < 0.25:
            return
        self._shown = now
        window = getattr(self.backend, "window_text", None)  # -c auto: the current window(s)
        extra = f" · {window()}" if window is not None else ""
        bar.update(description=f"{description} · {self.stats.brief(self.policy.prices is not None)}{extra}")

    async def _aclose(self) -> None:
        close = getattr(self.backend, "aclose", None)
        if close is not None:
            await close()


def run_requests(requests: Iterable[ChatRequest], backend, journal_path: str | os.PathLike | None = None, *,
                 validate: Validator | None = None, policy: RunPolicy | None = None, fresh: bool = False,
                 progress: bool = True, description: str = "llm") -> list[Result]:
    """Send every request (resuming from the journal), one Result per request, in order."""
    with LLMSession(backend, journal_path, policy=policy, fresh=fresh, progress=progress) as session:
        return session.run(requests, validate, description=description)


__all__ = ["RunPolicy", "LLMSession", "run_requests", "Interrupted", "DataforgeError"]
