"""Rows to records on the reader's hot path: the shape's mapper and the empty-text check in one call.

A row holding only known columns, each of the plain type (text, or None where
optional), becomes its record here without the generic helpers of `shapes`;
anything else takes the shape's mapper and then `check_text`, so every result
and every reject reason is the same either way. Dolly and Alpaca (and
dataforge's own instruction rows) have such a fast path: they are the large
datasets; the chat shapes go through their mappers.
"""

from __future__ import annotations

from typing import Any, Callable

from dataforge.io.shapes import _MAPPERS, RowError, _from_alpaca, _from_dolly, _from_openai
from dataforge.records import InstructionRecord, Record, content_id

_ANSWERS = {"chosen": "chosen_turns", "rejected": "rejected_turns"}

_DOLLY_PLAIN = frozenset(("instruction", "context", "response", "category", "id", "lang", "meta"))
_ALPACA_PLAIN = frozenset(("instruction", "input", "context", "output", "system", "history", "category", "id",
                           "lang", "meta"))
_str = str


def check_text(record: Record) -> None:
    """Reject a record whose required text is empty or blank (context may be empty)."""
    if type(record) is InstructionRecord:  # the common case, without the generic loop or copies
        for name, value in (("instruction", record.instruction), ("output", record.output)):
            if not value or value.isspace():
                raise RowError("field is empty", name)
        return
    for name in record.text_fields:
        if name == "context":
            continue
        value = getattr(record, name)
        if name == "messages":
            if any(_empty_message(m) for m in value):
                raise RowError("a message has empty content", "messages")
        elif name in _ANSWERS and getattr(record, _ANSWERS[name]):  # a continuation may open with a tool call
            if any(_empty_message(m) for m in getattr(record, _ANSWERS[name])):
                raise RowError("a message has empty content", name)
        elif not value.strip():
            raise RowError("field is empty", name)
    for m in getattr(record, "history", ()):
        if _empty_message(m):
            raise RowError("a message has empty content", "history")


def _empty_message(m: dict) -> bool:
    """No text where text is needed: system prompts may be empty, tool calls and tool results carry their own."""
    if m["role"] in ("system", "tool") or m.get("tool_calls"):
        return False
    content = m["content"]
    return not content or content.isspace()


def _plain_meta(meta: Any) -> dict | None:
    """_common's meta for a row with no extra columns, or None when it needs _common."""
    if meta is None:
        return {}
    if type(meta) is dict:
        return dict(meta)
    return None


def _checked_dolly(row: dict, check: bool) -> Record:
    if row.keys() <= _DOLLY_PLAIN:
        get = row.get
        instruction, output, context = get("instruction"), get("response"), get("context", "")
        rid, lang, category = get("id"), get("lang"), get("category")
        if (type(instruction) is _str and type(output) is _str and type(context) is _str
                and (rid is None or type(rid) is _str) and (lang is None or type(lang) is _str)
                and (category is None or type(category) is _str)):
            meta = _plain_meta(get("meta"))
            if meta is not None:
                return _plain_record(instruction, output, context, rid, lang, category, meta, check)
    record = _from_dolly(row)
    if check:
        check_text(record)
    return record


def _plain_record(instruction: str, output: str, context: str, rid, lang, category, meta: dict,
                  check: bool) -> InstructionRecord:
    # The fast path's record: the same empty-text rule as check_text, the same id as __post_init__.
    if check:
        if not instruction or instruction.isspace():
            raise RowError("field is empty", "instruction")
        if not output or output.isspace():
            raise RowError("field is empty", "output")
    return InstructionRecord(instruction, output, context, rid or content_id("i", instruction, context, output),
                             lang or "", category or "", meta)


def _checked_alpaca(row: dict, check: bool) -> Record:
    if row.keys() <= _ALPACA_PLAIN:
        get = row.get
        instruction, output, given, context = get("instruction"), get("output"), get("input"), get("context")
        rid, lang, category, system = get("id"), get("lang"), get("category"), get("system")
        if (type(instruction) is _str and type(output) is _str
                and (given is None or type(given) is _str) and (context is None or type(context) is _str)
                and (rid is None or type(rid) is _str) and (lang is None or type(lang) is _str)
                and (category is None or type(category) is _str) and (system is None or type(system) is _str)
                and not get("history")):
            meta = _plain_meta(get("meta"))
            if meta is not None:
                if system:
                    meta["system"] = system
                return _plain_record(instruction, output, given or context or "", rid, lang, category, meta,
                                     check)
    record = _from_alpaca(row)
    if check:
        check_text(record)
    return record


def _checked_native(row: dict, check: bool) -> Record:
    if row.get("messages") and not row.get("instruction"):
        record = _from_openai(row)
        if check:
            check_text(record)
        return record
    return _checked_alpaca(row, check)


def _checked(mapper: Callable[[dict], Record]) -> Callable[[dict, bool], Record]:
    def to_record(row: dict, check: bool) -> Record:
        record = mapper(row)
        if check:
            check_text(record)
        return record
    return to_record


# shape -> (row, check) -> record; check=True rejects empty required text (RowError)
CHECKED_MAPPERS: dict[str, Callable[[dict, bool], Record]] = {
    name: _checked(mapper) for name, mapper in _MAPPERS.items()}
CHECKED_MAPPERS.update(dolly=_checked_dolly, alpaca=_checked_alpaca, instruction=_checked_native)
