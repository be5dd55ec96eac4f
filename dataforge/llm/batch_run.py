"""What `LLMSession.run` does first when a run has `--dry-run`, `--max-cost` (preflight) or `--batch`.

- The first stage of a session is estimated (`dataforge.llm.cost`): a dry run
  stops there (`DryRun`), a run whose estimate is above `--max-cost` is refused.
- With `--batch`, the requests not already answered in the journal go through
  the Batch API (`dataforge.llm.batch`); then the ordinary window runs over all
  requests with a backend primed with the batch's answers. So every answer is
  checked by the same code as a synchronous one (truncation, empty, the
  method's parser), is journaled under the same hash, and an answer the batch
  did not give (a failed line, an expired batch) or that needs asking again is
  sent synchronously, or first in follow-up batches with `--batch-retry`.
  Batch answers are priced at the Batch API's factor.
"""

from __future__ import annotations

import asyncio
import sys

from dataforge.llm.batch import BatchCancelled, BatchClient, BatchPlan, Ledger
from dataforge.llm.cost import DryRun, batch_factor, estimate, preflight, request_tokens
from dataforge.llm.limits import Prices
from dataforge.llm.policy import Interrupted
from dataforge.llm.types import Completion, Usage


def run_prepared(session, run, requests, validate, *, description: str, on_result):
    """`session.run` for a policy with dry_run, preflight or batch; `run` is the plain one."""
    policy = session.policy
    requests = list(requests)
    model = session.backend.model
    for request in requests:
        if not request.model:
            request.model = model
    first = not getattr(session, "_estimated", False)
    session._estimated = True
    if first and (policy.dry_run or (policy.preflight and policy.max_cost is not None)):
        journal = session.journal.path if session.journal is not None else getattr(session, "dry_journal", None)
        est = estimate(requests, model=model, prices=policy.prices, journal=journal, stage=description)
        if policy.dry_run:
            raise DryRun(est)
        preflight(est, policy.max_cost, policy.batch is not None)
    if policy.batch is None or not requests:
        return run(requests, validate, description=description, on_result=on_result)
    return _batched(session, run, requests, validate, description, on_result)


class PrimedBackend:
    """The session's backend, answering first from the batch: a request's first attempt takes the batch's
    answer; any further attempt (a retry after a check failed) and every request the batch did not answer
    go to the real backend."""

    def __init__(self, real, answers: dict[str, Completion]):
        self.real, self.answers = real, answers
        self.model = real.model
        self.served = 0
        self.served_usage = Usage()
        self.sync_usage = Usage()

    def prepaid(self, key: str) -> bool:
        """An answer the batch gave and that was paid for: the runner takes it even after a budget stop."""
        return key in self.answers

    async def complete(self, request):
        answer = self.answers.pop(request.key, None)
        if answer is not None:
            self.served += 1
            self.served_usage.add(answer.usage)
            return answer
        completion = await self.real.complete(request)
        self.sync_usage.add(completion.usage)
        return completion

    def __getattr__(self, name):
        return getattr(self.real, name)


def _batched(session, run, requests, validate, description, on_result):
    journal = session.journal
    # --fresh forgets the batches of earlier runs, once: later stages of this run may still attach to their own
    fresh = getattr(session, "fresh", False) and not getattr(session, "_ledger_opened", False)
    session._ledger_opened = True
    ledger = Ledger(journal.path if journal is not None else None, fresh=fresh)
    try:
        return _batched_with(session, ledger, run, requests, validate, description, on_result)
    finally:
        ledger.close()


def _batched_with(session, ledger, run, requests, validate, description, on_result):
    plan, journal = session.policy.batch, session.journal
    if not isinstance(plan, BatchPlan):  # `batch: true` in a recipe
        plan = BatchPlan()
    client = BatchClient(session.backend, ledger, plan)
    todo = {}
    for request in requests:
        if not request.messages:  # a completions request (magpie's pre-query prompt): the Batch API here is chat
            continue
        entry = journal.get(request.key) if journal is not None else None
        if entry is None or entry.state != "done":
            todo.setdefault(request.key, request)
    todo, held = _within_budget(session, todo, ledger)
    if held:  # the budget is spent by the estimate: these are not sent, by the batch or synchronously
        session.stopped = session.stopped or held
    answers, finished = {}, []
    rounds = 1 + (plan.retry_rounds if plan.retry == "batch" else 0)
    with _Status(description, len(todo), session.show_progress) as show:
        for _ in range(rounds):
            if not todo:
                break
            got, _failed, batches = _wait(session, client.fetch(list(todo.values()), show,
                                                                skip={b.id for b in finished}))
            answers.update(got)
            finished += batches
            cancelled = [b for b in batches if b.status == "cancelled"]
            if cancelled:
                _keep_and_stop(session, ledger, finished, answers, len(todo), cancelled[0].id)
            todo = {k: r for k, r in todo.items() if k not in got}
    primed = PrimedBackend(session.backend, answers)
    policy, real, prices = session.policy, session.backend, session.policy.prices
    factor = batch_factor()
    session.backend = primed
    if prices is not None:  # the window prices what it is given; batch answers cost `factor` of it
        policy.prices = Prices(prices.input * factor, prices.output * factor)
    try:
        results = run(requests, validate, description=description, on_result=on_result)
    finally:
        session.backend, policy.prices = real, prices
        stats = session.stats
        stats.sent -= primed.served  # answers taken from a batch were not HTTP attempts
        stats.batched += primed.served
        if prices is not None:  # what the window priced at the batch's rate but was sent synchronously
            stats.cost += prices.cost(primed.sync_usage) * (1 - factor)
    for batch in finished:  # their answers are in the journal now: a rerun does not attach again
        ledger.close_batch(batch.id, batch.status)
    return results


def _within_budget(session, todo: dict, ledger) -> tuple[dict, str | None]:
    """The requests the budget left (--max-tokens, --max-cost at the batch price) covers by the estimate,
    in order, and why the rest are held back (None when all fit). A batch's answers are paid for
    whatever the run does next, so the budget is applied before submitting, never to answers; requests
    in a batch an earlier run left running are paid for too and always kept."""
    policy, stats = session.policy, session.stats
    if not todo or (policy.max_tokens is None and policy.max_cost is None and session.stopped is None):
        return todo, None
    running = set().union(*ledger.open_for(set(todo)).values())
    paid = {k: r for k, r in todo.items() if k in running}
    todo = {k: r for k, r in todo.items() if k not in running}
    if session.stopped is not None:
        return paid, session.stopped
    if not todo:
        return paid, None
    journal = session.journal.path if session.journal is not None else None
    sizes = request_tokens(list(todo.values()), journal)
    prices = policy.prices
    factor = batch_factor()
    tokens_left = None if policy.max_tokens is None else policy.max_tokens - stats.usage.total
    cost_left = None if policy.max_cost is None or prices is None else policy.max_cost - stats.cost
    kept, tokens, cost = {}, 0, 0.0
    for (key, request), (n_in, n_out) in zip(todo.items(), sizes):
        tokens += n_in + n_out
        cost += (n_in * prices.input + n_out * prices.output) / 1e6 * factor if prices is not None else 0.0
        if (tokens_left is not None and tokens > tokens_left) or (cost_left is not None and cost > cost_left):
            break
        kept[key] = request
    kept.update(paid)
    if len(kept) == len(todo) + len(paid):
        return kept, None
    each = sum(a + b for a, b in sizes) / len(sizes)
    if tokens_left is not None and tokens > tokens_left:
        budget = f"--max-tokens {policy.max_tokens:,} ({max(tokens_left, 0):,} left)"
    else:
        budget = f"--max-cost {policy.max_cost:g} (${max(cost_left, 0):.4f} left at the batch price)"
    return kept, (f"budget: {budget} covers {len(kept) - len(paid):,} of {len(todo):,} new batch requests"
                  " by the estimate"
                  f" (~{each:,.0f} tokens each)")  # the callers' summaries say how to continue


def _wait(session, coro):
    """Run a batch coroutine on the session's loop; Ctrl-C leaves the batch running and says how to resume."""
    task = session._loop.create_task(coro)
    try:
        return session._loop.run_until_complete(task)
    except KeyboardInterrupt:
        task.cancel()  # stop polling; the batch itself runs on at the server
        try:
            session._loop.run_until_complete(task)
        except (asyncio.CancelledError, Exception):
            pass
        where = f" (recorded in {session.journal.path})" if session.journal is not None else ""
        raise Interrupted(f"interrupted: the batch keeps running at the server{where}; run the same command"
                          " again to pick up its answers without creating another batch (--fresh starts over)"
                          ) from None


def _keep_and_stop(session, ledger, finished, answers, total, batch_id) -> None:
    """A cancelled batch: keep the answers it gave in the journal, then stop the run with an error."""
    journal = session.journal
    kept = 0
    if journal is not None:
        for key, answer in answers.items():
            if answer.finish_reason in (None, "stop") and answer.content and answer.content.strip():
                journal.record(key, state="done", model=answer.model or session.backend.model,
                               content=answer.content, finish_reason=answer.finish_reason,
                               prompt_tokens=answer.usage.prompt_tokens,
                               completion_tokens=answer.usage.completion_tokens, attempts=1, reason=None)
                kept += 1
        journal.flush()
    for batch in finished:
        ledger.close_batch(batch.id, batch.status)
    raise BatchCancelled(f"batch {batch_id} was cancelled (at the server or in the dashboard):"
                         f" {kept:,} of {total:,} requests were answered; their answers are kept in the journal",
                         f"run the same command again to send the other {total - kept:,} in a new batch, or"
                         " without --batch to send them synchronously")


class _Status:
    """The batch's state and counts while waiting: a bar, or (when the caller shows its own bar) a line
    on stderr each time the state changes."""

    def __init__(self, description: str, total: int, bar: bool):
        self.description, self.total, self.want_bar = description, total, bar
        self._ctx = self._bar = None
        self._last = ""

    def __enter__(self):
        from dataforge.progress import is_quiet, progress_bar

        self.quiet = is_quiet()
        if self.want_bar and not self.quiet:
            self._ctx = progress_bar(f"{self.description} · batch", total=self.total, unit="req")
            self._bar = self._ctx.__enter__()
        return self

    def __call__(self, text: str, done: int) -> None:
        if self._bar is not None:
            self._bar.update(description=f"{self.description} · batch {text}", completed=done)
            return
        state = text.split(" · ", 1)[0]
        if state != self._last and not self.quiet:
            self._last = state
            sys.stderr.write(f"{self.description}: batch {text}\n")
            sys.stderr.flush()

    def __exit__(self, *exc):
        if self._ctx is not None:
            self._ctx.__exit__(*exc)


def run_flags(*, dry_run: bool = False, force: bool = False, batch: bool = False, batch_retry: bool = False) -> dict:
    """RunPolicy fields for the CLI flags --dry-run, --force, --batch and --batch-retry (which implies --batch)."""
    from dataforge.llm.batch import BatchPlan

    plan = BatchPlan(retry="batch" if batch_retry else "sync") if (batch or batch_retry) else None
    return {"dry_run": dry_run, "preflight": not force, "batch": plan}
