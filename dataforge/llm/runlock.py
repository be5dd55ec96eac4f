"""One journal, one run: an exclusive lock on `<journal>.lock` for as long as a run uses the journal.

Two runs on the same journal would both send every request not yet finished
(and both pay for it). The lock is `fcntl.flock` on a small file holding the
owner's pid: the kernel drops it when the process ends however it ends
(SIGKILL included), so a stale file never blocks a later run. A second run is
refused with the pid of the first; it is never told to delete the journal.
"""

from __future__ import annotations

import os
from pathlib import Path

from dataforge.errors import DataforgeError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, as before
    fcntl = None


class JournalBusy(DataforgeError):
    """Another process is running on this journal."""


def lock_path_for(journal: str | os.PathLike) -> Path:
    journal = Path(journal)
    return journal.with_name(journal.name + ".lock")


class RunLock:
    """Take with `RunLock(journal_path)` (raises JournalBusy), give back with `release()`."""

    def __init__(self, journal: str | os.PathLike):
        self.path = lock_path_for(journal)
        self._fd: int | None = None
        if fcntl is None:
            return
        for _ in range(5):  # the file may be replaced between open and flock by an owner finishing
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                owner = _read_pid(fd)
                os.close(fd)
                raise JournalBusy(
                    f"{journal}: another dataforge run is using this journal"
                    + (f" (pid {owner})" if owner else ""),
                    "wait for that run to finish, or stop it first"
                    + (f" (kill {owner})" if owner else "")
                    + "; two runs on one journal would pay for the same requests twice") from None
            if _same_file(fd, self.path):
                break
            os.close(fd)  # we locked a file its owner just removed: try the new one
        else:  # pragma: no cover - only under a storm of runs starting and ending
            raise JournalBusy(f"{journal}: could not take the journal's lock", "try again")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Remove the lock file (it is ours) and drop the lock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if _same_file(fd, self.path):
                self.path.unlink()
        except OSError:
            pass
        os.close(fd)  # closing drops the flock


def _same_file(fd: int, path: Path) -> bool:
    try:
        st, fst = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
