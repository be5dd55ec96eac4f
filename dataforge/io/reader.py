"""Read any supported dataset into records, rejecting bad rows with their reason.

    >>> from dataforge.io import read_dataset
    >>> ds = read_dataset("sample_data/dolly_en.jsonl")      # doctest: +SKIP
    >>> for record in ds: ...                                  # doctest: +SKIP
    >>> ds.stats.read == ds.stats.ok + ds.stats.rejected       # doctest: +SKIP
    True

The shape is detected per file from the columns of its first rows; each row
is then mapped on its own, so a column that first appears on line 5,001 is
kept, and a row whose field has the wrong type is rejected alone.

A LLaMA-Factory dataset travels as `dataset_info.json#NAME` (see
`dataforge.io.dataset_info`): its entry gives the files, the shape and the
column mapping. A row whose `id` repeats an earlier row's is kept under a
derived id (`ID-2`, `ID-3`, ...) with the original in `meta["original_id"]`,
and counted in `stats.renamed`: two shards whose ids both start at 0 lose nothing.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass, field
from typing import Iterator

from dataforge.errors import InputError
from dataforge.io.dataset_info import load_entry, split_ref
from dataforge.io.files import DataFile, resolve
from dataforge.io.rawread import is_nan, iter_raw
from dataforge.io.rejects import Reject, RejectSink
from dataforge.io.rowmap import CHECKED_MAPPERS
from dataforge.io.shapes import SHAPES, RowError, apply_mapping, detect_shape, unknown_shape_error
from dataforge.records import Record

# what each kind of data is called in messages
KIND_NAMES = {"instruction": "instruction", "preference": "preference (chosen/rejected)",
              "kto": "unpaired preference (KTO: completion + label)", "text": "plain text"}

PEEK_ROWS = 200


@dataclass
class ReadStats:
    read: int = 0  # rows seen, good or bad
    parsed: int = 0  # rows that were readable objects (the base of column fill rates)
    ok: int = 0
    rejected: int = 0
    filled: collections.Counter = field(default_factory=collections.Counter)  # column -> non-empty rows
    seen: collections.Counter = field(default_factory=collections.Counter)  # column -> rows having it
    renamed: int = 0  # rows kept under a derived id because their id repeated an earlier row's


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
        self.mapping = parse_mapping(mapping)
        self.rejects = rejects if rejects is not None else RejectSink()
        self.require_text = require_text
        self.track_columns = track_columns
        self.stats = ReadStats()
        self.progress = progress  # anything with .advance(n); may be set after opening
        self._shown = 0  # rows already reported to the progress bar
        if shape is not None and shape not in SHAPES:
            raise InputError(f"unknown shape '{shape}'", f"use one of: {', '.join(SHAPES)}")
        self.files: list[DataFile] = []
        self.mappings: dict[DataFile, dict] = {}  # per file: a dataset_info entry brings its own columns
        self.transforms: dict[DataFile, object] = {}
        found: dict[DataFile, str | None] = {}
        for item in ([paths] if isinstance(paths, (str, os.PathLike)) else list(paths)):
            entry = split_ref(item)
            if entry is None:
                files, entry_shape, file_mapping, transform = resolve(item, fmt), None, self.mapping, None
            else:
                entry = load_entry(*entry)
                files, entry_shape, transform = resolve(entry.paths, fmt), entry.shape, entry.transform
                file_mapping = {**entry.mapping, **self.mapping}
            for f in files:
                self.files.append(f)
                self.mappings[f], self.transforms[f] = file_mapping, transform
                found[f] = shape or entry_shape or self._detect(f)
        # An empty file has no shape of its own: it takes the others' so it cannot split the kinds.
        fallback = next((s for s in found.values() if s is not None), "instruction")
        self.shapes: dict[DataFile, str] = {f: s or fallback for f, s in found.items()}
        self.where: tuple[str, int] = ("", 0)  # file and line of the record just yielded
        self.id_probes = 0  # "-N" suffixes tried for repeated ids (linear in the repeats)
        kinds = {SHAPES[s][0] for s in self.shapes.values()}
        if len(kinds) > 1:
            listing = "; ".join(f"{f.path}: {s} ({SHAPES[s][0]})" for f, s in self.shapes.items())
            raise InputError(f"the inputs mix {' and '.join(sorted(kinds))} data ({listing})",
                             "process each kind in its own run")
        self.kind: str = kinds.pop() if kinds else "instruction"

    @property
    def shape(self) -> str:
        """The detected shape ('dolly', 'openai', ...), or 'mixed' across files."""
        names = set(self.shapes.values())
        return names.pop() if len(names) == 1 else "mixed"

    def _detect(self, df: DataFile) -> str | None:
        columns: set[str] = set()
        sample: list[dict] = []
        for _, obj in iter_raw(df):
            if isinstance(obj, dict):
                row = apply_mapping(dict(obj), self.mappings[df])
                columns.update(row)
                sample.append(row)
                if len(sample) >= PEEK_ROWS:
                    break
        if not sample:
            return None  # an empty (or wholly unreadable) file: its rows will say why
        found = detect_shape(columns, sample)
        if found is None:
            raise unknown_shape_error(columns, str(df.path))
        return found

    def __iter__(self) -> Iterator[Record]:
        # hash() of each id, not the id: a machine int (~60 bytes with its set slot) per row,
        # whatever the id's length; ~400 MB for 6M rows (a false "duplicate" needs a 64-bit collision).
        seen_ids: set[int] = set()
        next_copy: dict[int, int] = {}  # hash(content id) -> the next "-N" to try for its repeats
        for df in self.files:
            try:
                yield from self._records(df, str(df.path), self.shapes[df], seen_ids, next_copy)
            finally:
                if self.progress is not None and self.stats.read > self._shown:
                    self.progress.advance(self.stats.read - self._shown)
                    self._shown = self.stats.read

    def _records(self, df: DataFile, name: str, shape: str, seen_ids: set[int],
                 next_copy: dict[int, int], rows=None) -> Iterator[Record]:
        # `rows`: (line, dict or Reject) pairs to map instead of the whole file (the columnar path's
        # fallback hands over one batch at a time; `seen_ids` then spans both paths)
        # The loop runs once per row of every input: locals instead of attribute lookups, and one
        # call (CHECKED_MAPPERS) maps the row and checks its text.
        stats, sink, mapping, track = self.stats, self.rejects, self.mappings[df], self.track_columns
        to_record, check, transform = CHECKED_MAPPERS[shape], self.require_text, self.transforms[df]
        seen_add = seen_ids.add
        for line, obj in (iter_raw(df) if rows is None else rows):
            stats.read += 1
            if not stats.read & 1023 and self.progress is not None:  # a bar update per row costs more than a row
                self.progress.advance(stats.read - self._shown)
                self._shown = stats.read
            if isinstance(obj, Reject):
                stats.rejected += 1
                sink.add(obj)
                continue
            stats.parsed += 1
            if mapping:
                obj = apply_mapping(obj, mapping)
            if transform is not None:
                obj = transform(obj)
            if track:
                self._track(obj)
            try:
                record = to_record(obj, check)
            except RowError as exc:
                stats.rejected += 1
                sink.add(Reject(exc.reason, file=name, line=line, field=exc.field, row=obj))
                continue
            key = hash(record.id)
            if key in seen_ids:
                # A repeated id (two shards both counting from 0, or the same row twice): keep the row
                # under the next free "-N" id, so ids stay unique and nothing is lost. Counting on from
                # where the last repeat stopped keeps k repeats linear, not k*k/2 probes.
                base = record.id
                n = first = next_copy.get(key, 2)
                while hash(f"{base}-{n}") in seen_ids:
                    n += 1
                next_copy[key] = n + 1
                self.id_probes += n - first + 1
                record.id = f"{base}-{n}"
                key = hash(record.id)
                if _has_id(obj):  # a given id: say so (rows without one get their content id's copy number)
                    record.meta["original_id"] = base
                    stats.renamed += 1
            seen_add(key)
            stats.ok += 1
            self.where = (name, line)
            yield record

    def _track(self, obj: dict) -> None:
        seen, filled = self.stats.seen, self.stats.filled
        for key, value in obj.items():
            seen[key] += 1
            if isinstance(value, str):
                if value and not value.isspace():
                    filled[key] += 1
            elif value not in (None, [], {}) and not is_nan(value):
                filled[key] += 1


def _has_id(row: dict) -> bool:
    value = row.get("id")
    return value is not None and value != "" and not is_nan(value)


def read_dataset(paths, **options) -> Dataset:
    """Open one or more data paths (files, folders, globs) as a Dataset of records."""
    return Dataset(paths, **options)
