"""The record model every step reads and writes.

Three kinds:
- InstructionRecord: one instruction (with optional context) and its output.
- PreferenceRecord: one prompt with a chosen and a rejected answer.
- ConversationRecord: a multi-turn chat that cannot be squeezed into one
  instruction row without losing turns (kept whole, never flattened silently).

Lineage (source ids, generator, model, translation source) lives in `meta`.
A record without an id gets a stable one derived from its content, so the same
row gets the same id in every run and every later step can point back to it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

ROLES = ("system", "user", "assistant")


def content_id(*parts: Any) -> str:
    """A stable 16-hex-digit id from content (same content, same id, every run).

    The hash covers each part (non-text parts as sorted JSON) followed by a 0x1F
    separator. Readers call this once per row, so all-text parts take one join
    and one hash update instead of an update per part (the bytes are the same).
    """
    try:
        data = "\x1f".join((*parts, ""))
    except TypeError:  # a list or dict part (conversations): JSON text first
        data = "\x1f".join([*(p if isinstance(p, str) else json.dumps(p, ensure_ascii=False, sort_keys=True)
                              for p in parts), ""])
    return _blake2b(data.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


_blake2b = hashlib.blake2b


@dataclass(slots=True)
class InstructionRecord:
    instruction: str
    output: str
    context: str = ""
    id: str = ""
    lang: str = ""
    category: str = ""
    meta: dict = field(default_factory=dict)

    kind: ClassVar[str] = "instruction"
    text_fields: ClassVar[tuple[str, ...]] = ("instruction", "context", "output")

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id("i", self.instruction, self.context, self.output)

    @property
    def system(self) -> str:
        """A system prompt carried from chat or Alpaca data ("" when none)."""
        return self.meta.get("system", "")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "instruction": self.instruction,
            "context": self.context,
            "output": self.output,
            "lang": self.lang,
            "category": self.category,
            "meta": self.meta,
        }


@dataclass(slots=True)
class PreferenceRecord:
    instruction: str
    chosen: str
    rejected: str
    context: str = ""
    id: str = ""
    lang: str = ""
    meta: dict = field(default_factory=dict)

    kind: ClassVar[str] = "preference"
    text_fields: ClassVar[tuple[str, ...]] = ("instruction", "context", "chosen", "rejected")

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id("p", self.instruction, self.context, self.chosen, self.rejected)

    @property
    def system(self) -> str:
        return self.meta.get("system", "")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "instruction": self.instruction,
            "context": self.context,
            "chosen": self.chosen,
            "rejected": self.rejected,
            "lang": self.lang,
            "meta": self.meta,
        }


@dataclass(slots=True)
class ConversationRecord:
    """A chat of several turns: messages are {"role": ..., "content": ...} dicts."""

    messages: list[dict]
    id: str = ""
    lang: str = ""
    meta: dict = field(default_factory=dict)

    kind: ClassVar[str] = "conversation"
    text_fields: ClassVar[tuple[str, ...]] = ("messages",)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id("c", [[m["role"], m["content"]] for m in self.messages])

    def to_dict(self) -> dict:
        return {"id": self.id, "messages": self.messages, "lang": self.lang, "meta": self.meta}


Record = Union[InstructionRecord, PreferenceRecord, ConversationRecord]
RECORD_TYPES: dict[str, type] = {
    "instruction": InstructionRecord,
    "preference": PreferenceRecord,
    "conversation": ConversationRecord,
}


def prompt_text(record: InstructionRecord | PreferenceRecord) -> str:
    """The instruction and its context as one text (what a chat user turn holds)."""
    if record.context:
        return f"{record.instruction}\n\n{record.context}"
    return record.instruction


def record_from_dict(data: dict) -> Record:
    """Rebuild a record from `to_dict()` output (the dataforge native shape)."""
    if "messages" in data and "instruction" not in data:
        return ConversationRecord(
            messages=data["messages"], id=data.get("id", ""), lang=data.get("lang", ""),
            meta=dict(data.get("meta") or {}),
        )
    if "chosen" in data:
        return PreferenceRecord(
            instruction=data["instruction"], chosen=data["chosen"], rejected=data["rejected"],
            context=data.get("context", ""), id=data.get("id", ""), lang=data.get("lang", ""),
            meta=dict(data.get("meta") or {}),
        )
    return InstructionRecord(
        instruction=data["instruction"], output=data["output"], context=data.get("context", ""),
        id=data.get("id", ""), lang=data.get("lang", ""), category=data.get("category", ""),
        meta=dict(data.get("meta") or {}),
    )
