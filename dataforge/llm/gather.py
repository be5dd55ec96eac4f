"""The request queue of the in-process backends: requests that arrive together run as one batch.

    >>> queue = GatherQueue(run_batch, what="generation", pick=same_sampling)   # doctest: +SKIP
    >>> completion = await queue.submit(request)                                 # doctest: +SKIP

The runner sends a window of requests concurrently; a local model is fastest
when it sees them as one batch. `submit` queues the item and starts one drain
task, which waits `settle` seconds for the rest of the window to arrive, takes
the items `pick` chooses (all of them by default; the chat backend takes those
with the head's sampling parameters, up to its batch size) and runs
`run_batch(items)` in a worker thread while the event loop keeps taking
requests. `run_batch` returns one result per item, each a value or an
exception for that item alone. If it raises, every item of the batch fails
with an LLMError (an LLMError it raised is passed on as it is): a model error
fails those requests, never the run.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Sequence

from dataforge.llm.types import LLMError


class GatherQueue:
    def __init__(self, run_batch: Callable[[list], Sequence[Any]], *, what: str, settle: float = 0.01,
                 pick: Callable[[list], list[int]] | None = None):
        self._run_batch, self._what, self._settle, self._pick = run_batch, what, settle, pick
        self._queue: list[tuple[Any, asyncio.Future]] = []
        self._drainer: asyncio.Task | None = None
        self.batches = 0  # run_batch calls so far

    async def submit(self, item: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.ensure_future(self._drain())
        return await future

    def _take(self) -> list[tuple[Any, asyncio.Future]]:
        if self._pick is None:
            batch, self._queue = self._queue, []
            return batch
        chosen = set(self._pick([item for item, _ in self._queue])) or {0}  # never an empty batch
        batch = [entry for i, entry in enumerate(self._queue) if i in chosen]
        self._queue = [entry for i, entry in enumerate(self._queue) if i not in chosen]
        return batch

    async def _drain(self) -> None:
        while self._queue:
            await asyncio.sleep(self._settle)  # let the other workers of the window queue theirs
            batch = self._take()
            self.batches += 1
            try:
                outs = list(await asyncio.to_thread(self._run_batch, [item for item, _ in batch]))
            except LLMError as exc:
                outs = [exc] * len(batch)
            except Exception as exc:  # the model failed: these requests fail, the run goes on
                outs = [LLMError(f"local {self._what} failed: {type(exc).__name__}: {str(exc)[:200]}")] * len(batch)
            if len(outs) != len(batch):
                outs = [LLMError(f"local {self._what}: {len(outs)} results for {len(batch)} requests")] * len(batch)
            for (_, future), out in zip(batch, outs):
                if future.done():  # cancelled while it waited (Ctrl-C, budget)
                    continue
                if isinstance(out, BaseException):
                    future.set_exception(out)
                else:
                    future.set_result(out)
