"""Field helpers every shape mapper shares: the row error, text fields, id/lang/meta, JSON-in-text lists.

A row that cannot become a record raises RowError naming the field and why;
the reader turns that into a reject with file and line.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from dataforge.io.rawread import is_nan

COMMON = ("id", "lang", "category", "meta")


class RowError(Exception):
    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field


def text(row: dict, name: str, required: bool = True) -> str:
    """A text field: numbers become strings, NaN/None count as missing, lists are refused."""
    value = row.get(name)
    if type(value) is str:  # nearly always: skip the checks below
        return value
    if value is None or is_nan(value):
        if required:
            raise RowError("missing field" if name not in row else f"field is {'NaN' if is_nan(value) else 'null'}", name)
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise RowError(f"expected text, got a boolean ({value})", name)
    if isinstance(value, (int, float)):
        return str(value)
    raise RowError(f"expected text, got {type(value).__name__}", name)


_SKIP: dict[tuple[str, ...], frozenset] = {}


def common(row: dict, owned: tuple[str, ...]) -> dict:
    """id, lang and meta; columns the shape does not own go to meta["extra"]."""
    skip = _SKIP.get(owned)
    if skip is None:
        skip = _SKIP[owned] = frozenset(owned) | frozenset(COMMON)
    # None carries nothing (Parquet/CSV give None for a column a row lacks), so it is not kept
    extra = {k: v for k, v in row.items() if k not in skip and v is not None}
    meta, rid = row.get("meta"), row.get("id")
    if meta is None and not extra and (rid is None or type(rid) is str):  # the plain row: fast path
        return {"id": rid or "", "lang": text(row, "lang", False), "meta": {}}
    if isinstance(meta, str) and meta.startswith("{"):
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = {"raw_meta": meta}
    meta = dict(meta) if isinstance(meta, dict) else ({} if meta in (None, "") or is_nan(meta) else {"raw_meta": meta})
    if extra:
        meta.setdefault("extra", {}).update(extra)
    rid = "" if rid is None or is_nan(rid) else str(rid)
    return {"id": rid, "lang": text(row, "lang", False), "meta": meta}


def json_list(value: Any, item: type = dict) -> Any:
    """A list stored as JSON text (CSV, or Parquet written by other tools) -> the list.

    Only text that parses to a list of `item`s counts, so a plain prompt such as
    "[INST] hi" or "[1, 2]" stays text.
    """
    if isinstance(value, str) and value[:1] == "[" and value.rstrip()[-1:] == "]":
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        if isinstance(parsed, list) and all(isinstance(x, item) for x in parsed):
            return parsed
    return value


def json_value(value: Any, name: str, what: str = "a JSON list") -> Any:
    """A value that may arrive as JSON text (a `tools` column is often a string): parsed, or RowError."""
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None
        try:
            return orjson.loads(stripped)
        except orjson.JSONDecodeError:
            raise RowError(f"not {what}", name) from None
    return value


def tools_of(row: dict, name: str = "tools") -> list:
    """The tool (function) definitions of a row: a list of objects, from a list or JSON text."""
    value = row.get(name)
    if value is None or is_nan(value):
        return []
    value = json_value(value, name, "a JSON list of tool definitions")
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or any(not isinstance(t, dict) for t in value):
        raise RowError("expected a list of tool definitions (objects)", name)
    return value


def label_of(value: Any, name: str = "label") -> bool:
    """A KTO label: a boolean, or text/number that plainly says one (true/false, 1/0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and not is_nan(value) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise RowError(f"expected a boolean label (true/false), got {value!r}"[:200], name)


def looks_boolean(values: list) -> bool:
    """Do these sampled values read as KTO labels (so a `label` column means desirable/undesirable)?

    Most must be booleans, or true/false text (a stray bad value is that row's reject, not another
    shape); numbers alone never count: 0/1 class labels are common in other data.
    """
    seen = [v for v in values if v is not None]
    if not seen or all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seen):
        return False
    good = 0
    for v in seen:
        try:
            label_of(v)
            good += isinstance(v, (bool, str))
        except RowError:
            pass
    return good * 2 > len(seen)
