"""Raw rows out of files, one dict at a time, with their line numbers.

Nothing here knows about records: it only turns bytes into dicts and says
precisely which lines could not be turned into one (bad UTF-8, malformed JSON,
a value that is not an object). Every reader streams, so memory does not grow
with the file (a `.json` array is the one exception: it is parsed whole).
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import math
import os
import sys
from typing import Any, Iterator

import orjson

from dataforge.errors import InputError
from dataforge.io.files import DataFile
from dataforge.io.rejects import Reject
from dataforge.progress import reading_bytes, reading_rows

BATCH = 8192
Row = tuple[int, Any]  # (line or item number, dict or Reject)
_BOM = b"\xef\xbb\xbf"
_MiB = 1 << 20


def max_line_bytes() -> int:
    """Longest JSON line read (decompressed): a record of tens of MB is fine, a gzip bomb is not."""
    return int(os.environ.get("DATAFORGE_MAX_LINE_BYTES", 256 * _MiB))


def max_json_bytes() -> int:
    """Largest `.json` array parsed whole (decompressed); JSON lines have no such limit."""
    return int(os.environ.get("DATAFORGE_MAX_JSON_BYTES", 1024 * _MiB))


def _mib(n: int) -> str:
    return f"{n / _MiB:,.0f} MiB" if n >= _MiB else f"{n:,} bytes"


def iter_raw(df: DataFile) -> Iterator[Row]:
    """Yield (line, dict) for good rows and (line, Reject) for unreadable ones."""
    if df.type in ("jsonl", "json"):
        if df.type == "json" and _starts_with_bracket(df):
            return _iter_json_array(df)
        return _iter_jsonl(df)
    if df.type == "parquet":
        return _iter_parquet(df)
    if df.type == "csv":
        return _iter_csv(df)
    if df.type == "hf":
        return _iter_hf(df)
    if df.type == "txt":
        return _iter_txt(df)
    raise InputError(f"{df.path}: cannot read type '{df.type}'")


def open_binary(df: DataFile):
    if df.compression == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(open(df.path, "rb"), closefd=True)
    fh = gzip.open(df.path, "rb") if df.compression == "gzip" else open(df.path, "rb", buffering=1 << 20)
    reading_bytes(df.path, fh)  # a progress bar's total: how far into the file this is
    return fh


def _starts_with_bracket(df: DataFile) -> bool:
    with open_binary(df) as fh:
        head = fh.read(4096).lstrip(_BOM).lstrip()
    return head[:1] == b"["


_MAGIC = {b"PAR1": "Parquet", b"\x1f\x8b": "gzip-compressed", b"\x28\xb5\x2f\xfd": "zstd-compressed",
          b"PK\x03\x04": "zip", b"\x89HDF": "HDF5"}


def _check_not_binary(df: DataFile) -> None:
    """A .jsonl that is really Parquet or compressed: one clear error, not a reject per line."""
    if df.compression is not None:
        return
    with open(df.path, "rb") as fh:
        head = fh.read(4)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise InputError(f"{df.path}: the file is {what} data, not JSON lines",
                             "give it the matching extension (.parquet, .jsonl.gz, .jsonl.zst)"
                             " or pass --format")


def _iter_jsonl(df: DataFile) -> Iterator[Row]:
    name = str(df.path)
    _check_not_binary(df)
    limit = max_line_bytes()
    with open_binary(df) as fh:
        stream = io.BufferedReader(fh, 1 << 20) if df.compression == "zstd" else fh
        # readline with a bound: a line without an end (a gzip bomb of zeros) cannot fill the memory
        for lineno, raw in enumerate(iter(functools.partial(stream.readline, limit + 1), b""), 1):
            if len(raw) > limit and not raw.endswith(b"\n"):
                raise InputError(f"{name}:{lineno}: a line longer than {_mib(limit)} (decompressed);"
                                 " this does not look like JSON lines",
                                 "check the file (a wrong or corrupt file?), or raise the limit with"
                                 " DATAFORGE_MAX_LINE_BYTES=BYTES")
            if lineno == 1 and raw.startswith(_BOM):
                raw = raw[3:]
            try:
                obj = orjson.loads(raw)  # the line end (\n or \r\n) is JSON whitespace: no copy needed
            except orjson.JSONDecodeError:
                raw = raw.rstrip(b"\r\n")
                if not raw.strip():
                    continue  # a blank line is not a row
                obj = _slow_parse(raw, name, lineno)
                if isinstance(obj, Reject):
                    yield lineno, obj
                    continue
            if type(obj) is not dict:
                yield lineno, Reject(f"expected a JSON object, got {type(obj).__name__}",
                                     file=name, line=lineno, row=raw.rstrip(b"\r\n").decode("utf-8", "replace")[:2000])
                continue
            if raw.count(b"[") + raw.count(b"{") > _NEST_CHECK:
                reason = _unstorable(obj)  # orjson reads 1024 levels but writes 255: find out now, per row
                if reason:
                    yield lineno, Reject(reason, file=name, line=lineno,
                                         row=raw.rstrip(b"\r\n").decode("utf-8", "replace")[:2000])
                    continue
            yield lineno, obj


_NEST_CHECK = 250  # fewer brackets than this cannot nest deeper than orjson writes


def _unstorable(obj: Any) -> str | None:
    try:
        orjson.dumps(obj)
    except orjson.JSONEncodeError as exc:
        return f"value cannot be stored: {exc}"
    return None


def _slow_parse(raw: bytes, name: str, lineno: int) -> Any:
    """orjson refused the line: find out why, and accept what stdlib json accepts (NaN)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Reject(f"invalid UTF-8 bytes at byte {exc.start}; re-save the file as UTF-8",
                      file=name, line=lineno, row=raw.decode("utf-8", "backslashreplace"))
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return Reject(f"malformed JSON: {exc.msg} at column {exc.colno}",
                      file=name, line=lineno, row=text)
    except RecursionError:
        return Reject("malformed JSON: nested too deeply", file=name, line=lineno, row=text[:2000])
    try:
        orjson.dumps(obj)  # stdlib json lets lone surrogates (\\ud800) through; no writer can store them
    except orjson.JSONEncodeError as exc:
        reason = ("invalid \\u escape (a lone UTF-16 surrogate); fix the text" if "surrogate" in str(exc)
                  else f"value cannot be stored: {exc}")
        return Reject(reason, file=name, line=lineno, row=text)
    return obj


def _iter_txt(df: DataFile) -> Iterator[Row]:
    """Plain text: each non-blank line is one `text` row (a document per line, as LLaMA-Factory and the
    `datasets` text loader read it); the line end is not part of the text."""
    name = str(df.path)
    _check_not_binary(df)
    limit = max_line_bytes()
    first = True
    with open_binary(df) as fh:
        stream = io.BufferedReader(fh, 1 << 20) if df.compression == "zstd" else fh
        for lineno, raw in enumerate(iter(functools.partial(stream.readline, limit + 1), b""), 1):
            if len(raw) > limit and not raw.endswith(b"\n"):
                raise InputError(f"{name}:{lineno}: a line longer than {_mib(limit)} (decompressed)",
                                 "split the text into lines, or raise the limit with DATAFORGE_MAX_LINE_BYTES=BYTES")
            if lineno == 1 and raw.startswith(_BOM):
                raw = raw[3:]
            raw = raw.rstrip(b"\r\n")
            if not raw.strip():
                continue  # a blank line separates documents; it is not a row
            if first and raw.lstrip()[:1] == b"{" and _is_object(raw):
                raise InputError(f"{name}: this .txt file holds JSON lines, not plain text",
                                 "rename it .jsonl, or pass --format jsonl")
            first = False
            try:
                yield lineno, {"text": raw.decode("utf-8")}
            except UnicodeDecodeError as exc:
                yield lineno, Reject(f"invalid UTF-8 bytes at byte {exc.start}; re-save the file as UTF-8",
                                     file=name, line=lineno, row=raw.decode("utf-8", "backslashreplace")[:2000])


def _is_object(raw: bytes) -> bool:
    try:
        return isinstance(orjson.loads(raw), dict)
    except orjson.JSONDecodeError:
        return False


def _iter_json_array(df: DataFile) -> Iterator[Row]:
    name = str(df.path)
    limit = max_json_bytes()
    with open_binary(df) as fh:
        data = fh.read(limit + 1)  # parsed whole: bounded, so a gzip bomb cannot fill the memory
    if len(data) > limit:
        raise InputError(f"{name}: a JSON array larger than {_mib(limit)} (decompressed) is not parsed whole",
                         "write it as JSON lines (one object per line, e.g. jq -c '.[]'), which streams, or"
                         " raise the limit with DATAFORGE_MAX_JSON_BYTES=BYTES")
    if data.startswith(_BOM):
        data = data[3:]
    try:
        items = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise InputError(f"{name}: the JSON is nested too deeply to read",
                         "rows are objects of text fields and message lists; check the file") from None
    except MemoryError:
        raise InputError(f"{name}: not enough memory to parse this JSON array whole",
                         "write it as JSON lines (one object per line), which streams") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: invalid UTF-8 at byte {exc.start}", "re-save the file as UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}:{exc.lineno}: malformed JSON array: {exc.msg}",
                         "fix the JSON, or write one object per line as .jsonl so one bad row cannot spoil the file") from exc
    reading_rows(df.path, len(items))
    for i, obj in enumerate(items, 1):
        if isinstance(obj, dict):
            reason = _unstorable(obj)
            if reason:
                yield i, Reject(reason, file=name, line=i, row=obj)
                continue
            yield i, obj
        else:
            yield i, Reject(f"expected a JSON object, got {type(obj).__name__}", file=name, line=i, row=obj)


def _iter_parquet(df: DataFile) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(df.path)
    except Exception as exc:  # pyarrow raises several types for a non-Parquet file
        raise InputError(f"{df.path}: not a readable Parquet file ({exc})",
                         "if it holds JSON lines or CSV, rename it or pass --format jsonl|csv") from exc
    reading_rows(df.path, pf.metadata.num_rows)
    line = 0
    for batch in pf.iter_batches(batch_size=BATCH):
        for obj in batch.to_pylist():
            line += 1
            yield line, obj


def _iter_csv(df: DataFile) -> Iterator[Row]:
    csv.field_size_limit(sys.maxsize)
    name = str(df.path)
    with open(df.path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:
            return
        start = reader.line_num + 1
        for obj in reader:
            lineno, start = start, reader.line_num + 1
            if None in obj:
                yield lineno, Reject(f"row has {len(obj[None])} more values than the header has columns",
                                     file=name, line=lineno, row=obj)
                continue
            bad = next((k for k, v in obj.items() if isinstance(v, str) and _has_surrogates(v)), None)
            if bad is not None:
                yield lineno, Reject("invalid UTF-8 bytes; re-save the file as UTF-8", file=name,
                                     line=lineno, field=bad,
                                     row={k: v.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                                          if isinstance(v, str) else v for k, v in obj.items()})
                continue
            # CSV cannot tell an empty value from a missing one; read both as missing (as polars does)
            yield lineno, {k: v for k, v in obj.items() if v is not None and v != ""}


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _iter_hf(df: DataFile) -> Iterator[Row]:
    from dataforge.errors import require

    datasets = require("datasets", feature="reading a datasets folder")
    try:
        loaded = datasets.load_from_disk(str(df.path))
    except Exception as exc:
        raise InputError(f"{df.path}: not a readable datasets folder ({exc})",
                         "point at the folder that save_to_disk wrote") from exc
    splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    line = 0
    for _, ds in splits:
        for batch in ds.iter(batch_size=BATCH):
            keys = list(batch)
            for values in zip(*(batch[k] for k in keys)):
                line += 1
                yield line, dict(zip(keys, values))


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
