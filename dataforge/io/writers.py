"""Write row dicts to JSONL (plain, .gz, .zst), JSON, Parquet, CSV or a datasets folder.

The format comes from the output path. Every writer writes to a temporary
sibling and renames it into place when closed without error, so a killed
run never leaves a truncated file. Rows are buffered in batches, so memory
stays flat whatever the number of rows.

    >>> with open_writer("out.parquet") as w:                 # doctest: +SKIP
    ...     w.write({"instruction": "Say hi", "output": "hi"})
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path
from typing import Any, Iterable

import orjson

from dataforge.io.atomic import atomic_path
from dataforge.io.files import output_type

BATCH = 8192
_NESTED_AS_JSON = True  # Parquet/CSV: dict and list values become JSON text, one stable schema


def _dumps(row: dict) -> bytes:
    return orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY, default=str)


class RowWriter:
    """Base: subclasses write `self._buffer` batches to `self._tmp`."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(str(path).rstrip("/"))
        self.count = 0
        self._buffer: list[dict] = []
        self._ctx = atomic_path(self.path, is_dir=self.is_dir)
        self._tmp: Path = self._ctx.__enter__()
        self._open()

    is_dir = False

    def _open(self) -> None: ...

    def _flush(self) -> None: ...

    def _finish(self) -> None: ...

    def write(self, row: dict) -> None:
        self._buffer.append(row)
        self.count += 1
        if len(self._buffer) >= BATCH:
            self._flush()
            self._buffer = []

    def write_many(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.write(row)

    def close(self) -> None:
        if self._buffer:
            self._flush()
            self._buffer = []
        self._finish()
        self._ctx.__exit__(None, None, None)

    def abort(self, exc: BaseException | None = None) -> None:
        try:
            self._finish()
        except Exception:
            pass
        exc = exc or RuntimeError("aborted")
        try:
            self._ctx.__exit__(type(exc), exc, None)
        except BaseException:
            pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort(exc)


class JsonlWriter(RowWriter):
    def _open(self) -> None:
        name = self.path.name.lower()
        raw = open(self._tmp, "wb")
        if name.endswith(".gz"):
            self._fh = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6)
        elif name.endswith(".zst"):
            import zstandard

            self._fh = zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
        else:
            self._fh = raw
        self._raw = raw

    def _flush(self) -> None:
        self._fh.write(b"\n".join(_dumps(r) for r in self._buffer) + b"\n")

    def _finish(self) -> None:
        if self._fh is not self._raw:
            self._fh.close()
        self._raw.close()


class JsonArrayWriter(JsonlWriter):
    """`.json`: a JSON array (the Alpaca release format), still written in a stream."""

    def _open(self) -> None:
        super()._open()
        self._fh.write(b"[\n")
        self._first = True

    def _flush(self) -> None:
        sep = b"" if self._first else b",\n"
        self._fh.write(sep + b",\n".join(_dumps(r) for r in self._buffer))
        self._first = False

    def _finish(self) -> None:
        if not self._fh.closed:
            self._fh.write(b"\n]\n")
        super()._finish()


def _flat(row: dict) -> dict:
    return {k: (orjson.dumps(v).decode() if isinstance(v, (dict, list)) else v) for k, v in row.items()}


class ParquetWriter(RowWriter):
    """Nested values (meta, messages) are stored as JSON text so every batch has one schema."""

    def _open(self) -> None:
        self._writer = None
        self._schema = None

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [_flat(r) for r in self._buffer]
        if self._schema is None:
            names = list(dict.fromkeys(k for r in rows for k in r))
            self._schema = pa.schema([(n, pa.string()) for n in names])
            self._writer = pq.ParquetWriter(self._tmp, self._schema, compression="zstd")
        columns = {n: [None if r.get(n) is None else str(r[n]) for r in rows] for n in self._schema.names}
        extra = {k for r in rows for k in r} - set(self._schema.names)
        if extra:
            raise ValueError(f"rows gained columns after the first batch: {sorted(extra)}")
        self._writer.write_table(pa.table(columns, schema=self._schema))

    def _finish(self) -> None:
        if self._writer is None and self._schema is None:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({}), self._tmp)
            self._schema = pa.schema([])
        elif self._writer is not None:
            self._writer.close()
            self._writer = None


class CsvWriter(RowWriter):
    def _open(self) -> None:
        import csv

        self._fh = open(self._tmp, "w", encoding="utf-8", newline="")
        self._csv = csv
        self._writer = None

    def _flush(self) -> None:
        rows = [_flat(r) for r in self._buffer]
        if self._writer is None:
            names = list(dict.fromkeys(k for r in rows for k in r))
            self._writer = self._csv.DictWriter(self._fh, fieldnames=names)
            self._writer.writeheader()
        self._writer.writerows(rows)

    def _finish(self) -> None:
        self._fh.close()


class HfFolderWriter(RowWriter):
    """A `datasets.save_to_disk` folder, built from a Parquet staging file."""

    is_dir = True

    def _open(self) -> None:
        self._stage = self._tmp / "_stage.parquet"
        self._parquet = ParquetWriter.__new__(ParquetWriter)
        self._parquet._tmp, self._parquet._buffer = self._stage, []
        self._parquet._open()

    def _flush(self) -> None:
        self._parquet._buffer = self._buffer
        self._parquet._flush()

    def _finish(self) -> None:
        if getattr(self, "_done", False):
            return
        self._done = True
        self._parquet._finish()
        from dataforge.errors import require

        datasets = require("datasets", feature="writing a datasets folder")
        datasets.disable_progress_bars()
        ds = datasets.Dataset.from_parquet(str(self._stage), cache_dir=str(self._tmp / "_cache"),
                                           keep_in_memory=False)
        out = self._tmp / "data"
        ds.save_to_disk(str(out))
        del ds
        self._stage.unlink(missing_ok=True)
        shutil.rmtree(self._tmp / "_cache", ignore_errors=True)
        for item in out.iterdir():
            os.replace(item, self._tmp / item.name)
        out.rmdir()


_WRITERS: dict[str, type[RowWriter]] = {
    "jsonl": JsonlWriter, "json": JsonArrayWriter, "parquet": ParquetWriter,
    "csv": CsvWriter, "hf": HfFolderWriter,
}


def open_writer(path: str | os.PathLike) -> RowWriter:
    """A writer for `path`, chosen by its suffix (no suffix: a datasets folder)."""
    return _WRITERS[output_type(path)](path)


def write_rows(rows: Iterable[dict[str, Any]], path: str | os.PathLike) -> int:
    """Write all rows atomically; returns how many were written."""
    with open_writer(path) as writer:
        writer.write_many(rows)
    return writer.count
