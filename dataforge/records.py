"""The record model every step reads and writes.

Five kinds:
- InstructionRecord: one instruction (with optional context) and its output.
- PreferenceRecord: a prompt with a chosen and a rejected answer. The prompt
  may be a whole conversation (`history` holds the turns before the last user
  turn, which is `instruction`), and each answer may be a continuation of
  several messages (`chosen_turns` / `rejected_turns`, empty for one plain
  assistant message, which is then `chosen` / `rejected`).
- ConversationRecord: a chat that cannot be squeezed into one instruction row
  without losing something (several turns, tool calls and results, tool
  definitions in `tools`, reasoning); kept whole, never flattened silently.
- KTORecord: unpaired preference (KTO): a prompt, one completion and a
  boolean label (True: desirable, False: undesirable). Not SFT data: a False
  completion must never be trained on as an answer to imitate.
- TextRecord: plain text for language-model (pre)training or completion.

Messages are dicts with `role` (system, user, assistant, tool) and `content`
(text; "" for an assistant turn that only calls tools), plus, where present:
`tool_calls` (OpenAI form: id, type "function", function {name, arguments as
JSON text}), `tool_call_id` and `name` on tool results, `reasoning_content`
on assistant turns, `weight` (0 or 1) on assistant turns.

Lineage (source ids, generator, model, translation source) lives in `meta`.
A record without an id gets a stable one derived from its content, so the same
row gets the same id in every run and every later step can point back to it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

ROLES = ("system", "user", "assistant", "tool")


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


class _Columns:
    """Optional list columns (history, tools, ...): written only when not empty, so older files keep theirs."""

    __slots__ = ()
    optional_columns: ClassVar[tuple[str, ...]] = ()

    def _with_optional(self, out: dict) -> dict:
        for name in self.optional_columns:
            value = getattr(self, name)
            if value:
                out[name] = value
        return out


class _Prompted(_Columns):
    """A prompt-and-answer record: its system prompt is kept in meta (a conversation keeps it in messages)."""

    __slots__ = ()

    @property
    def system(self) -> str:
        """A system prompt carried from chat or Alpaca data ("" when none)."""
        return self.meta.get("system", "")


def _plain(messages: list[dict]) -> bool:
    """Only role and content in every message (the ids of such chats predate tool calls)."""
    return all(len(m) == 2 for m in messages)


@dataclass(slots=True)
class InstructionRecord(_Prompted):
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
class PreferenceRecord(_Prompted):
    instruction: str
    chosen: str
    rejected: str
    context: str = ""
    id: str = ""
    lang: str = ""
    meta: dict = field(default_factory=dict)
    history: list = field(default_factory=list)  # prompt messages before the last user turn (no system)
    chosen_turns: list = field(default_factory=list)  # the whole chosen continuation, when not one plain message
    rejected_turns: list = field(default_factory=list)
    tools: list = field(default_factory=list)

    kind: ClassVar[str] = "preference"
    text_fields: ClassVar[tuple[str, ...]] = ("instruction", "context", "chosen", "rejected")
    optional_columns: ClassVar[tuple[str, ...]] = ("history", "chosen_turns", "rejected_turns", "tools")

    def __post_init__(self) -> None:
        if not self.id:
            extra = (self.history, self.chosen_turns, self.rejected_turns, self.tools)
            parts = ("p", self.instruction, self.context, self.chosen, self.rejected)
            self.id = content_id(*parts, *extra) if any(extra) else content_id(*parts)

    def to_dict(self) -> dict:
        return self._with_optional({
            "id": self.id,
            "instruction": self.instruction,
            "context": self.context,
            "chosen": self.chosen,
            "rejected": self.rejected,
            "lang": self.lang,
            "meta": self.meta,
        })


@dataclass(slots=True)
class ConversationRecord(_Columns):
    """A chat: messages are {"role": ..., "content": ...} dicts (see the module doc for tool calls)."""

    messages: list[dict]
    id: str = ""
    lang: str = ""
    meta: dict = field(default_factory=dict)
    tools: list = field(default_factory=list)  # tool (function) definitions offered to the assistant

    kind: ClassVar[str] = "conversation"
    text_fields: ClassVar[tuple[str, ...]] = ("messages",)
    optional_columns: ClassVar[tuple[str, ...]] = ("tools",)

    def __post_init__(self) -> None:
        if not self.id:
            if self.tools or not _plain(self.messages):
                self.id = content_id("c", self.messages, self.tools)
            else:
                self.id = content_id("c", [[m["role"], m["content"]] for m in self.messages])

    def to_dict(self) -> dict:
        return self._with_optional({"id": self.id, "messages": self.messages, "lang": self.lang, "meta": self.meta})


@dataclass(slots=True)
class KTORecord(_Prompted):
    """Unpaired preference: `completion` answers the prompt; `label` says whether it is desirable."""

    instruction: str
    completion: str
    label: bool
    context: str = ""
    id: str = ""
    lang: str = ""
    meta: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    tools: list = field(default_factory=list)

    kind: ClassVar[str] = "kto"
    text_fields: ClassVar[tuple[str, ...]] = ("instruction", "context", "completion")
    optional_columns: ClassVar[tuple[str, ...]] = ("history", "tools")

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id("k", self.instruction, self.context, self.completion, str(self.label).lower(),
                                 self.history, self.tools)

    def to_dict(self) -> dict:
        return self._with_optional({"id": self.id, "instruction": self.instruction, "context": self.context,
                                    "completion": self.completion, "label": self.label, "lang": self.lang,
                                    "meta": self.meta})


@dataclass(slots=True)
class TextRecord:
    """Plain text (a document for pretraining, a passage for completion)."""

    text: str
    id: str = ""
    lang: str = ""
    meta: dict = field(default_factory=dict)

    kind: ClassVar[str] = "text"
    text_fields: ClassVar[tuple[str, ...]] = ("text",)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id("t", self.text)

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "lang": self.lang, "meta": self.meta}


Record = Union[InstructionRecord, PreferenceRecord, ConversationRecord, KTORecord, TextRecord]
RECORD_TYPES: dict[str, type] = {
    "instruction": InstructionRecord,
    "preference": PreferenceRecord,
    "conversation": ConversationRecord,
    "kto": KTORecord,
    "text": TextRecord,
}
# What a dataset holds, by the kinds of its records: instruction data mixes instruction and conversation rows.
DATA_KINDS = ("instruction", "preference", "kto", "text")


def prompt_text(record) -> str:
    """The instruction and its context as one text (what a chat user turn holds)."""
    if record.context:
        return f"{record.instruction}\n\n{record.context}"
    return record.instruction


def prompt_messages(record) -> list[dict]:
    """The prompt of a preference or KTO record as chat messages: system, earlier turns, last user turn."""
    system = record.meta.get("system", "") if isinstance(record.meta, dict) else ""
    msgs = [{"role": "system", "content": system}] if system else []
    return msgs + list(record.history) + [{"role": "user", "content": prompt_text(record)}]


def answer_messages(record: PreferenceRecord, which: str) -> list[dict]:
    """The chosen or rejected continuation as messages (one assistant message unless it is longer)."""
    turns = record.chosen_turns if which == "chosen" else record.rejected_turns
    if turns:
        return list(turns)
    return [{"role": "assistant", "content": record.chosen if which == "chosen" else record.rejected}]


def record_from_dict(data: dict) -> Record:
    """Rebuild a record from `to_dict()` output (the dataforge native shape)."""
    meta = dict(data.get("meta") or {})
    common = {"id": data.get("id", ""), "lang": data.get("lang", ""), "meta": meta}
    if "text" in data and "instruction" not in data and "messages" not in data:
        return TextRecord(text=data["text"], **common)
    if "messages" in data and "instruction" not in data:
        cls, fields = ConversationRecord, {"messages": data["messages"]}
    elif "label" in data and "completion" in data:
        cls, fields = KTORecord, {"completion": data["completion"], "label": data["label"]}
    elif "chosen" in data:
        cls, fields = PreferenceRecord, {"chosen": data["chosen"], "rejected": data["rejected"]}
    else:
        return InstructionRecord(instruction=data["instruction"], output=data["output"],
                                 context=data.get("context", ""), category=data.get("category", ""), **common)
    if cls is not ConversationRecord:
        fields.update(instruction=data["instruction"], context=data.get("context", ""))
    lists = {name: list(data.get(name) or []) for name in cls.optional_columns}  # fresh lists, never shared
    return cls(**fields, **lists, **common)
