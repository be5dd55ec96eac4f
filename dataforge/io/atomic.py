"""Atomic writes: data goes to a temporary sibling, then is renamed into place.

An interrupted run therefore never leaves a truncated output behind: either
the old file (or nothing) is there, or the complete new one.

Temporary names carry the writer's pid (`.NAME.tmp-<pid>-XXXX`), so a later
write to the same target removes what a killed process (SIGKILL, power loss)
left behind, and never what a running one is still writing. SIGTERM and
Ctrl-C raise in the CLI, so the cleanup below runs for them too.

A folder output is replaced only when the existing folder is empty or holds
dataforge's `.dataforge-output` marker (written into every folder written
here): the last line of defence behind `safety.check_outputs`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from dataforge.io.safety import MARKER, UnsafeOutput, replaceable_folder, write_marker


def temp_prefix(target: Path) -> str:
    """`.NAME.tmp-<pid>-`: hidden, next to the target, and tied to this process."""
    return f".{target.name}.tmp-{os.getpid()}-"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, is_dir: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to `target`; rename it over `target` on success."""
    target = Path(os.path.abspath(target))  # "." and "dir/.." have no name of their own
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    prefix = temp_prefix(target)
    if is_dir:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, dir=target.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        # mkstemp/mkdtemp make owner-only files; the output should get the usual permissions.
        os.chmod(tmp, (0o777 if is_dir else 0o666) & ~_umask())
        yield tmp
        if is_dir:
            write_marker(tmp, list_files=True)
            _replace_dir(tmp, target)
        else:
            os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def _replace_dir(tmp: Path, target: Path) -> None:
    # A folder cannot be os.replace()d over a non-empty one: move the old aside first.
    old = None
    if os.path.lexists(target):
        mode = os.lstat(target).st_mode
        if stat.S_ISDIR(mode) and not replaceable_folder(target):
            raise UnsafeOutput(f"{target}: the folder exists and holds files dataforge did not write;"
                               " it was left as it is",
                               f"give a new folder name (dataforge replaces only folders holding its {MARKER})")
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise UnsafeOutput(f"{target}: is a device, pipe or socket; it was left as it is",
                               "write to a file or folder path")
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)  # put the previous output back
        raise
    if old is not None:
        _remove(old)


def _pid_of(rest: str) -> int | None:
    head = rest.split("-", 1)[0].split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but not ours to signal
    return True


def remove_stale_temps(target: str | os.PathLike) -> list[str]:
    """Remove `.NAME.tmp-<pid>-*` / `.NAME.old-<pid>` left next to `target` by processes that are gone.

    A `.old-` folder is the previous output moved aside; if the process died before the new one
    took its place (so `target` is missing), it is put back rather than deleted. Names without a
    pid (older versions) are left alone: nothing tells whose they are.
    """
    target = Path(target)
    tmp_prefix, old_prefix = f".{target.name}.tmp-", f".{target.name}.old-"
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        prefix = tmp_prefix if name.startswith(tmp_prefix) else old_prefix if name.startswith(old_prefix) else None
        if prefix is None:
            continue
        pid = _pid_of(name[len(prefix):])
        if pid is None or _alive(pid):
            continue
        path = Path(entry.path)
        if prefix == old_prefix and not os.path.lexists(target):
            try:
                os.replace(path, target)
                continue
            except OSError:
                pass
        _remove(path)
        removed.append(name)
    return removed


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
