"""The work folder after a run that did not finish: where it is, how big, how to go on.

A dedup run keeps its intermediate files in `<out>.dedup-work/` so that the same
command started again resumes. A run that fails or is interrupted (Ctrl-C,
SIGTERM, a full disk) therefore leaves that folder behind on purpose, and it can
be large: the user is told where it is and how big it is, in one `hint:` line.
Nothing else is left: outputs are written atomically and their temporary files
are removed as the error unwinds.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from pathlib import Path

from dataforge.errors import DataforgeError


def work_path(out: str | os.PathLike, work_dir: str | os.PathLike | None = None) -> Path:
    """The work folder of a run writing `out` (default: next to it, `<out>.dedup-work`)."""
    return Path(work_dir or f"{os.fspath(out).rstrip('/')}.dedup-work")


def folder_size(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
    return total


def human_size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover - the loop returns


def resume_hint(work: Path) -> str | None:
    """The one-line hint about a kept work folder, or None when there is none."""
    if work.is_symlink() or not work.is_dir():
        return None
    return (f"the work done so far is kept in {work} ({human_size(folder_size(work))}): run the same command again"
            " to resume from it, or delete that folder to start over")


def _disk_message(exc: OSError) -> str:
    what = "no space left on the device" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror or str(exc)
    return f"{exc.filename}: {what}" if exc.filename else what


def explains_failures(fn):
    """Wrap dedup(data, out, ..., work_dir=...): a run that stops early says where its work folder is.

    An OSError (a full disk, a folder that cannot be written) becomes an error line with that hint;
    an interruption or an unexpected error prints the hint and goes on unwinding as it was.
    A DataforgeError (bad input or options) passes unchanged.
    """

    @functools.wraps(fn)
    def wrapper(data, out, *args, **kwargs):
        try:
            return fn(data, out, *args, **kwargs)
        except (DataforgeError, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:
            hint = resume_hint(work_path(out, kwargs.get("work_dir")))
            if hint is None:
                raise
            if isinstance(exc, OSError):
                raise DataforgeError(_disk_message(exc), hint) from exc
            print(f"hint: {hint}", file=sys.stderr, flush=True)
            raise

    return wrapper
