"""Run a generator one or two items ahead in a background thread.

The columnar reader parses the next block of JSON lines (polars, which
releases the GIL) while the caller hashes ids and the Parquet writer
compresses: on two cores the three overlap. Items and any exception arrive
in the generator's order; memory is bounded by `depth` items. A consumer
that stops early (an error further on, Ctrl-C) closes the generator in its
thread, so its file is closed too.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterator, TypeVar

T = TypeVar("T")
_END = object()


def ahead(gen: Iterator[T], depth: int = 2) -> Iterator[T]:
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in gen:
                if not put((item, None)):
                    break
            else:
                put((_END, None))
        except BaseException as exc:  # handed to the consumer, in order
            put((_END, exc))
        finally:
            close = getattr(gen, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=work, name="columnar-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = items.get()
            if exc is not None:
                raise exc
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join()
