"""Records out to the shapes other tools read.

`to_shape(record, target)` returns the row dict, or raises RowError when the
target cannot hold the record (a multi-turn chat into Dolly, a preference
pair into Alpaca, reasoning into OpenAI's format): such rows are rejected
with the reason, never flattened.

Targets: dataforge's own `instruction`, `preference`, `kto`, `text`; `dolly`,
`alpaca`, `sharegpt`; `openai` (chat, with tools) and `openai-preference`
(OpenAI's DPO JSONL: input.messages, preferred_output, non_preferred_output);
`trl` (plain text: prompt/completion, prompt/chosen/rejected,
prompt/completion/label, text) and `trl-chat` (conversational, with `tools`);
`llamafactory-alpaca` and `llamafactory-sharegpt` (rows as LLaMA-Factory reads
them; `convert` writes the matching dataset_info.json entry beside them).
"""

from __future__ import annotations

from dataforge.errors import InputError
from dataforge.io import llamafactory
from dataforge.io.chat_out import hf_messages, openai_messages, sharegpt_turns, wrapped_tools
from dataforge.io.fields import RowError
from dataforge.records import (
    ConversationRecord,
    InstructionRecord,
    KTORecord,
    PreferenceRecord,
    Record,
    TextRecord,
    answer_messages,
    prompt_messages,
    prompt_text,
)

TARGETS = ("dolly", "alpaca", "sharegpt", "openai", "openai-preference", "trl", "trl-chat", "instruction",
           "preference", "kto", "text", "llamafactory-alpaca", "llamafactory-sharegpt")
_HOLDS = {
    "dolly": {"instruction"},
    "alpaca": {"instruction", "conversation"},
    "sharegpt": {"instruction", "conversation"},
    "openai": {"instruction", "conversation"},
    "openai-preference": {"preference"},
    "trl": {"instruction", "preference", "kto", "text"},
    "trl-chat": {"instruction", "preference", "conversation", "kto"},
    "instruction": {"instruction", "conversation"},  # dataforge's own rows: chats stay `messages` rows
    "preference": {"preference"},
    "kto": {"kto"},
    "text": {"text"},
    "llamafactory-alpaca": {"instruction", "conversation", "preference", "kto", "text"},
    "llamafactory-sharegpt": {"instruction", "conversation", "preference", "kto"},
}
DEFAULT_TARGET = {"instruction": "instruction", "preference": "preference", "conversation": "openai",
                  "kto": "kto", "text": "text"}
_KIND_WORDS = {"instruction": "instruction", "preference": "preference (chosen/rejected)",
               "kto": "unpaired preference (KTO: completion + label)", "text": "plain text"}


def targets_for(kind: str) -> list[str]:
    """The targets that can hold data of this kind (instruction data may hold conversations)."""
    return [t for t in TARGETS if kind in _HOLDS[t]]


def check_target(target: str, kind: str) -> None:
    """Fail before any row is read when the target cannot hold this kind of data at all."""
    if target not in TARGETS:
        raise InputError(f"unknown --to '{target}'", f"use one of: {', '.join(TARGETS)}")
    if kind not in _HOLDS[target]:
        what = _KIND_WORDS.get(kind, kind)
        if kind == "preference":
            raise InputError(f"--to {target} cannot hold {what} data",
                             f"use --to {', '.join(targets_for(kind))}")
        raise InputError(f"--to {target} needs other data; this is {what} data",
                         f"use --to {', '.join(targets_for(kind))}")


def messages_of(record: Record) -> list[dict]:
    """The record as a chat: system (if any), user, assistant."""
    if isinstance(record, ConversationRecord):
        return record.messages
    if not isinstance(record, InstructionRecord):
        raise RowError(f"{record.kind} rows have no single answer to put in a chat")
    msgs = [{"role": "system", "content": record.system}] if record.system else []
    return msgs + [{"role": "user", "content": prompt_text(record)},
                   {"role": "assistant", "content": record.output}]


def _meta(record: Record, drop: tuple[str, ...] = ()) -> dict:
    return {k: v for k, v in record.meta.items() if k not in drop} if drop else record.meta


def _extra(record: Record, key: str):
    extra = record.meta.get("extra") if isinstance(record.meta, dict) else None
    return extra.get(key) if isinstance(extra, dict) else None


def to_shape(record: Record, target: str) -> dict:
    if target not in _HOLDS:
        raise InputError(f"unknown --to '{target}'", f"use one of: {', '.join(TARGETS)}")
    if record.kind not in _HOLDS[target]:
        raise RowError(_cannot_hold(record, target))
    if target in ("instruction", "preference", "kto", "text"):
        return record.to_dict()
    if target == "dolly":
        return {"id": record.id, "instruction": record.instruction, "context": record.context,
                "response": record.output, "category": record.category, "lang": record.lang,
                "meta": record.meta}
    if target == "alpaca":
        return _alpaca(record)
    if target == "openai":
        return _openai(record)
    if target == "openai-preference":
        return _openai_preference(record)
    if target == "sharegpt":
        row = {"id": record.id, "conversations": sharegpt_turns(messages_of(record), name="messages")}
        if getattr(record, "tools", None):
            row["tools"] = llamafactory.tools_text(record.tools)
        return row
    if target == "trl":
        return _trl(record)
    if target == "trl-chat":
        return _trl_chat(record)
    return llamafactory.row(record, target)


def _openai(record: Record) -> dict:
    row = {"id": record.id, "messages": openai_messages(messages_of(record))}
    tools = getattr(record, "tools", None)
    if tools:
        row["tools"] = wrapped_tools(tools)
        if _extra(record, "parallel_tool_calls") is not None:
            row["parallel_tool_calls"] = _extra(record, "parallel_tool_calls")
    return row


def _openai_preference(record: PreferenceRecord) -> dict:
    given = {"messages": openai_messages(prompt_messages(record), "instruction")}
    if record.tools:
        given["tools"] = wrapped_tools(record.tools)
        if _extra(record, "parallel_tool_calls") is not None:
            given["parallel_tool_calls"] = _extra(record, "parallel_tool_calls")
    row = {"id": record.id, "input": given}
    for which, key in (("chosen", "preferred_output"), ("rejected", "non_preferred_output")):
        answer = answer_messages(record, which)
        if len(answer) != 1:
            raise RowError(f"the {which} answer has {len(answer)} messages; OpenAI's preference format takes"
                           " one assistant message per answer; use --to trl-chat", which)
        row[key] = openai_messages(answer, which)
    return row


def _trl(record: Record) -> dict:
    if isinstance(record, TextRecord):
        return {"id": record.id, "text": record.text}
    if getattr(record, "system", ""):
        raise RowError("has a system prompt, which plain prompt/completion text cannot hold; use --to trl-chat")
    if getattr(record, "history", None) or getattr(record, "tools", None) or getattr(record, "chosen_turns", None) \
            or getattr(record, "rejected_turns", None):
        raise RowError("has several turns or tools, which plain prompt text cannot hold; use --to trl-chat")
    if isinstance(record, PreferenceRecord):
        return {"id": record.id, "prompt": prompt_text(record), "chosen": record.chosen,
                "rejected": record.rejected}
    if isinstance(record, KTORecord):
        return {"id": record.id, "prompt": prompt_text(record), "completion": record.completion,
                "label": record.label}
    return {"id": record.id, "prompt": prompt_text(record), "completion": record.output}


def _trl_chat(record: Record) -> dict:
    if isinstance(record, PreferenceRecord):
        row = {"id": record.id, "prompt": hf_messages(prompt_messages(record)),
               "chosen": hf_messages(answer_messages(record, "chosen")),
               "rejected": hf_messages(answer_messages(record, "rejected"))}
    elif isinstance(record, KTORecord):
        row = {"id": record.id, "prompt": hf_messages(prompt_messages(record)),
               "completion": [{"role": "assistant", "content": record.completion}], "label": record.label}
    else:
        msgs = hf_messages(messages_of(record))
        if msgs[-2]["role"] not in ("user", "tool"):  # TRL adds the generation prompt after a user/tool turn only
            raise RowError("the answer follows no user turn (a system prompt, then the assistant), which TRL's"
                           " prompt/completion rows cannot hold; use --to openai")
        row = {"id": record.id, "prompt": msgs[:-1], "completion": msgs[-1:]}
    if getattr(record, "tools", None):
        row["tools"] = wrapped_tools(record.tools)
    return row


def _alpaca(record: InstructionRecord | ConversationRecord) -> dict:
    if isinstance(record, ConversationRecord):
        system, history, (instruction, output) = llamafactory.history_pairs(record)
        return {"id": record.id, "instruction": instruction, "input": "", "output": output, "system": system,
                "history": history, "category": "", "lang": record.lang, "meta": record.meta}
    return {"id": record.id, "instruction": record.instruction, "input": record.context,
            "output": record.output, "system": record.system, "history": [], "category": record.category,
            "lang": record.lang, "meta": _meta(record, ("system",))}


def _cannot_hold(record: Record, target: str) -> str:
    if isinstance(record, ConversationRecord):
        turns = sum(1 for m in record.messages if m["role"] == "user")
        return (f"multi-turn conversation ({turns} user turns) cannot become a single {target} row;"
                " use --to openai, sharegpt, alpaca or trl-chat")
    return f"{record.kind} rows cannot be written as {target}"
