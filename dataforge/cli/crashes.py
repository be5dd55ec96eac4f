"""Failures of the machine, not of dataforge, as one `error:` and one `hint:` line.

A full disk, a read-only or forbidden folder, exhausted memory, data nested too
deeply for Python, a header value that is not ASCII: none of these deserves a
traceback. `describe` turns them into (message, hint); anything it does not
recognise stays a traceback, because that is a bug to report. `--debug` shows
the traceback in every case.

SIGTERM is turned into an exception (`Terminated`) so that the cleanup of
atomic writes runs, as it does for Ctrl-C: no temporary file is left behind.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import threading
from typing import Iterator

_KEEP = "outputs are written atomically: an earlier output (if any) is unchanged and no partial file is left"

_BY_ERRNO = {
    errno.ENOSPC: ("no space left on the device", "free some space or write to another disk, then run again; " + _KEEP),
    errno.EDQUOT: ("disk quota exceeded", "free some space or write to another disk, then run again; " + _KEEP),
    errno.EFBIG: ("file too large for this file system", "write to another disk or split the output"),
    errno.EROFS: ("the file system is read-only", "write the output to a writable folder (-o)"),
    errno.EACCES: ("permission denied", "check the permissions of the file and its folder, or write elsewhere"),
    errno.EPERM: ("operation not permitted", "check the permissions of the file and its folder, or write elsewhere"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "check the path"),
    errno.EISDIR: ("is a folder", "give a file path"),
    errno.ENAMETOOLONG: ("the file name is too long", "use a shorter path"),
    errno.EMFILE: ("too many open files", "raise the limit (ulimit -n) or read fewer files at once"),
    errno.ENFILE: ("too many open files on this system", "close other programs or raise the system limit"),
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that `finally` blocks and atomic cleanup run."""


def describe(exc: BaseException) -> tuple[str, str] | None:
    """(message, hint) for a machine failure, or None for anything else (a bug: keep the traceback)."""
    if isinstance(exc, OSError):
        known = _BY_ERRNO.get(exc.errno)
        where = exc.filename if exc.filename is not None else None
        if known is None:
            if where is None or not exc.strerror:
                return None
            return f"{where}: {exc.strerror}", "check the path"
        message, hint = known
        return (f"{where}: {message}" if where is not None else message), hint
    if isinstance(exc, MemoryError):
        return ("not enough memory to go on",
                "a single huge record or a .json array (read whole) can need many times its size;"
                " write the data as JSON lines, or run on a machine with more memory")
    if isinstance(exc, RecursionError):
        return ("the data is nested too deeply to process",
                "rows are objects of text fields and message lists; check the input for deeply nested values")
    if isinstance(exc, UnicodeEncodeError):
        text = str(exc)
        if "header" in text:
            name = text.rsplit("header", 1)[1].strip(" ')(\"")
            return (f"the HTTP header '{name}' holds characters that are not ASCII",
                    "API keys and header values are plain ASCII: check the key in the environment variable"
                    " (--api-key-env) for pasted or accented characters")
        return ("the terminal cannot show some characters of the output",
                "set PYTHONIOENCODING=utf-8 (or a UTF-8 locale such as LANG=C.UTF-8)")
    return None


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises Terminated in the main thread (elsewhere: nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
