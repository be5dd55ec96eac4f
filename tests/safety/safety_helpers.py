"""Helpers for the safety suite: run the real CLI in a subprocess and fingerprint folders.

Every safety test asserts the file system afterwards, so it needs a cheap way to say
"this folder is exactly as it was" and "no hidden temporary files were left behind".
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def error_line(self) -> str:
        """The first `error:` line on stderr ('' if none)."""
        return next((ln for ln in self.err.splitlines() if ln.startswith("error:")), "")


def run_cli(*args: str, cwd: str | os.PathLike | None = None, env: dict | None = None,
            timeout: float = 120, input: str | None = None) -> Result:
    """Run `python -m dataforge ARGS` as a user would; never raises on a non-zero exit."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "dataforge", *map(str, args)], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=timeout,
                          input=input)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def snapshot(folder: str | os.PathLike) -> dict[str, str]:
    """Relative path -> sha256 (or 'dir'/'link:TARGET'/'other') for everything under folder."""
    folder = Path(folder)
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                out[rel] = f"link:{os.readlink(p)}"
            elif p.is_dir():
                out[rel] = "dir"
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "other"
    return out


def temp_leftovers(folder: str | os.PathLike) -> list[str]:
    """Hidden temporary files/folders dataforge's atomic writes make (`.NAME.tmp-*`, `.NAME.old-*`)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            if name.startswith(".") and (".tmp-" in name or ".old-" in name):
                found.append(str(Path(dirpath, name).relative_to(folder)))
    return sorted(found)
