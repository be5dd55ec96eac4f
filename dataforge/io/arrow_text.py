"""The strings of a polars column read in place from their Arrow buffers: no Python str per row.

Ids, exact-dedup hashes and JSON-lines output are computed on bytes; going through the buffer
instead of `series.to_list()` saves a decode and an object per row, which is most of their cost.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import numpy as np
import polars as pl
import pyarrow as pa

T = TypeVar("T")


def string_buffers(series: pl.Series) -> tuple[np.ndarray, memoryview]:
    """(offsets, bytes): row i is bytes[offsets[i]:offsets[i + 1]] (UTF-8)."""
    arr = series.to_arrow()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    _, offsets, values = arr.buffers()
    off = np.frombuffer(offsets, dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    return off, memoryview(values) if values is not None else memoryview(b"")


def map_bytes(series: pl.Series, func: Callable[[memoryview], T]) -> list[T]:
    """func(bytes of the row) for each row."""
    off, view = string_buffers(series)
    bounds = off.tolist()
    return [func(view[a:b]) for a, b in zip(bounds, bounds[1:])]


def joined_bytes(series: pl.Series) -> memoryview:
    """Every row's bytes back to back (a column of whole JSON lines is the file's next block)."""
    off, view = string_buffers(series)
    return view[int(off[0]):int(off[-1])] if len(off) else memoryview(b"")
