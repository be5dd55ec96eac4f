"""`--map FIELD=COLUMN` where COLUMN may be a path into nested values.

    --map output=answer                       a top-level column
    --map output=instances.0.output           self-instruct: the first instance's output
    --map instruction=conversations[0].value  the same as conversations.0.value

A path is split on dots; `[N]` and a part made of digits index a list. A
column whose name really contains a dot is found first as it is. What is
taken out of a nested value is removed from it, and the value stays in the
row only if something is left (an instance's `input` that nobody mapped), so
nothing is lost and nothing is kept twice. A remainder whose column would
decide the shape (the later turns of `conversations` after mapping the first
two) is kept as `COLUMN_rest`, so it rides along in `meta` instead.
"""

from __future__ import annotations

import re
from typing import Any

_INDEX = re.compile(r"\[(\d+)\]")
# columns whose presence decides a shape (dataforge.io.shapes.detect_shape)
DECIDING = frozenset(("messages", "conversations", "chosen", "rejected", "prompt", "completion", "instruction",
                      "output", "response", "text", "label", "kto_tag", "input", "chosen_messages",
                      "rejected_messages", "preferred_output", "non_preferred_output"))
_MISSING = object()


def parse_path(column: str) -> list[str | int]:
    """`a.b[0].c` / `a.b.0.c` -> ["a", "b", 0, "c"]."""
    parts: list[str | int] = []
    for piece in _INDEX.sub(r".\1", column).split("."):
        if piece == "":
            continue
        parts.append(int(piece) if piece.isdigit() else piece)
    return parts


def is_path(column: str) -> bool:
    return "." in column or "[" in column


def get_path(row: dict, parts: list) -> Any:
    value: Any = row
    for part in parts:
        if isinstance(part, int) and isinstance(value, list) and -len(value) <= part < len(value):
            value = value[part]
        elif isinstance(value, dict) and (str(part) if isinstance(part, int) else part) in value:
            value = value[str(part) if isinstance(part, int) else part]
        else:
            return _MISSING
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _remove(container: Any, parts: list) -> None:
    """Delete the leaf at `parts` (lists keep their length: the item becomes None)."""
    for part in parts[:-1]:
        key = part if isinstance(container, list) else str(part)
        container = container[key]
    last = parts[-1]
    if isinstance(container, list):
        container[last] = None
    else:
        container.pop(str(last), None)


def _empty(value: Any) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    if isinstance(value, list):
        return all(_empty(v) for v in value)
    return False


def apply_mapping(row: dict, mapping: dict[str, str]) -> dict:
    """`--map output=answer`: the column (or nested path) `answer` is read as the field `output`."""
    taken: dict[str, Any] = {}  # top-level column -> its copy with mapped leaves removed
    for field_name, column in mapping.items():
        if column in row:
            row[field_name] = row.pop(column)
            continue
        if not is_path(column):
            continue
        parts = parse_path(column)
        if not parts or not isinstance(parts[0], str) or parts[0] not in row:
            continue
        value = get_path(row, parts)
        if value is _MISSING:
            continue
        top = parts[0]
        if top not in taken:
            taken[top] = _copy(row[top])
        if len(parts) > 1:
            _remove({top: taken[top]}, parts)
        row[field_name] = value
    for top, rest in taken.items():
        if top not in row:  # the column itself was mapped to a field as a whole
            continue
        if _empty(rest):
            row.pop(top, None)
        elif top in DECIDING and top not in mapping:
            row.pop(top)
            row[f"{top}_rest"] = rest
        else:
            row[top] = rest
    return row
