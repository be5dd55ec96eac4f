"""JSON lines for the columnar reader: blocks of whole lines, read by polars, checked against the bytes.

polars reads JSON leniently: a number, boolean or null in a text column
becomes text, a repeated key keeps its first value, a lone surrogate escape
becomes NUL, a column outside the schema is dropped. `_read_block` makes the
parse exact by checking the raw bytes: every key must be followed by a
string and there must be one key per filled cell; a line whose value is no
text is handed to the row path alone; lines with escaped quotes (JSON inside
a value) or surrogate escapes are read again by orjson; a block the checks
cannot place goes to the row path whole. `_rows_of` gives a block's lines
exactly as `rawread`'s JSON lines reader does, for the row path.
"""

from __future__ import annotations

import io
import re

import orjson
import polars as pl

from dataforge.io.files import DataFile
from dataforge.io.rawread import (
    _BOM,
    _NEST_CHECK,
    _check_not_binary,
    _slow_parse,
    _unstorable,
    max_line_bytes,
    open_binary,
)
from dataforge.io.rejects import Reject

_KEY_VALUE = re.compile(rb'": ?(.)', re.S)  # a key's closing quote, colon, the value's first byte
_TEXT_TYPES = (pl.String, pl.Null)
_DOUBT = re.compile(rb'\\(?:u[dD]|":)')


def jsonl_chunks(df: DataFile, schema: dict, block_size: int):
    """(first line number, (DataFrame, odd line indexes) or None, rows for the row path) per block."""
    name = str(df.path)
    _check_not_binary(df)
    line = 1
    with open_binary(df) as fh:
        rest = b""
        first = True
        while True:
            block = fh.read(block_size)
            data = rest + block
            if not data:
                return
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # no line end yet: read on (a line up to the limit is fine)
                    if len(data) > max_line_bytes():
                        _too_long(name, line)
                    rest = data
                    continue
                data, rest = data[:cut], data[cut:]
            else:
                rest = b""
            if first and data.startswith(_BOM):
                data = data[3:]  # the row path drops it from line 1 too
            first = False
            if not block and len(data) > max_line_bytes() and b"\n" not in data:
                _too_long(name, line)
            lines = data.count(b"\n") + (not data.endswith(b"\n"))
            yield line, _read_block(data, lines, schema), _rows_of(data, name, line)
            line += lines
            if not block:
                return


def _read_block(data: bytes, lines: int, schema: dict) -> tuple[pl.DataFrame, list[int]] | None:
    """(the block as columns, indexes of lines the row path must read) when polars reads every other line
    as the row path would; None when in doubt about the block."""
    try:
        frame = pl.read_ndjson(io.BytesIO(data), schema=schema)
    except Exception:  # malformed JSON, bad UTF-8, a line that is no object: the row path says which
        return None
    if frame.height != lines or any(t not in _TEXT_TYPES for t in frame.dtypes):
        return None  # blank lines, or nested values
    # polars turns numbers, booleans and nulls into text, keeps the first of a repeated key and drops
    # columns the schema lacks: every key must be followed by a string, one key per filled cell
    found = _KEY_VALUE.findall(data)
    cells = sum(frame.height - s.null_count() for s in frame.iter_columns())
    doubt, other = _DOUBT.search(data) is not None, found.count(b'"') != len(found)
    if not doubt and not other:
        return (frame, []) if len(found) == cells else None
    # Lines with a value that is no text go to the row path (it rejects or converts them); lines with a
    # surrogate escape (polars reads a lone one as NUL) or a key-like text inside a value (which the key
    # count cannot tell from a key) are read again by orjson.
    starts, ends = _line_bounds(data, lines)
    suspects = _lines_at(_DOUBT, data, ends) if doubt else []  # orjson tells what their values are
    # the same matches the count saw (a text that opens with ':' is no key), those not followed by a string
    odd = sorted(set(_lines_at(_KEY_VALUE, data, ends, lambda m: m.group(1) != b'"')) - set(suspects)) \
        if other else []
    aside = sorted({*odd, *suspects})
    if len(aside) > 16 and len(aside) * 8 > lines:
        return None  # mostly such lines: the row path is as fast
    keys = sum(len(_KEY_VALUE.findall(data, int(starts[i]), int(ends[i]))) for i in aside)
    filled = sum(len(s) - s.null_count() for s in frame[aside].iter_columns())
    if len(found) - keys != cells - filled:
        return None
    if suspects:
        frame, failed = _patch(frame, data, starts, ends, suspects, schema)
        odd = sorted({*odd, *failed})
    return frame, odd


def _line_bounds(data: bytes, lines: int):
    import numpy as np

    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    if len(ends) < lines:
        ends = np.append(ends, len(data))
    starts = np.concatenate(([0], ends[:-1] + 1))
    return starts, ends


def _lines_at(pattern: re.Pattern, data: bytes, ends, keep=None) -> list[int]:
    """Indexes of the lines where `pattern` matches (and `keep(match)` holds)."""
    import numpy as np

    hits = np.fromiter((m.start() for m in pattern.finditer(data) if keep is None or keep(m)), dtype=np.int64)
    return np.unique(np.searchsorted(ends, hits)).tolist()


def _patch(frame: pl.DataFrame, data: bytes, starts, ends, suspects: list[int], schema: dict):
    """(the frame with the suspect lines' values as orjson reads them, the suspects that are no plain row)."""
    objs, rows, failed = [], [], []
    for i in suspects:
        try:
            obj = orjson.loads(data[int(starts[i]):int(ends[i])])
        except orjson.JSONDecodeError:
            failed.append(i)
            continue
        if type(obj) is not dict or not obj.keys() <= schema.keys() or any(type(v) is not str for v in obj.values()):
            failed.append(i)
            continue
        objs.append(obj)
        rows.append(i)
    if rows:
        frame = frame.with_columns([frame[name].scatter(rows, [o.get(name) for o in objs]) for name in schema])
    return frame, failed


def _too_long(name: str, line: int) -> None:
    from dataforge.errors import InputError
    from dataforge.io.rawread import _mib

    raise InputError(f"{name}:{line}: a line longer than {_mib(max_line_bytes())} (decompressed);"
                     " this does not look like JSON lines",
                     "check the file (a wrong or corrupt file?), or raise the limit with"
                     " DATAFORGE_MAX_LINE_BYTES=BYTES")


def _rows_of(data: bytes, name: str, first: int):
    """The block's (line, dict or Reject) pairs exactly as rawread's JSON lines reader gives them."""
    cache: list = []

    def rows(indexes=None):
        if not cache:  # split once per block: odd lines come back one at a time
            cache.append(data.split(b"\n"))  # readline's lines: only \n ends one
            if data.endswith(b"\n"):
                cache[0].pop()
        parts = cache[0]
        chosen = enumerate(parts, first) if indexes is None else ((first + i, parts[i]) for i in indexes)
        for lineno, raw in chosen:
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raw = raw.rstrip(b"\r\n")
                if not raw.strip():
                    continue
                obj = _slow_parse(raw, name, lineno)
                if isinstance(obj, Reject):
                    yield lineno, obj
                    continue
            if type(obj) is not dict:
                yield lineno, Reject(f"expected a JSON object, got {type(obj).__name__}", file=name,
                                     line=lineno, row=raw.rstrip(b"\r\n").decode("utf-8", "replace")[:2000])
                continue
            if raw.count(b"[") + raw.count(b"{") > _NEST_CHECK:
                reason = _unstorable(obj)
                if reason:
                    yield lineno, Reject(reason, file=name, line=lineno,
                                         row=raw.rstrip(b"\r\n").decode("utf-8", "replace")[:2000])
                    continue
            yield lineno, obj
    return rows
