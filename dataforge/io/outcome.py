"""Exit codes that tell the truth: a run that read rows but wrote none failed.

Every data-writing command calls `check_not_empty` after its run: with rows
read and none written (every row rejected, an unreadable format, every request
refused) it raises EmptyOutput, which the CLI prints as one `error:` line with
the most common reasons, exit 1. `--allow-empty` (allow_empty=True) is for
scripts that accept an empty result. A run that wrote some rows and rejected
others succeeds and prints its counts.
"""

from __future__ import annotations

import collections
import os

import orjson

from dataforge.errors import DataforgeError

TOP = 3
_SCAN_LINES = 100_000  # enough lines of a rejects file to name the common reasons


class EmptyOutput(DataforgeError):
    """Rows were read, none was written."""


def check_not_empty(read: int | None, written: int, *, reasons: dict | None = None, rejects_path=None,
                    allow_empty: bool = False, output=None, what: str = "rows", note: str = "") -> None:
    """Raise EmptyOutput when `read` > 0 (None: a generator, nothing read) and `written` == 0,
    unless `allow_empty`."""
    if allow_empty or written > 0 or (read is not None and read <= 0):
        return
    counts = collections.Counter(reasons or {})
    if not counts and rejects_path:
        counts = reasons_in(rejects_path)
    top = "; ".join(f"{reason} ({n:,})" for reason, n in counts.most_common(TOP))
    where = f" to {output}" if output else ""
    message = (f"read {read:,} {what} but wrote none{where}" if read is not None else f"wrote no {what}{where}") + (f": {top}" if top else "") + (f" ({note})" if note else "")
    hint = (f"see {rejects_path} for every rejected row and its reason; " if rejects_path else "")
    hint += "pass --allow-empty if an empty output is what you want"
    raise EmptyOutput(message, hint)


def reasons_in(rejects_path) -> collections.Counter:
    """Reason counts from the first lines of a rejects file (grouped as the summaries group them)."""
    from dataforge.io.rejects import _reason_key

    counts: collections.Counter = collections.Counter()
    if not rejects_path or not os.path.isfile(rejects_path):
        return counts
    with open(rejects_path, "rb") as fh:
        for i, line in enumerate(fh):
            if i >= _SCAN_LINES:
                break
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(row, dict) and row.get("reason"):
                key = _reason_key(str(row["reason"]))
                counts[f"{row['field']}: {key}" if row.get("field") else key] += 1
    return counts
