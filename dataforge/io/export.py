"""Records out to the shapes other tools read.

`to_shape(record, target)` returns the row dict, or raises RowError when the
target cannot hold the record (a multi-turn chat into Dolly, a preference
pair into Alpaca): such rows are rejected with the reason, never flattened.
"""

from __future__ import annotations

from dataforge.errors import InputError
from dataforge.io.shapes import RowError
from dataforge.records import ConversationRecord, InstructionRecord, PreferenceRecord, Record, prompt_text

TARGETS = ("dolly", "alpaca", "sharegpt", "openai", "trl", "trl-chat", "instruction", "preference")
_HOLDS = {
    "dolly": {"instruction"},
    "alpaca": {"instruction", "conversation"},
    "sharegpt": {"instruction", "conversation"},
    "openai": {"instruction", "conversation"},
    "trl": {"instruction", "preference"},
    "trl-chat": {"instruction", "preference", "conversation"},
    "instruction": {"instruction", "conversation"},  # dataforge's own rows: chats stay `messages` rows
    "preference": {"preference"},
}
DEFAULT_TARGET = {"instruction": "instruction", "preference": "preference", "conversation": "openai"}


def check_target(target: str, kind: str) -> None:
    """Fail before any row is read when the target cannot hold this kind of data at all."""
    if target not in TARGETS:
        raise InputError(f"unknown --to '{target}'", f"use one of: {', '.join(TARGETS)}")
    if kind == "preference" and "preference" not in _HOLDS[target]:
        raise InputError(f"--to {target} cannot hold preference (chosen/rejected) data",
                         "use --to preference, trl or trl-chat")
    if kind == "instruction" and target == "preference":
        raise InputError("--to preference needs chosen/rejected data; this is instruction data",
                         "use --to instruction, dolly, alpaca, sharegpt, openai or trl")


def messages_of(record: Record) -> list[dict]:
    """The record as a chat: system (if any), user, assistant."""
    if isinstance(record, ConversationRecord):
        return record.messages
    if isinstance(record, PreferenceRecord):
        raise RowError("preference rows have no single answer to put in a chat")
    msgs = [{"role": "system", "content": record.system}] if record.system else []
    return msgs + [{"role": "user", "content": prompt_text(record)},
                   {"role": "assistant", "content": record.output}]


def _meta(record: Record, drop: tuple[str, ...] = ()) -> dict:
    return {k: v for k, v in record.meta.items() if k not in drop} if drop else record.meta


def to_shape(record: Record, target: str) -> dict:
    if record.kind not in _HOLDS[target]:
        raise RowError(_cannot_hold(record, target))
    if target == "instruction" or target == "preference":
        return record.to_dict()
    if target == "dolly":
        return {"id": record.id, "instruction": record.instruction, "context": record.context,
                "response": record.output, "category": record.category, "lang": record.lang,
                "meta": record.meta}
    if target == "alpaca":
        return _alpaca(record)
    if target == "openai":
        return {"id": record.id, "messages": messages_of(record)}
    if target == "sharegpt":
        names = {"system": "system", "user": "human", "assistant": "gpt"}
        return {"id": record.id,
                "conversations": [{"from": names[m["role"]], "value": m["content"]} for m in messages_of(record)]}
    if target == "trl":
        if record.system:
            raise RowError("has a system prompt, which plain prompt/completion text cannot hold; use --to trl-chat")
        if isinstance(record, PreferenceRecord):
            return {"id": record.id, "prompt": prompt_text(record), "chosen": record.chosen,
                    "rejected": record.rejected}
        return {"id": record.id, "prompt": prompt_text(record), "completion": record.output}
    if target == "trl-chat":
        if isinstance(record, PreferenceRecord):
            prompt = ([{"role": "system", "content": record.system}] if record.system else [])
            prompt.append({"role": "user", "content": prompt_text(record)})
            return {"id": record.id, "prompt": prompt,
                    "chosen": [{"role": "assistant", "content": record.chosen}],
                    "rejected": [{"role": "assistant", "content": record.rejected}]}
        msgs = messages_of(record)
        return {"id": record.id, "prompt": msgs[:-1], "completion": msgs[-1:]}
    raise InputError(f"unknown --to '{target}'", f"use one of: {', '.join(TARGETS)}")


def _alpaca(record: InstructionRecord | ConversationRecord) -> dict:
    if isinstance(record, ConversationRecord):
        msgs = record.messages
        system = msgs[0]["content"] if msgs[0]["role"] == "system" else ""
        body = msgs[1:] if system else msgs
        history = [[body[i]["content"], body[i + 1]["content"]] for i in range(0, len(body) - 2, 2)]
        return {"id": record.id, "instruction": body[-2]["content"], "input": "",
                "output": body[-1]["content"], "system": system, "history": history, "category": "",
                "lang": record.lang, "meta": record.meta}
    return {"id": record.id, "instruction": record.instruction, "input": record.context,
            "output": record.output, "system": record.system, "history": [], "category": record.category,
            "lang": record.lang, "meta": _meta(record, ("system",))}


def _cannot_hold(record: Record, target: str) -> str:
    if isinstance(record, ConversationRecord):
        turns = sum(1 for m in record.messages if m["role"] == "user")
        return (f"multi-turn conversation ({turns} user turns) cannot become a single {target} row;"
                " use --to openai, sharegpt, alpaca or trl-chat")
    return f"{record.kind} rows cannot be written as {target}"
