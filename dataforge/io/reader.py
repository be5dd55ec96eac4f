"""Read any supported dataset into records, rejecting bad rows with their reason.

    >>> from dataforge.io import read_dataset
    >>> ds = read_dataset("sample_data/dolly_en.jsonl")      # doctest: +SKIP
    >>> for record in ds: ...                                  # doctest: +SKIP
    >>> ds.stats.read == ds.stats.ok + ds.stats.rejected       # doctest: +SKIP
    True

The shape is detected per file from the columns of its first rows; each row
is then mapped on its own, so a column that first appears on line 5,001 is
kept, and a row whose field has the wrong type is rejected alone.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass, field
from typing import Iterator

from dataforge.errors import InputError
from dataforge.io.files import DataFile, resolve
from dataforge.io.rawread import iter_raw
from dataforge.io.rejects import Reject, RejectSink
from dataforge.io.shapes import SHAPES, RowError, apply_mapping, detect_shape, row_to_record, unknown_shape_error
from dataforge.records import Record

PEEK_ROWS = 200


@dataclass
class ReadStats:
    read: int = 0  # rows seen, good or bad
    ok: int = 0
    rejected: int = 0
    filled: collections.Counter = field(default_factory=collections.Counter)  # column -> non-empty rows
    seen: collections.Counter = field(default_factory=collections.Counter)  # column -> rows having it


def parse_mapping(pairs: list[str] | tuple[str, ...] | dict | None) -> dict[str, str]:
    """`["output=answer", "instruction=q"]` -> {"output": "answer", "instruction": "q"}."""
    if not pairs:
        return {}
    if isinstance(pairs, dict):
        return dict(pairs)
    out = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise InputError(f"--map '{pair}' is not FIELD=COLUMN", "e.g. --map output=answer")
        out[name.strip()] = column.strip()
    return out


class Dataset:
    """An iterable of records over one or more files, with counts on the side.

    Iterate it once; `stats` and `rejects` hold what happened. Rejected rows
    go to `rejects` (a RejectSink), which also enforces `strict`.
    """

    def __init__(self, paths, *, fmt: str | None = None, mapping=None, shape: str | None = None,
                 rejects: RejectSink | None = None, require_text: bool = True,
                 track_columns: bool = False, progress=None):
        self.files: list[DataFile] = resolve(paths, fmt)
        self.mapping = parse_mapping(mapping)
        self.rejects = rejects if rejects is not None else RejectSink()
        self.require_text = require_text
        self.track_columns = track_columns
        self.stats = ReadStats()
        self._progress = progress
        if shape is not None and shape not in SHAPES:
            raise InputError(f"unknown shape '{shape}'", f"use one of: {', '.join(SHAPES)}")
        self.shapes: dict[DataFile, str] = {f: shape or self._detect(f) for f in self.files}
        kinds = {SHAPES[s][0] for s in self.shapes.values()}
        if len(kinds) > 1:
            listing = "; ".join(f"{f.path}: {s}" for f, s in self.shapes.items())
            raise InputError(f"the inputs mix instruction and preference data ({listing})",
                             "process each kind in its own run")
        self.kind: str = kinds.pop() if kinds else "instruction"

    @property
    def shape(self) -> str:
        """The detected shape ('dolly', 'openai', ...), or 'mixed' across files."""
        names = set(self.shapes.values())
        return names.pop() if len(names) == 1 else "mixed"

    def _detect(self, df: DataFile) -> str:
        columns: set[str] = set()
        good = 0
        for _, obj in iter_raw(df):
            if isinstance(obj, dict):
                columns.update(apply_mapping(dict(obj), self.mapping))
                good += 1
                if good >= PEEK_ROWS:
                    break
        if good == 0:
            return "instruction"  # an empty (or wholly unreadable) file: its rows will say why
        found = detect_shape(columns)
        if found is None:
            raise unknown_shape_error(columns, str(df.path))
        return found

    def __iter__(self) -> Iterator[Record]:
        seen_ids: dict[str, str] = {}
        for df in self.files:
            yield from self._iter_file(df, self.shapes[df], seen_ids)

    def _iter_file(self, df: DataFile, shape: str, seen_ids: dict[str, str]) -> Iterator[Record]:
        name = str(df.path)
        stats, sink, mapping = self.stats, self.rejects, self.mapping
        for line, obj in iter_raw(df):
            stats.read += 1
            if self._progress is not None:
                self._progress.advance(1)
            if isinstance(obj, Reject):
                stats.rejected += 1
                sink.add(obj)
                continue
            if mapping:
                obj = apply_mapping(obj, mapping)
            if self.track_columns:
                self._track(obj)
            try:
                record = row_to_record(shape, obj)
                if self.require_text:
                    _check_text(record)
            except RowError as exc:
                stats.rejected += 1
                sink.add(Reject(exc.reason, file=name, line=line, field=exc.field, row=obj))
                continue
            if obj.get("id") not in (None, ""):
                first = seen_ids.get(record.id)
                if first is not None:
                    stats.rejected += 1
                    sink.add(Reject(f"duplicate id '{record.id}' (first seen at {first})", file=name,
                                    line=line, field="id", row=obj, id=record.id))
                    continue
                seen_ids[record.id] = f"{os.path.basename(name)}:{line}"
            stats.ok += 1
            yield record

    def _track(self, obj: dict) -> None:
        seen, filled = self.stats.seen, self.stats.filled
        for key, value in obj.items():
            seen[key] += 1
            if value not in (None, "", [], {}) and not (isinstance(value, str) and not value.strip()):
                filled[key] += 1


def _check_text(record: Record) -> None:
    for name in record.text_fields:
        if name == "context":
            continue
        value = getattr(record, name)
        if name == "messages":
            if any(not m["content"].strip() for m in value if m["role"] != "system"):
                raise RowError("a message has empty content", "messages")
        elif not value.strip():
            raise RowError("field is empty", name)


def read_dataset(paths, **options) -> Dataset:
    """Open one or more data paths (files, folders, globs) as a Dataset of records."""
    return Dataset(paths, **options)
