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
surrogate escape is read as NUL), so the raw bytes are checked first
(`columnar_jsonl`). A
line whose value is no text, or whose required text is missing or blank,
goes alone through the row path (which converts or rejects it with file,
line and reason exactly as before) between the runs of plain rows around
it; lines with escaped quotes or surrogate escapes are read again by
orjson; anything the checks cannot place (a repeated key, blank lines, bad
JSON) sends the whole batch through the row path. Memory is bounded by `BLOCK`.
"""

from __future__ import annotations

import os
from typing import Iterator

import polars as pl

from dataforge.io.columnar_ahead import ahead
from dataforge.io.columnar_jsonl import jsonl_chunks
from dataforge.io.files import DataFile
from dataforge.io.rawread import max_line_bytes, reading_rows
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


def enabled() -> bool:
    """False when DATAFORGE_ROW_PATH is set: every command (convert, dedup, format) then reads row by row,
    to compare the two paths or to step around a columnar bug."""
    return not os.environ.get("DATAFORGE_ROW_PATH")


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
            chunks = (jsonl_chunks(df, {c: pl.String for c in sorted(PLAIN[shape])}, BLOCK) if df.type == "jsonl"
                      else _parquet_chunks(df))
            # parse and map the next batches in a thread (polars lets go of the GIL) while ids are hashed here
            for first_line, mapped, odd, rows_for in ahead(_mapped(chunks, shape, ds.require_text)):
                if mapped is None or (len(odd) > 16 and len(odd) * 8 > mapped.height):
                    yield from ds._records(df, name, shape, seen_ids, next_copy, rows=rows_for(None))
                    continue
                # runs of plain rows by columns; each odd row (a reject, a wrong type...) by the row path
                pos = 0
                for i in [*odd, mapped.height]:
                    if i > pos:
                        part = mapped if (pos, i) == (0, mapped.height) else mapped.slice(pos, i - pos)
                        part = _assign_ids(part, seen_ids, next_copy, ds)
                        if part is None:  # a given id repeats: the row path renames it
                            yield from ds._records(df, name, shape, seen_ids, next_copy, rows=rows_for(range(pos, i)))
                        else:
                            ds.stats.read += part.height
                            ds.stats.parsed += part.height
                            ds.stats.ok += part.height
                            ds.where = (name, first_line + i - 1)
                            yield part
                    if i < mapped.height:
                        yield from ds._records(df, name, shape, seen_ids, next_copy, rows=rows_for([i]))
                    pos = i + 1
                if ds.progress is not None:
                    ds.progress.advance(ds.stats.read - ds._shown)
                    ds._shown = ds.stats.read
        finally:
            if ds.progress is not None and ds.stats.read > ds._shown:
                ds.progress.advance(ds.stats.read - ds._shown)
                ds._shown = ds.stats.read


def _mapped(chunks, shape: str, check: bool):
    """(first line, record columns or None, rows for the row path (sorted indexes), rows_for) per batch."""
    for first_line, read, rows_for in chunks:
        if read is None:
            yield first_line, None, [], rows_for
            continue
        frame, odd = read
        mapped = _plain_frame(frame, shape, check)
        if mapped is None:
            yield first_line, None, [], rows_for
            continue
        mapped, bad = mapped
        yield first_line, mapped, sorted(set(odd) | set(bad)), rows_for


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
        read = (pl.from_arrow(batch), []) if plain else None
        start = line

        def rows(indexes=None, b=batch, s=start):
            if indexes is None:
                return enumerate(b.to_pylist(), s)
            return ((s + i, b.slice(i, 1).to_pylist()[0]) for i in indexes)

        yield start, read, rows
        line += batch.num_rows


# ---- mapping -------------------------------------------------------------------

def _plain_frame(frame: pl.DataFrame, shape: str, check: bool) -> tuple[pl.DataFrame, list[int]] | None:
    """(the batch as record columns, ids still missing where the row has none; the rows whose required
    text is missing or (with `check`) blank, for the row path); None for an unknown column."""
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
    bad_rows = frame.select(bad.arg_true()).to_series().to_list()  # the row path rejects these

    def col(name: str) -> pl.Expr:
        return pl.col(name).fill_null("") if name in cols else pl.lit("", dtype=pl.String)

    if shape == "dolly":
        context, system = col("context"), pl.lit("", dtype=pl.String)
    else:  # row path: input or context or ""
        given, ctx = col("input"), col("context")
        context, system = pl.when(given != "").then(given).otherwise(ctx), col("system")
    mapped = frame.select(col("id").alias("id"), pl.col("instruction"), context.alias("context"),
                          pl.col(answer).alias("output"), col("lang").alias("lang"),
                          col("category").alias("category"), system.alias("system"))
    return mapped, bad_rows


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
    from dataforge.io.arrow_text import map_bytes

    return map_bytes(series, lambda b: blake2b(b, digest_size=8).hexdigest())
