"""Hold back new requests while the event loop runs late, so answers are read (and journaled) at once.

When the client is the bottleneck (many requests in flight, a fast server, a
busy CPU), answers wait in socket buffers behind the work of sending more
requests; an answer that has arrived but is not yet read is lost if the
process is killed, and paid for again by the rerun. The pacer measures how
late a short timer fires; while the loop is late it closes a gate that every
new attempt waits on, so the loop spends its time reading answers first.
Throughput is unchanged (the CPU was the limit anyway); the answers' wait is
what shrinks.
"""

from __future__ import annotations

import asyncio


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
