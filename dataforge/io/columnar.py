"""The columnar read path: Dolly and Alpaca rows as batches of columns, not one dict per row.

`batches(ds)` walks the files of a `Dataset` as its own iteration would and
yields, in input order, either a polars DataFrame of record columns
(`RECORD_COLUMNS`: id, instruction, context, output, lang, category, system)
for a batch the columns could take whole, or single `Record`s from the row
path for everything else. Both draw on one set of seen ids, so ids, renames
and counts are those of the row path.

A batch takes the columnar route only when it provably gives what the row
path gives (the row path's fast path in `rowmap`: known columns, every value
text, required text non-blank). polars reads JSON leniently (a number in a
text column becomes text, a repeated key keeps the first value, a lone
surrogate escape is read as NUL), so the raw bytes are checked first; any
doubt sends the whole batch through the row path, which rejects bad rows
with file, line and reason exactly as before. Memory is bounded by `BLOCK`.
"""

from __future__ import annotations

import io
import re
from typing import Iterator

import orjson
import polars as pl

from dataforge.io.columnar_ahead import ahead
from dataforge.io.files import DataFile
from dataforge.io.rawread import _BOM, _NEST_CHECK, _slow_parse, _unstorable, max_line_bytes, open_binary, reading_rows
from dataforge.io.rejects import Reject
from dataforge.io.rowmap import _ALPACA_PLAIN, _DOLLY_PLAIN
from dataforge.records import Record
from dataforge.records import _blake2b as blake2b

BLOCK = 16 << 20  # bytes of JSON lines per batch (~20,000 Dolly rows)
PARQUET_BATCH = 16_384
RECORD_COLUMNS = ("id", "instruction", "context", "output", "lang", "category", "system")
# the shapes whose plain rows map column for column, and the columns their plain rows may hold
PLAIN = {"dolly": _DOLLY_PLAIN - {"meta"}, "alpaca": _ALPACA_PLAIN - {"meta", "history"}}
# str.isspace() exactly, as a character class: a text the row path calls blank matches ^[...]*$
# (the characters str.isspace() accepts; tests/io/test_io_columnar.py checks the list against Python's)
_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_BLANK = f"^[{_SPACE}]*$"
_KEY_VALUE = re.compile(rb'": ?(.)', re.S)  # a key's closing quote, colon, the value's first byte
_TEXT_TYPES = (pl.String, pl.Null)
_DOUBT = re.compile(rb'\\(?:u[dD]|":)')


def usable(ds, df: DataFile) -> bool:
    """Can this file's rows go by columns? (plain JSON lines or Parquet, Dolly/Alpaca, no mapping)."""
    if ds.shapes[df] not in PLAIN or ds.mappings[df] or ds.transforms[df] is not None or ds.track_columns:
        return False
    if df.type == "parquet":
        return True
    return df.type == "jsonl" and df.compression is None and max_line_bytes() >= BLOCK


def batches(ds) -> Iterator[pl.DataFrame | Record]:
    """Everything `iter(ds)` yields, with runs of plain rows as DataFrames of `RECORD_COLUMNS`."""
    seen_ids: set[int] = set()
    next_copy: dict[int, int] = {}
    for df in ds.files:
        name, shape = str(df.path), ds.shapes[df]
        try:
            if not usable(ds, df):
                yield from ds._records(df, name, shape, seen_ids, next_copy)
                continue
            chunks = _jsonl_chunks(df, shape) if df.type == "jsonl" else _parquet_chunks(df)
            # parse and map the next batches in a thread (polars lets go of the GIL) while ids are hashed here
            for first_line, mapped, raw_rows in ahead(_mapped(chunks, shape, ds.require_text)):
                if mapped is not None:
                    mapped = _assign_ids(mapped, seen_ids, next_copy, ds)
                if mapped is None:  # the row path, for this batch only
                    yield from ds._records(df, name, shape, seen_ids, next_copy, rows=raw_rows())
                    continue
                n = mapped.height
                ds.stats.read += n
                ds.stats.parsed += n
                ds.stats.ok += n
                ds.where = (name, first_line + n - 1)
                yield mapped
                if ds.progress is not None:
                    ds.progress.advance(ds.stats.read - ds._shown)
                    ds._shown = ds.stats.read
        finally:
            if ds.progress is not None and ds.stats.read > ds._shown:
                ds.progress.advance(ds.stats.read - ds._shown)
                ds._shown = ds.stats.read


def _mapped(chunks, shape: str, check: bool):
    for first_line, frame, raw_rows in chunks:
        yield first_line, (_plain_frame(frame, shape, check) if frame is not None else None), raw_rows


# ---- JSON lines ---------------------------------------------------------------

def _jsonl_chunks(df: DataFile, shape: str):
    """(first line number, DataFrame or None, rows for the row path) per block of whole lines."""
    name = str(df.path)
    from dataforge.io.rawread import _check_not_binary

    _check_not_binary(df)
    schema = {name: pl.String for name in sorted(PLAIN[shape])}
    line = 1
    with open_binary(df) as fh:
        rest = b""
        first = True
        while True:
            block = fh.read(BLOCK)
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


def _read_block(data: bytes, lines: int, schema: dict) -> pl.DataFrame | None:
    """The block as columns when polars reads it as the row path would; None when in doubt."""
    try:
        frame = pl.read_ndjson(io.BytesIO(data), schema=schema)
    except Exception:  # malformed JSON, bad UTF-8, a line that is no object: the row path says which
        return None
    if frame.height != lines or any(t not in _TEXT_TYPES for t in frame.dtypes):
        return None  # blank lines, or nested values
    checked, suspects = data, []
    if _DOUBT.search(data):
        # Lines with a surrogate escape (polars reads a lone one as NUL) or a key-like text inside a
        # value (which the key count below cannot tell from a key): orjson reads those lines instead.
        suspects, checked = _suspects(data, lines)
        if len(suspects) > 16 and len(suspects) * 8 > lines:
            return None  # mostly such lines: the row path is as fast
    # polars turns numbers, booleans and nulls into text, keeps the first of a repeated key and drops
    # columns the schema lacks: every key must be followed by a string, one key per filled cell
    found = _KEY_VALUE.findall(checked)
    cells = sum(frame.height - s.null_count() for s in frame.iter_columns())
    if suspects:
        cells -= sum(len(s) - s.null_count() for s in frame[suspects].iter_columns())
    if len(found) != cells or found.count(b'"') != len(found):
        return None
    return _patch(frame, data, suspects, schema) if suspects else frame


def _suspects(data: bytes, lines: int) -> tuple[list[int], bytes]:
    """(indexes of the lines that hold a doubtful escape, the block without those lines)."""
    import numpy as np

    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    if len(ends) < lines:
        ends = np.append(ends, len(data))
    hits = np.fromiter((m.start() for m in _DOUBT.finditer(data)), dtype=np.int64)
    suspects = np.unique(np.searchsorted(ends, hits)).tolist()
    starts = [0, *(int(ends[i]) + 1 for i in range(len(ends) - 1))]
    kept, pos = [], 0
    for i in suspects:
        kept.append(data[pos:starts[i]])
        pos = int(ends[i]) + 1
    kept.append(data[pos:])
    return suspects, b"".join(kept)


def _patch(frame: pl.DataFrame, data: bytes, suspects: list[int], schema: dict) -> pl.DataFrame | None:
    """The suspect lines' values as orjson reads them (plain rows only: all text, known columns)."""
    lines = data.split(b"\n")
    objs = []
    for i in suspects:
        try:
            obj = orjson.loads(lines[i])
        except orjson.JSONDecodeError:
            return None
        if type(obj) is not dict or not obj.keys() <= schema.keys() or any(type(v) is not str for v in obj.values()):
            return None
        objs.append(obj)
    return frame.with_columns([frame[name].scatter(suspects, [o.get(name) for o in objs]) for name in schema])


def _too_long(name: str, line: int) -> None:
    from dataforge.errors import InputError
    from dataforge.io.rawread import _mib

    raise InputError(f"{name}:{line}: a line longer than {_mib(max_line_bytes())} (decompressed);"
                     " this does not look like JSON lines",
                     "check the file (a wrong or corrupt file?), or raise the limit with"
                     " DATAFORGE_MAX_LINE_BYTES=BYTES")


def _rows_of(data: bytes, name: str, first: int):
    """The block's (line, dict or Reject) pairs exactly as rawread's JSON lines reader gives them."""
    def rows():
        parts = data.split(b"\n")  # readline's lines: only \n ends one
        if data.endswith(b"\n"):
            parts.pop()
        for lineno, raw in enumerate(parts, first):
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


# ---- Parquet ------------------------------------------------------------------

def _parquet_chunks(df: DataFile):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dataforge.errors import InputError

    try:
        pf = pq.ParquetFile(df.path)
    except Exception as exc:  # as rawread says it
        raise InputError(f"{df.path}: not a readable Parquet file ({exc})",
                         "if it holds JSON lines or CSV, rename it or pass --format jsonl|csv") from exc
    reading_rows(df.path, pf.metadata.num_rows)
    line = 1
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH):
        plain = all(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)
                    for t in batch.schema.types)
        frame = pl.from_arrow(batch) if plain else None
        start = line
        yield start, frame, (lambda b=batch, s=start: enumerate(b.to_pylist(), s))
        line += batch.num_rows


# ---- mapping -------------------------------------------------------------------

def _plain_frame(frame: pl.DataFrame, shape: str, check: bool) -> pl.DataFrame | None:
    """The batch as record columns (ids still missing where the row has none); None if a row needs the row
    path: an unknown column, a required text missing or (with `check`) blank."""
    cols = set(frame.columns)
    if not cols <= PLAIN[shape]:
        return None
    answer = "response" if shape == "dolly" else "output"
    if "instruction" not in cols or answer not in cols:
        return None
    frame = frame.cast(pl.String)  # a Parquet column of nulls only
    need = [pl.col("instruction"), pl.col(answer)]
    bad = pl.any_horizontal([c.is_null() for c in need])
    if check:
        bad = bad | pl.any_horizontal([c.str.contains(_BLANK) for c in need])
    if frame.select(bad.any()).item():
        return None

    def col(name: str) -> pl.Expr:
        return pl.col(name).fill_null("") if name in cols else pl.lit("", dtype=pl.String)

    if shape == "dolly":
        context, system = col("context"), pl.lit("", dtype=pl.String)
    else:  # row path: input or context or ""
        given, ctx = col("input"), col("context")
        context, system = pl.when(given != "").then(given).otherwise(ctx), col("system")
    return frame.select(col("id").alias("id"), pl.col("instruction"), context.alias("context"),
                        pl.col(answer).alias("output"), col("lang").alias("lang"),
                        col("category").alias("category"), system.alias("system"))


def _assign_ids(frame: pl.DataFrame, seen_ids: set[int], next_copy: dict | None = None,
                ds=None) -> pl.DataFrame | None:
    """Content ids where the row has none (the row path's blake2b over the same bytes), repeated content
    ids renamed as the row path renames them; None when a given id repeats (the row path takes those)."""
    given = frame["id"]
    missing = given == ""
    if missing.any():
        joined = frame.select(pl.concat_str([pl.lit("i"), "instruction", "context", "output", pl.lit("")],
                                            separator="\x1f")).to_series()
        hashed = _hash_all(joined.filter(missing) if not missing.all() else joined)
        ids = given.to_list()
        it = iter(hashed)
        ids = [next(it) if not v else v for v in ids] if not missing.all() else hashed
    else:
        ids = given.to_list()
    keys = list(map(hash, ids))
    if len(set(keys)) != len(keys) or not seen_ids.isdisjoint(keys):
        if ds is None or not _rename(ids, keys, missing.to_list(), seen_ids, next_copy, ds):
            return None
    else:
        seen_ids.update(keys)
    return frame.with_columns(pl.Series("id", ids, dtype=pl.String))


def _rename(ids: list[str], keys: list[int], derived: list[bool], seen_ids: set[int], next_copy: dict,
            ds) -> bool:
    """Repeated ids renamed ID-2, ID-3, ... in place, as `Dataset._records` does; False (nothing changed)
    when a repeated id was given in the row: its record also notes meta.original_id, which only the
    row path writes."""
    seen, repeats = set(), []
    for i, key in enumerate(keys):
        if key in seen_ids or key in seen:
            if not derived[i]:
                return False
            repeats.append(i)
        seen.add(key)
    # the same loop as the row path's, over this batch (content ids are never given ones: no meta)
    for i, key in enumerate(keys):
        if key in seen_ids:
            base = ids[i]
            n = first = next_copy.get(key, 2)
            while hash(f"{base}-{n}") in seen_ids:
                n += 1
            next_copy[key] = n + 1
            ds.id_probes += n - first + 1
            ids[i] = f"{base}-{n}"
            key = hash(ids[i])
        seen_ids.add(key)
    return True


def _hash_all(series: pl.Series) -> list[str]:
    """blake2b(8) hex of each string's UTF-8 bytes, read in place from the Arrow buffer (no copies)."""
    import numpy as np
    import pyarrow as pa

    arr = series.to_arrow()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    _, offsets, values = arr.buffers()
    off = np.frombuffer(offsets, dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1].tolist()
    view = memoryview(values)
    return [blake2b(view[a:b], digest_size=8).hexdigest() for a, b in zip(off, off[1:])]
