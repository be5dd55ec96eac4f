"""Keep the event loop responsive, so answers are read (and journaled) as soon as they arrive.

`Pacer`: hold back new requests while the event loop runs late.
When the client is the bottleneck (many requests in flight, a fast server, a
busy CPU), answers wait in socket buffers behind the work of sending more
requests; an answer that has arrived but is not yet read is lost if the
process is killed, and paid for again by the rerun. The pacer measures how
late a short timer fires; while the loop is late it closes a gate that every
new attempt waits on, so the loop spends its time reading answers first.
Throughput is unchanged (the CPU was the limit anyway); the answers' wait is
what shrinks.

`caller_thread()`: one helper thread for the caller's code (request iterator,
result callback), with a short GIL switch interval while it exists.
`gc_frozen()`: leave the objects alive at the start of a run out of garbage
collection during it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import sys


class Pacer:
    def __init__(self, tick: float = 0.002, late: float = 0.005):
        self.tick, self.late = tick, late
        self._open = asyncio.Event()
        self._open.set()

    async def watch(self) -> None:
        """Run for as long as requests are being sent (cancel it afterwards)."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                start = loop.time()
                await asyncio.sleep(self.tick)
                if loop.time() - start - self.tick > self.late:
                    self._open.clear()
                else:
                    self._open.set()
        finally:
            self._open.set()  # never leave the gate shut for the session's next run

    async def wait(self) -> None:
        # Yield once: answers already read in this loop iteration are journaled before this send
        # (each send costs about as much CPU as reading an answer).
        await asyncio.sleep(0)
        if not self._open.is_set():
            await self._open.wait()


@contextlib.contextmanager
def caller_thread():
    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="dataforge-caller")
    # A busy caller thread would keep the GIL up to 5 ms after each of the loop's socket calls;
    # 1 ms keeps answers flowing (and being journaled) while it works.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.001))
    try:
        yield executor
    finally:
        executor.shutdown(wait=True)  # the caller's code never runs on after the run returned
        sys.setswitchinterval(interval)


@contextlib.contextmanager
def gc_frozen():
    # Objects alive now (modules, the data, language profiles) need no scanning during the run: a
    # full collection of them stops every thread for 50-100 ms while answers wait unjournaled.
    freeze = gc.get_freeze_count() == 0  # someone else froze already: leave theirs alone
    if freeze:
        gc.freeze()
    try:
        yield
    finally:
        if freeze:
            gc.unfreeze()
