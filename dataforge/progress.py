"""Progress bars for long work: counts, rate and (when the total is known) ETA.

Bars go to stderr so stdout stays clean for data and summaries. The CLI's
-q/--quiet turns them off for the whole process through `set_quiet`.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

_quiet = False


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


class _Bar:
    def __init__(self, progress, task):
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)

    def update(self, **fields) -> None:
        """Set the total or extra fields shown after the bar (e.g. failures=3)."""
        self._progress.update(self._task, **fields)


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
        MofNCompleteColumn,
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

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn(unit), TaskProgressColumn(), RateColumn(),
               TimeElapsedColumn(), TimeRemainingColumn()]
    if extra:
        columns.append(TextColumn(extra))
    console = Console(file=sys.stderr)
    with Progress(*columns, console=console, transient=False, refresh_per_second=4,
                  speed_estimate_period=10) as prog:
        task = prog.add_task(description, total=total, **fields)
        yield _Bar(prog, task)
