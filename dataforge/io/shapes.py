"""Dataset shapes: recognise one from its columns and map its rows to records.

Shapes read: Dolly, Alpaca (with system/history), OpenAI chat (`messages`),
ShareGPT (`conversations`), TRL prompt/completion and prompt/chosen/rejected
(plain strings or conversational), implicit-prompt preference (chosen and
rejected as whole conversations), and dataforge's own instruction/preference.

A row that cannot become a record raises RowError naming the field and why;
the reader turns that into a reject with file and line.
"""

from __future__ import annotations

from typing import Any, Callable

import orjson

from dataforge.errors import InputError
from dataforge.io.rawread import is_nan
from dataforge.records import ConversationRecord, InstructionRecord, PreferenceRecord, Record, content_id

COMMON = ("id", "lang", "category", "meta")
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "chatgpt": "assistant", "bing": "assistant", "bard": "assistant", "system": "system"}


class RowError(Exception):
    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field


# shape name -> (kind, columns the shape owns)
SHAPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "openai": ("instruction", ("messages",)),
    "sharegpt": ("instruction", ("conversations", "system")),
    "preference": ("preference", ("instruction", "context", "chosen", "rejected")),
    "trl-preference": ("preference", ("prompt", "chosen", "rejected")),
    "trl-implicit-preference": ("preference", ("chosen", "rejected")),
    "trl-completion": ("instruction", ("prompt", "completion")),
    "dolly": ("instruction", ("instruction", "context", "response")),
    "alpaca": ("instruction", ("instruction", "input", "output", "system", "history")),
    "instruction": ("instruction", ("instruction", "context", "output", "messages")),
}


def detect_shape(columns: set[str]) -> str | None:
    """The shape whose required columns are present, most specific first."""
    if "messages" in columns:
        # dataforge's own rows mix instruction rows and multi-turn `messages` rows
        return "instruction" if {"instruction", "output"} <= columns else "openai"
    if "conversations" in columns:
        return "sharegpt"
    if {"chosen", "rejected"} <= columns:
        if "instruction" in columns:
            return "preference"
        if "prompt" in columns:
            return "trl-preference"
        return "trl-implicit-preference"
    if {"prompt", "completion"} <= columns:
        return "trl-completion"
    if {"instruction", "response"} <= columns:
        return "dolly"
    if {"instruction", "output"} <= columns:
        return "alpaca" if ({"input", "history", "system"} & columns) else "instruction"
    return None


def unknown_shape_error(columns: set[str], source: str) -> InputError:
    cols = ", ".join(sorted(columns)) or "(none)"
    guess = _guess_mapping(columns)
    return InputError(
        f"{source}: cannot tell what kind of data this is; columns found: {cols}",
        f"map your columns onto dataforge fields, e.g. {guess}"
        " (fields: instruction, context, output, chosen, rejected, prompt, completion, messages)",
    )


def _guess_mapping(columns: set[str]) -> str:
    text_like = sorted(c for c in columns if c not in COMMON)
    pairs = []
    for want, hints in (("instruction", ("question", "query", "prompt", "text", "input")),
                        ("output", ("answer", "response", "target", "label", "reply"))):
        hit = next((c for c in text_like if any(h in c.lower() for h in hints)), None)
        if hit:
            pairs.append(f"--map {want}={hit}")
    return " ".join(pairs) or "--map instruction=QUESTION_COLUMN --map output=ANSWER_COLUMN"


def apply_mapping(row: dict, mapping: dict[str, str]) -> dict:
    """`--map output=answer`: the column `answer` is read as the field `output`."""
    for field_name, column in mapping.items():
        if column in row:
            row[field_name] = row.pop(column)
    return row


def row_to_record(shape: str, row: dict) -> Record:
    return _MAPPERS[shape](row)


_DOLLY = SHAPES["dolly"][1]
_ALPACA = SHAPES["alpaca"][1] + ("context",)


# ---- field helpers ---------------------------------------------------------

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


def _common(row: dict, owned: tuple[str, ...]) -> dict:
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
        import json

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


def _messages(value: Any, name: str) -> list[dict]:
    if isinstance(value, str) and value.startswith("["):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise RowError("not a valid JSON list of messages", name) from None
    if not isinstance(value, list) or not value:
        raise RowError("expected a non-empty list of messages", name)
    out = []
    for i, msg in enumerate(value):
        if not isinstance(msg, dict):
            raise RowError(f"message {i} is not an object", name)
        role = msg.get("role")
        if role not in ("system", "user", "assistant"):
            raise RowError(f"message {i} has role {role!r}; supported roles: system, user, assistant", name)
        content = msg.get("content")
        if isinstance(content, list):  # OpenAI content parts: keep the text parts
            if any(not isinstance(p, dict) or p.get("type") != "text" for p in content):
                raise RowError(f"message {i} has non-text content parts", name)
            content = "".join(p.get("text", "") for p in content)
        if not isinstance(content, str):
            raise RowError(f"message {i} has no text content", name)
        out.append({"role": role, "content": content})
    return out


def _check_turns(messages: list[dict], name: str) -> None:
    roles = [m["role"] for m in messages]
    body = roles[1:] if roles[0] == "system" else roles
    if "system" in body:
        raise RowError("a system message may only come first", name)
    if not body or body[-1] != "assistant":
        raise RowError("the conversation does not end with an assistant turn", name)
    for i, role in enumerate(body):
        if role != ("user" if i % 2 == 0 else "assistant"):
            raise RowError("turns must alternate user, assistant, user, ...", name)


def chat_to_record(messages: list[dict], common: dict, name: str) -> Record:
    """One system?+user+assistant exchange -> InstructionRecord; more turns -> ConversationRecord."""
    _check_turns(messages, name)
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    body = messages[1:] if messages[0]["role"] == "system" else messages
    if len(body) == 2:
        meta = common["meta"]
        if system:
            meta["system"] = system
        return InstructionRecord(instruction=body[0]["content"], output=body[1]["content"], **common)
    return ConversationRecord(messages=messages, **common)


# ---- one mapper per shape ---------------------------------------------------

def _from_openai(row: dict) -> Record:
    common = _common(row, SHAPES["openai"][1])
    return chat_to_record(_messages(row.get("messages"), "messages"), common, "messages")


def _from_sharegpt(row: dict) -> Record:
    common = _common(row, SHAPES["sharegpt"][1])
    turns = row.get("conversations")
    if isinstance(turns, str) and turns.startswith("["):
        turns = _messages_json(turns)
    if not isinstance(turns, list) or not turns:
        raise RowError("expected a non-empty list of turns", "conversations")
    messages = []
    if row.get("system"):
        messages.append({"role": "system", "content": text(row, "system")})
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise RowError(f"turn {i} is not an object", "conversations")
        who = turn.get("from", turn.get("role"))
        role = _SHAREGPT_ROLES.get(str(who).lower())
        if role is None:
            raise RowError(f"turn {i} is from {who!r}; expected human, gpt or system", "conversations")
        value = turn.get("value", turn.get("content"))
        if not isinstance(value, str):
            raise RowError(f"turn {i} has no text value", "conversations")
        messages.append({"role": role, "content": value})
    return chat_to_record(messages, common, "conversations")


def _messages_json(value: str) -> Any:
    import json

    try:
        return json.loads(value)
    except ValueError:
        raise RowError("not a valid JSON list", "conversations") from None


def instruction_id(instruction: str, context: str, output: str) -> str:
    """The id InstructionRecord derives for this content (kept for callers; same as records.content_id)."""
    return content_id("i", instruction, context, output)


def _from_dolly(row: dict) -> Record:
    common = _common(row, _DOLLY)
    instruction, output, context = row.get("instruction"), row.get("response"), row.get("context", "")
    if type(instruction) is not str or type(output) is not str or type(context) is not str:
        instruction, output = text(row, "instruction"), text(row, "response")
        context = text(row, "context", False)
    if not common["id"]:
        common["id"] = content_id("i", instruction, context, output)
    return InstructionRecord(instruction=instruction, output=output, context=context,
                             category=text(row, "category", False), **common)


def _from_alpaca(row: dict) -> Record:
    common = _common(row, _ALPACA)
    instruction, output = text(row, "instruction"), text(row, "output")
    context = text(row, "input", False) or text(row, "context", False)
    system = text(row, "system", False)
    history = json_list(row.get("history"), list)
    if history and not is_nan(history):
        if not isinstance(history, list) or any(not isinstance(h, (list, tuple)) or len(h) != 2 for h in history):
            raise RowError("expected a list of [instruction, answer] pairs", "history")
        messages = ([{"role": "system", "content": system}] if system else [])
        for q, a in history:
            messages += [{"role": "user", "content": str(q)}, {"role": "assistant", "content": str(a)}]
        user = f"{instruction}\n\n{context}" if context else instruction
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": output}]
        return ConversationRecord(messages=messages, **common)
    if system:
        common["meta"]["system"] = system
    if not common["id"]:
        common["id"] = content_id("i", instruction, context, output)
    return InstructionRecord(instruction=instruction, output=output, context=context,
                             category=text(row, "category", False), **common)


def _from_completion(row: dict) -> Record:
    common = _common(row, SHAPES["trl-completion"][1])
    prompt, completion = json_list(row.get("prompt")), json_list(row.get("completion"))
    if isinstance(prompt, list) or isinstance(completion, list):
        messages = _messages(prompt, "prompt") + _messages(completion, "completion")
        return chat_to_record(messages, common, "prompt")
    return InstructionRecord(instruction=text(row, "prompt"), output=text(row, "completion"),
                             category=text(row, "category", False), **common)


def _assistant_text(value: Any, name: str) -> str:
    value = json_list(value)
    if isinstance(value, list):
        msgs = _messages(value, name)
        if len(msgs) != 1 or msgs[0]["role"] != "assistant":
            raise RowError("expected exactly one assistant message", name)
        return msgs[0]["content"]
    return text({name: value}, name)


def _split_prompt(messages: list[dict], name: str) -> tuple[str, str]:
    """(system, user) from a conversational prompt; multi-turn prompts cannot be held."""
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    body = messages[1:] if messages[0]["role"] == "system" else messages
    if len(body) != 1 or body[0]["role"] != "user":
        raise RowError("preference prompts with several turns are not supported; keep one user turn", name)
    return system, body[0]["content"]


def _preference(common: dict, system: str, instruction: str, chosen: str, rejected: str,
                context: str = "") -> PreferenceRecord:
    if system:
        common["meta"]["system"] = system
    return PreferenceRecord(instruction=instruction, chosen=chosen, rejected=rejected,
                            context=context, **common)


def _from_preference(row: dict) -> Record:
    common = _common(row, SHAPES["preference"][1])
    return _preference(common, "", text(row, "instruction"), text(row, "chosen"),
                       text(row, "rejected"), text(row, "context", False))


def _from_trl_preference(row: dict) -> Record:
    common = _common(row, SHAPES["trl-preference"][1])
    prompt = json_list(row.get("prompt"))
    if isinstance(prompt, list):
        system, instruction = _split_prompt(_messages(prompt, "prompt"), "prompt")
    else:
        system, instruction = "", text(row, "prompt")
    return _preference(common, system, instruction, _assistant_text(row.get("chosen"), "chosen"),
                       _assistant_text(row.get("rejected"), "rejected"))


def _from_implicit(row: dict) -> Record:
    common = _common(row, SHAPES["trl-implicit-preference"][1])
    chosen, rejected = _messages(row.get("chosen"), "chosen"), _messages(row.get("rejected"), "rejected")
    if chosen[:-1] != rejected[:-1]:
        raise RowError("chosen and rejected do not share the same prompt turns", "rejected")
    for name, msgs in (("chosen", chosen), ("rejected", rejected)):
        if msgs[-1]["role"] != "assistant" or len(msgs) < 2:
            raise RowError("must end with an assistant message after the prompt", name)
    system, instruction = _split_prompt(chosen[:-1], "chosen")
    return _preference(common, system, instruction, chosen[-1]["content"], rejected[-1]["content"])


def _from_native(row: dict) -> Record:
    """dataforge's instruction shape: a row with `messages` (and no instruction) is a conversation."""
    if row.get("messages") and not row.get("instruction"):  # CSV gives "" where Parquet gives None
        return _from_openai(row)
    return _from_alpaca(row)


_MAPPERS: dict[str, Callable[[dict], Record]] = {
    "openai": _from_openai,
    "sharegpt": _from_sharegpt,
    "preference": _from_preference,
    "trl-preference": _from_trl_preference,
    "trl-implicit-preference": _from_implicit,
    "trl-completion": _from_completion,
    "dolly": _from_dolly,
    "alpaca": _from_alpaca,
    "instruction": _from_native,
}
