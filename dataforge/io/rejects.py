"""The rejects file: every row a step refused, with where it came from and why.

rows in = rows out + rows rejected, always; the rejects file is how a user
finds the missing ones and fixes them.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from dataforge.errors import InputError
from dataforge.io.safety import rejects_path_for  # noqa: F401  (the naming rule lives with the output checks)


@dataclass(slots=True)
class Reject:
    reason: str
    file: str = ""
    line: int | None = None
    field: str | None = None
    row: Any = None
    id: str | None = None

    def location(self) -> str:
        loc = self.file or "<data>"
        if self.line is not None:
            loc += f":{self.line}"
        if self.field:
            loc += f": field '{self.field}'"
        return loc

    def to_dict(self) -> dict:
        return {
            "file": self.file, "line": self.line, "field": self.field, "id": self.id,
            "reason": self.reason, "row": self.row,
        }


class RejectSink:
    """Collects rejects in memory counts and, when given a path, in a JSONL file.

    The file is written atomically when the sink is closed, and only then
    replaces an older one. With `strict`, the first reject raises instead.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, strict: bool = False,
                 keep_examples: int = 5):
        self.path = Path(path) if path else None
        self.strict = strict
        self.count = 0
        self.by_reason: collections.Counter[str] = collections.Counter()
        self.examples: list[Reject] = []
        self._keep = keep_examples
        self._fh = None
        self._tmp: Path | None = None

    def add(self, reject: Reject) -> None:
        if self.strict:
            raise InputError(
                f"{reject.location()}: {reject.reason}",
                "fix the row, or drop --strict to send bad rows to the rejects file and go on",
            )
        self.count += 1
        key = _reason_key(reject.reason)
        self.by_reason[f"{reject.field}: {key}" if reject.field else key] += 1
        if len(self.examples) < self._keep:
            self.examples.append(reject)
        if self.path is not None:
            if self._fh is None:
                from dataforge.io.atomic import remove_stale_temps, temp_prefix

                self.path.parent.mkdir(parents=True, exist_ok=True)
                remove_stale_temps(self.path)
                self._tmp = self.path.with_name(temp_prefix(self.path) + "rejects")
                self._fh = open(self._tmp, "wb")
            self._fh.write(_dumps(reject) + b"\n")

    def close(self) -> None:
        """Finish the file; with no rejects, remove a stale rejects file from an older run."""
        if self._fh is not None:
            self._fh.close()
            os.replace(self._tmp, self.path)
            self._fh = None
        elif self.path is not None and self.count == 0 and is_rejects_file(self.path):
            self.path.unlink()

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._tmp.unlink(missing_ok=True)
            self._fh = None

    def __enter__(self) -> "RejectSink":
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _dumps(reject: Reject) -> bytes:
    try:
        return orjson.dumps(reject.to_dict(), default=str, option=orjson.OPT_SERIALIZE_NUMPY)
    except (orjson.JSONEncodeError, RecursionError):  # nested too deeply for JSON: keep the start as text
        data = reject.to_dict()
        try:
            data["row"] = repr(reject.row)[:2000]
        except RecursionError:
            data["row"] = f"<{type(reject.row).__name__} nested too deeply to show>"
        return orjson.dumps(data, default=str)


def is_rejects_file(path: str | os.PathLike) -> bool:
    """A regular file that starts like a reject written above: the only kind removed as stale."""
    try:
        if os.path.islink(path) or not os.path.isfile(path):
            return False
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.startswith(b'{"file":') and b'"line":' in head


def _reason_key(reason: str) -> str:
    # Group "duplicate id 'x' (first at line 3)" and friends under their stem.
    stem = reason.split(": ", 1)[0]
    for sep in (" (", " '", " at ", ";"):
        stem = stem.split(sep, 1)[0]
    return stem
