"""What a recipe may delete before a stage reruns: only what it wrote, where it wrote it, unchanged since.

After a stage runs, each of its outputs is recorded in the state file with a
fingerprint (size and modification time of the file, or of every file in the
folder). Before the stage reruns, a recorded output is removed only when

- it lies inside the recipe's workdir (an edited or stale state file cannot
  point the deletion anywhere else), and
- its fingerprint still matches (the user has not edited it since).

Otherwise it is left alone and the reason is printed; an output that changed
and that this run would overwrite stops the run instead, so the user's edits
are not lost.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path
from typing import Callable

from dataforge.errors import ConfigError


def fingerprint(path: str | os.PathLike) -> dict | None:
    """{"kind", "size"/"files", "digest"}: cheap (stat only), changes when anything is edited."""
    p = Path(path)
    try:
        st = os.lstat(p)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return {"kind": "link", "target": os.readlink(p)}
    if stat.S_ISREG(st.st_mode):
        return {"kind": "file", "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if not stat.S_ISDIR(st.st_mode):
        return {"kind": "other"}
    h, files = hashlib.sha256(), 0
    for dirpath, dirnames, filenames in os.walk(p):
        dirnames.sort()
        for name in sorted(filenames) + [d + "/" for d in dirnames]:
            full = os.path.join(dirpath, name.rstrip("/"))
            try:
                s = os.lstat(full)
            except OSError:
                continue
            files += not name.endswith("/")
            h.update(f"{os.path.relpath(full, p)}\0{s.st_mode}\0{s.st_size}\0{s.st_mtime_ns}\n".encode())
    return {"kind": "dir", "files": files, "digest": h.hexdigest()}


def record(outputs: dict[str, str]) -> dict[str, dict]:
    """path -> fingerprint for every output a stage just wrote (kept in the state file)."""
    return {path: fp for path in outputs.values() if isinstance(path, str) and (fp := fingerprint(path))}


STATE_NAME = ".dataforge-recipe-state.json"  # the recipe's own record: never an output to delete


def _inside(path: Path, workdir: Path) -> bool:
    """Is the entry itself (not a link's target) strictly inside the workdir, and not its state file?"""
    entry = Path(os.path.realpath(path.parent)) / path.name
    root = Path(os.path.realpath(workdir))
    return entry != root and entry != root / STATE_NAME and entry.is_relative_to(root)


def remove_previous(stage: str, previous: dict, workdir: Path, upcoming: set[str],
                    echo: Callable[[str], None]) -> None:
    """Delete the outputs the last run of `stage` recorded, within the rules above."""
    outputs = previous.get("outputs") if isinstance(previous, dict) else None
    written = previous.get("written") if isinstance(previous, dict) else None
    written = written if isinstance(written, dict) else {}
    upcoming_real = {os.path.realpath(p) for p in upcoming}
    for path in (outputs.values() if isinstance(outputs, dict) else ()):
        if not isinstance(path, str) or not os.path.lexists(path):
            continue
        p = Path(path)
        if not _inside(p, workdir):
            echo(f"[{stage}] left {path} in place: it is not inside the recipe's workdir {workdir}"
                 " (a recipe deletes only what it wrote there)")
            continue
        recorded = written.get(path)
        if recorded is None:
            echo(f"[{stage}] left {path} in place: the state file has no record of what this recipe wrote there")
            continue
        if fingerprint(p) != recorded:
            if os.path.realpath(p) in upcoming_real:
                raise ConfigError(f"{path} was changed after the recipe wrote it (stage '{stage}'), and rerunning"
                                  " the stage would replace it",
                                  "move it away (or delete it yourself) and rerun; the recipe does not delete"
                                  " files you edited")
            echo(f"[{stage}] left {path} in place: it was changed after the recipe wrote it")
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
