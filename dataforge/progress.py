"""Progress bars for long work: counts, rate and (when the total is known) ETA.

Bars go to stderr so stdout stays clean for data and summaries. The CLI's
-q/--quiet turns them off for the whole process through `set_quiet`.

A bar opened without a total that counts rows learns one from the files the
readers open while it is shown (`reading_rows`, `reading_bytes`, called by
dataforge.io.rawread): a Parquet file's row count from its metadata and a
JSON array's length once parsed are exact; a JSON lines file gives an
estimate (`~`) from the bytes read so far against its size, updated as rows
come. Inputs mixing the two kinds show no total.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
from typing import Iterator

_quiet = False
_reading: list = []  # open bars that count rows read from files, innermost last


def set_quiet(value: bool) -> None:
    global _quiet
    _quiet = value


def is_quiet() -> bool:
    return _quiet


class _NoBar:
    def advance(self, n: int = 1) -> None:
        pass

    def update(self, **_) -> None:
        pass


class _Sizes:
    """What the files being read say about the number of rows (see the module doc)."""

    def __init__(self):
        self.rows: dict[str, int] = {}  # path -> exact row count
        self.sizes: dict[str, int] = {}  # path -> bytes, for files read line by line
        self.open: list = []  # [path, file object] of the line-read files opened, in order
        self.done: set[str] = set()  # line-read files read to the end while rows were counted

    def total(self, completed: int) -> tuple[int | None, bool]:
        """(total rows, estimated?) or (None, False) when nothing can be said."""
        if self.rows and self.sizes:
            return None, False
        if self.rows:
            return sum(self.rows.values()), False
        if not self.sizes:
            return None, False
        read = sum(self.sizes[p] for p in self.done)
        for entry in self.open:  # the file being read: where it is now (closed ones were counted or skipped)
            path, fh = entry
            try:
                read += fh.tell()
            except (ValueError, OSError):  # closed: it was either read through (counted) or only peeked at
                if completed and path not in self.done and entry is self.open[-1]:
                    self.done.add(path)
                    read += self.sizes[path]
        size = sum(self.sizes.values())
        if not read or not completed:
            return None, False
        read = min(read, size)
        return max(completed, round(completed * size / read)), read < size


class _Bar:
    def __init__(self, progress, task):
        self._progress, self._task = progress, task
        self._completed = 0
        self.sizes: _Sizes | None = None  # set for a bar that counts rows read from files

    def advance(self, n: int = 1) -> None:
        self._completed += n
        if self.sizes is not None:
            total, estimated = self.sizes.total(self._completed)
            if total is not None:
                self._progress.update(self._task, total=total, estimated=estimated)
        self._progress.advance(self._task, n)

    def update(self, **fields) -> None:
        """Set the total or extra fields shown after the bar (e.g. failures=3)."""
        self._progress.update(self._task, **fields)

    @property
    def total(self) -> tuple[float | None, bool]:
        """(the total shown, whether it is an estimate)."""
        task = self._progress._tasks[self._task]
        return task.total, bool(task.fields.get("estimated"))


@contextlib.contextmanager
def progress_bar(description: str, total: int | None = None, unit: str = "rows",
                 extra: str = "", **fields) -> Iterator[_Bar | _NoBar]:
    """A bar showing `done/total unit`, rate and ETA; `extra` is a format string over task fields
    (e.g. extra="{task.fields[failures]} failed", failures=0), updated with bar.update(failures=n)."""
    if _quiet:
        yield _NoBar()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task):
            return Text(f"{task.speed:,.0f} {unit}/s" if task.speed else f"- {unit}/s")

    class CountColumn(ProgressColumn):
        def render(self, task):
            if task.total is None:
                return Text(f"{int(task.completed):,}/?")
            about = "~" if task.fields.get("estimated") else ""
            return Text(f"{int(task.completed):,}/{about}{int(task.total):,}")

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), CountColumn(),
               TextColumn(unit), TaskProgressColumn(), RateColumn(),
               TimeElapsedColumn(), TimeRemainingColumn()]
    if extra:
        columns.append(TextColumn(extra))
    console = Console(file=sys.stderr)
    with Progress(*columns, console=console, transient=False, refresh_per_second=4,
                  speed_estimate_period=10) as prog:
        task = prog.add_task(description, total=total, estimated=False, **fields)
        bar = _Bar(prog, task)
        if total is None and unit == "rows":
            bar.sizes = _Sizes()
            _reading.append(bar)
        try:
            yield bar
        finally:
            if bar in _reading:
                _reading.remove(bar)


def reading_rows(path, rows: int) -> None:
    """A file being read holds exactly `rows` rows (Parquet metadata, a parsed JSON array)."""
    if _reading:
        sizes = _reading[-1].sizes
        sizes.rows[str(path)] = rows
        sizes.sizes.pop(str(path), None)


def reading_bytes(path, fh) -> None:
    """A file is being read line by line from `fh` (its position, against the file's size, tells how far)."""
    if not _reading:
        return
    sizes, key = _reading[-1].sizes, str(path)
    if key in sizes.rows:
        return
    if isinstance(fh, gzip.GzipFile):
        fh = fh.fileobj  # its position in the compressed file, which is what the size measures
    if not isinstance(fh, (io.BufferedReader, io.FileIO)):
        return
    try:
        sizes.sizes[key] = os.path.getsize(path)
    except OSError:
        return
    sizes.open = [e for e in sizes.open if e[0] != key] + [[key, fh]]
