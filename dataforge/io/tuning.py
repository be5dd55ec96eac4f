"""Interpreter settings for the row loops that stream millions of records.

The loops allocate a few small dicts per row and keep a batch alive until it is
written, so CPython's cyclic collector runs thousands of times over objects that
cannot form cycles; at the default thresholds that is about a fifth of the time
of a convert to Parquet (measured with bench/bench_io.py). Raising the threshold
for the duration of the loop keeps reference counting (memory is still freed at
once) and only makes cycle hunting rarer.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def fewer_gc_passes(threshold: int = 100_000) -> Iterator[None]:
    old = gc.get_threshold()
    gc.set_threshold(max(threshold, old[0]), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
