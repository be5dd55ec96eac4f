"""Helper processes that die with dedup: a killed run leaves no process behind.

datatrove's local executor starts a Manager process (for its queue) and, with
more than one worker, a process pool (through a forkserver). When the dedup
process is killed with SIGKILL it cannot stop them, and the Manager would wait
for requests forever, adopted by PID 1. So each of those processes, as it
starts, asks Linux to kill it when its parent dies (prctl PR_SET_PDEATHSIG),
and runs a watchdog thread that exits once the dedup process is gone (the
fallback where prctl is missing, or when the parent is a forkserver that is
slow to notice). The forkserver and the resource tracker already exit when
the dedup process's end of their pipe closes.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from typing import Iterator

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL = 0.5  # seconds between the watchdog's looks at the dedup process


def die_with(owner: int) -> None:
    """Run in a helper process as it starts: exit when the process `owner` (dedup) or our parent dies."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if _gone(owner, parent):  # it died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(owner, parent), name="dataforge-watchdog", daemon=True).start()


def _watch(owner: int, parent: int) -> None:
    while not _gone(owner, parent):
        time.sleep(WATCH_INTERVAL)
    os._exit(1)


def _gone(owner: int, parent: int) -> bool:
    if os.getppid() != parent:  # re-parented: our parent has died
        return True
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed process stays a zombie until reaped: count that as gone
        with open(f"/proc/{owner}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return False


class _Context:
    """A multiprocess context whose pools start their workers with `die_with`."""

    def __init__(self, ctx, owner: int):
        self._ctx, self._owner = ctx, owner

    def Pool(self, processes=None, initializer=None, initargs=(), *args, **kwargs):  # noqa: N802
        if initializer is not None:  # datatrove passes none today; keep both if it ever does
            return self._ctx.Pool(processes, _both, (self._owner, initializer, initargs), *args, **kwargs)
        return self._ctx.Pool(processes, die_with, (self._owner,), *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._ctx, name)


def _both(owner, initializer, initargs) -> None:
    die_with(owner)
    initializer(*initargs)


class _Multiprocess:
    """Stands in for the `multiprocess` module inside datatrove's local executor."""

    def __init__(self, module, owner: int):
        self._module, self._owner = module, owner

    def Manager(self):  # noqa: N802
        from multiprocess.managers import SyncManager

        manager = SyncManager(ctx=self._module.get_context())
        manager.start(die_with, (self._owner,))
        return manager

    def get_context(self, method=None):
        return _Context(self._module.get_context(method), self._owner)

    def __getattr__(self, name):
        return getattr(self._module, name)


@contextlib.contextmanager
def dying_with_this_process() -> Iterator[None]:
    """While inside, datatrove's local executor starts only helper processes that die with this one."""
    import datatrove.executor.local as local

    real = local.multiprocess
    local.multiprocess = _Multiprocess(real, os.getpid())
    try:
        yield
    finally:
        local.multiprocess = real
