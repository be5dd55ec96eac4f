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

    def _drain(self) -> None:
        # rows buffered by write() go out before a columnar batch, so the file keeps the input order
        if self._buffer:
            self._flush()
            self._buffer = []

    def write_many(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.write(row)

    def close(self) -> None:
        from dataforge.io.safety import keeps_earlier_outputs

        if self.count == 0 and keeps_earlier_outputs() and os.path.lexists(self.path):
            self.abort()  # an empty result must not replace an earlier output (the run will fail)
            return
        if self._buffer:
            self._flush()
            self._buffer = []
        self._finish()
        self._ctx.__exit__(None, None, None)

    def _discard(self) -> None:
        """Close open handles without finishing the output (it is about to be deleted)."""
        self._finish()

    def abort(self, exc: BaseException | None = None) -> None:
        try:
            self._discard()
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

    def write_bytes(self, lines, count: int) -> None:
        """`count` rows already encoded as JSON lines (each ending in \\n), e.g. by the columnar path."""
        self._drain()
        self._fh.write(lines)
        self.count += count

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


def _json_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()


def _flat(row: dict) -> dict:
    return {k: (_json_text(v) if isinstance(v, (dict, list)) else v) for k, v in row.items()}


class CsvWriter(RowWriter):
    """Nested values become JSON text. A column first seen after the first batch widens the header."""

    def _open(self) -> None:
        import csv

        self._csv = csv
        self._fh = open(self._tmp, "w", encoding="utf-8", newline="")
        self._names: list[str] = []
        self._header_len = 0  # bytes of the header line, to swap it when columns are added

    def _flush(self) -> None:
        rows = [_flat(r) for r in self._buffer]
        names = list(dict.fromkeys([*self._names, *(k for r in rows for k in r)]))
        if names != self._names:
            self._set_header(names)
        self._csv.DictWriter(self._fh, fieldnames=self._names).writerows(rows)

    def _set_header(self, names: list[str]) -> None:
        import io

        buf = io.StringIO()
        self._csv.writer(buf).writerow(names)
        header = buf.getvalue().encode("utf-8")
        if self._names:
            # Rows already written just lack the new trailing columns, which CSV readers fill with
            # empty values, so only the header line has to change: copy the body after a new one.
            self._fh.close()
            old = self._tmp.with_name(self._tmp.name + ".widen")
            os.replace(self._tmp, old)
            try:
                with open(old, "rb") as src, open(self._tmp, "wb") as dst:
                    dst.write(header)
                    src.seek(self._header_len)
                    shutil.copyfileobj(src, dst, 1 << 20)
            finally:
                old.unlink(missing_ok=True)
            self._fh = open(self._tmp, "a", encoding="utf-8", newline="")
        else:
            self._fh.write(header.decode("utf-8"))
        self._names, self._header_len = names, len(header)

    def _finish(self) -> None:
        self._fh.close()


class ParquetWriter(RowWriter):
    """Columns keep their types (text, numbers, lists of messages); dicts such as `meta` are JSON text."""

    def _open(self) -> None:
        from dataforge.io.parquet_stage import ParquetStage

        self._stage = ParquetStage(self._tmp)

    def _flush(self) -> None:
        self._stage.write(self._buffer)

    def write_table(self, table) -> None:
        """A batch of rows as an Arrow table (the columnar path); the schema rules of `write` apply."""
        self._drain()
        self._stage.write_table(table)
        self.count += table.num_rows

    def _finish(self) -> None:
        self._stage.close()


class HfFolderWriter(RowWriter):
    """A `datasets.save_to_disk` folder, built from a Parquet staging file."""

    is_dir = True

    def _open(self) -> None:
        from dataforge.io.parquet_stage import ParquetStage

        self._staged = self._tmp / "_stage.parquet"
        self._stage = ParquetStage(self._staged)

    def _flush(self) -> None:
        self._stage.write(self._buffer)

    def _discard(self) -> None:
        self._stage.close()

    def _finish(self) -> None:
        if getattr(self, "_done", False):
            return
        self._done = True
        self._stage.close()
        from dataforge.errors import require

        datasets = require("datasets", feature="writing a datasets folder")
        datasets.disable_progress_bars()
        ds = datasets.Dataset.from_parquet(str(self._staged), cache_dir=str(self._tmp / "_cache"),
                                           keep_in_memory=False)
        out = self._tmp / "data"
        ds.save_to_disk(str(out))
        del ds
        self._staged.unlink(missing_ok=True)
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
