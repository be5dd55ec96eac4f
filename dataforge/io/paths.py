"""Safe file names from untrusted strings.

A string that comes from a server (a file id, a job id, a model name) or from
the data must never become a path as it is: `../../x`, `/etc/passwd`, `.` or a
name with a NUL byte would write outside the output folder or fail oddly.
`safe_filename()` reduces any string to one plain file name:

    >>> safe_filename("file-abc123")
    'file-abc123'
    >>> safe_filename("../../etc/passwd")[:11]
    'etc_passwd-'
    >>> "/" in safe_filename("/abs/path") or safe_filename("..").startswith(".")
    False
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

_UNSAFE = re.compile(r"[^\w.\-+=@]+", re.UNICODE)  # path separators, spaces, control and shell characters
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def safe_filename(name: object, *, default: str = "file", max_len: int = 100) -> str:
    """`name` as one file name: no separators, no leading dot, no control characters, at most `max_len` chars.

    A name that had to be changed gets a short hash of the original, so two different
    unsafe names never map to the same file.
    """
    raw = str(name)
    text = unicodedata.normalize("NFKC", raw)
    text = _UNSAFE.sub("_", text).strip("._-") or default
    if text.split(".")[0].lower() in _RESERVED:  # Windows device names
        text = f"_{text}"
    if text != raw or len(text) > max_len:
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        text = f"{text[:max(1, max_len - 9)]}-{digest}"
    return text


def child_path(folder: str | os.PathLike, name: object, **kwargs) -> Path:
    """`folder / safe_filename(name)`, checked to stay inside `folder`."""
    folder = Path(folder)
    path = folder / safe_filename(name, **kwargs)
    if path.parent != folder:  # cannot happen with a safe name; a guard against future edits
        raise ValueError(f"{name!r} does not name a file inside {folder}")
    return path
