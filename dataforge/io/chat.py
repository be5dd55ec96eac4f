"""Chat messages in: OpenAI/Hugging Face messages, ShareGPT turns, tool calls and results, content parts.

Every chat reader ends here, so a message means the same thing whatever file it
came from (see `dataforge.records` for the message form):

- OpenAI / HF: `role` system|user|assistant|tool, `content` text, a list of
  parts, or null beside `tool_calls`; `tool_calls` (OpenAI form, or HF form
  whose arguments are an object), `tool_call_id`, `name`, `weight`,
  `reasoning_content`. The legacy `function_call` / `function` role become a
  tool call / tool result. Other keys are kept on the message as they are.
- Content parts: `{"type": "text", "text"|"value": ...}`; LLaMA-Factory v1 adds
  `reasoning` (kept as `reasoning_content`) and `tool_call` (a JSON call);
  any other part (images, audio) is refused by name.
- ShareGPT turns `{"from", "value"}`: human/user, gpt/assistant (and chatgpt,
  bing, bard, model), system, `function_call` (a JSON call or list of calls,
  an assistant turn) and `observation` / `tool` (the tool's result).

Tool calls without an id get `call_1`, `call_2`, ... (in row order); a tool
result without `tool_call_id` answers the oldest call still waiting.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from dataforge.io.fields import RowError
from dataforge.records import ROLES, ConversationRecord, InstructionRecord, Record

SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "chatgpt": "assistant", "bing": "assistant", "bard": "assistant", "model": "assistant",
                  "system": "system", "function_call": "call", "observation": "tool", "tool": "tool"}
_PART_TEXT = ("text", "input_text", "output_text")


def parse_messages(value: Any, name: str) -> list[dict]:
    """A list (or JSON text of a list) of messages -> normalised messages; RowError says what is wrong."""
    if isinstance(value, str) and value.lstrip().startswith("["):
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
        out.append(_message(msg, i, name))
    link_tool_results(out)
    return out


def _message(msg: dict, i: int, name: str) -> dict:
    role = msg.get("role")
    if role == "function":  # OpenAI's legacy name for a tool result
        role = "tool"
    if role not in ROLES:
        raise RowError(f"message {i} has role {role!r}; supported roles: {', '.join(ROLES)}", name)
    content, reasoning, calls = _content(msg.get("content"), i, name)
    out: dict = {"role": role, "content": content}
    for key, value in msg.items():
        if key in ("role", "content") or value is None:
            continue
        if key == "tool_calls":
            calls += tool_calls(value, f"message {i}", name)
        elif key == "function_call":  # legacy single call
            calls += tool_calls([value], f"message {i}", name)
        elif key == "reasoning_content" and isinstance(value, str):
            reasoning += value
        elif key == "loss_weight":  # LLaMA-Factory v1: only a 0 on an assistant turn says something
            if role == "assistant" and value == 0:
                out["weight"] = 0
        else:
            out[key] = value
    if calls:
        if role != "assistant":
            raise RowError(f"message {i} ({role}) has tool calls; only assistant turns make them", name)
        out["tool_calls"] = calls
    if reasoning:
        out["reasoning_content"] = reasoning
    if out["content"] is None:
        if not calls:
            raise RowError(f"message {i} has no text content", name)
        out["content"] = ""
    return out


def _content(value: Any, i: int, name: str) -> tuple[str | None, str, list]:
    """(text, reasoning, tool calls) of a message's content: text, null, or a list of parts."""
    if value is None or isinstance(value, str):
        return value, "", []
    if not isinstance(value, list):
        raise RowError(f"message {i} has no text content", name)
    text, reasoning, calls = [], "", []
    for part in value:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _PART_TEXT or kind == "reasoning":
            piece = part.get("text", part.get("value"))
            if not isinstance(piece, str):
                raise RowError(f"message {i} has a {kind} part without text", name)
            if kind == "reasoning":
                reasoning += piece
            else:
                text.append(piece)
        elif kind == "tool_call":
            calls += tool_calls(part.get("value"), f"message {i}", name)
        else:
            raise RowError(f"message {i} has non-text content parts ({kind or type(part).__name__})", name)
    return "".join(text), reasoning, calls


def tool_calls(value: Any, where: str, name: str) -> list[dict]:
    """Tool calls in any common form -> [{"type": "function", "function": {"name", "arguments" (JSON text)}}]."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise RowError(f"{where}: the tool call is not valid JSON", name) from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise RowError(f"{where}: expected a tool call object or a list of them", name)
    out = []
    for call in value:
        if not isinstance(call, dict):
            raise RowError(f"{where}: a tool call is not an object", name)
        fn = call["function"] if isinstance(call.get("function"), dict) else call  # flat {"name", "arguments"}
        fname = fn.get("name")
        if not isinstance(fname, str) or not fname:
            raise RowError(f"{where}: a tool call has no function name", name)
        args = fn.get("arguments", fn.get("parameters", {}))
        if not isinstance(args, str):  # an object (HF, ShareGPT): as JSON text, the OpenAI form
            args = json.dumps(args, ensure_ascii=False)
        one = {"type": "function", "function": {"name": fname, "arguments": args}}
        if call.get("id") not in (None, ""):
            one = {"id": str(call["id"]), **one}
        out.append(one)
    return out


def link_tool_results(messages: list[dict]) -> None:
    """Give id-less tool calls `call_N` and id-less tool results the id of the oldest waiting call."""
    n, waiting = 0, []
    for m in messages:
        for call in m.get("tool_calls", ()):
            if "id" not in call:
                n += 1
                call_id = f"call_{n}"
                call_copy = {"id": call_id, **call}
                call.clear()
                call.update(call_copy)
            waiting.append(call["id"])
        if m["role"] == "tool":
            if "tool_call_id" not in m and waiting:
                m["tool_call_id"] = waiting[0]
            if m.get("tool_call_id") in waiting:
                waiting.remove(m["tool_call_id"])


def sharegpt_messages(turns: Any, system: str, name: str = "conversations",
                      tags: dict | None = None) -> list[dict]:
    """ShareGPT turns (plus a `system` column) -> messages. `tags`: LLaMA-Factory's role/content tag names."""
    if isinstance(turns, str) and turns.lstrip().startswith("["):
        try:
            turns = json.loads(turns)
        except ValueError:
            raise RowError("not a valid JSON list", name) from None
    if not isinstance(turns, list) or not turns:
        raise RowError("expected a non-empty list of turns", name)
    role_key, content_key, roles = _tag_names(tags)
    messages = [{"role": "system", "content": system}] if system else []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise RowError(f"turn {i} is not an object", name)
        who = turn.get(role_key, turn.get("from", turn.get("role")))
        role = roles.get(str(who).lower())
        if role is None:
            raise RowError(f"turn {i} is from {who!r}; expected human, gpt, system, function_call or observation",
                           name)
        value = turn.get(content_key, turn.get("value", turn.get("content")))
        if role == "call":
            messages.append({"role": "assistant", "content": "",
                             "tool_calls": tool_calls(value, f"turn {i} (function_call)", name)})
            continue
        if not isinstance(value, str):
            raise RowError(f"turn {i} has no text value", name)
        messages.append({"role": role, "content": value})
    link_tool_results(messages)
    return messages


def _tag_names(tags: dict | None) -> tuple[str, str, dict]:
    if not tags:
        return "from", "value", SHAREGPT_ROLES
    roles = dict(SHAREGPT_ROLES)
    for tag, role in (("user_tag", "user"), ("assistant_tag", "assistant"), ("observation_tag", "tool"),
                      ("function_tag", "call"), ("system_tag", "system")):
        if tags.get(tag):
            roles[str(tags[tag]).lower()] = role
    return tags.get("role_tag", "from"), tags.get("content_tag", "value"), roles


def check_chat(messages: list[dict], name: str) -> None:
    """A chat dataforge can hold: system first only, tool results after a tool call, an assistant turn last.

    Turns need not alternate (OpenAI accepts two user turns in a row), and a
    system prompt followed straight by the assistant is a valid example.
    """
    body = messages[1:] if messages[0]["role"] == "system" else messages
    if any(m["role"] == "system" for m in body):
        raise RowError("a system message may only come first", name)
    if not body:
        raise RowError("the conversation has no turn after the system message", name)
    if body[0]["role"] == "tool":
        raise RowError("the conversation starts with a tool result", name)
    if body[0]["role"] == "assistant" and body is messages:
        raise RowError("the conversation starts with an assistant turn, with no system or user turn before it",
                       name)
    for i, m in enumerate(body):
        if m["role"] == "tool":
            before = body[i - 1]
            if before["role"] != "tool" and not before.get("tool_calls"):
                raise RowError(f"turn {i} is a tool result (observation) but no tool call comes before it", name)
    if body[-1]["role"] != "assistant":
        raise RowError("the conversation does not end with an assistant turn", name)


def is_plain(messages: list[dict]) -> bool:
    return all(len(m) == 2 for m in messages)


def chat_to_record(messages: list[dict], common: dict, name: str, tools: list | None = None) -> Record:
    """One system?+user+assistant exchange of plain text -> InstructionRecord; anything else a conversation."""
    check_chat(messages, name)
    has_system = messages[0]["role"] == "system"
    body = messages[1:] if has_system else messages
    if (not tools and len(body) == 2 and body[0]["role"] == "user" and body[1]["role"] == "assistant"
            and is_plain(messages)):
        if has_system and messages[0]["content"]:
            common["meta"]["system"] = messages[0]["content"]
        return InstructionRecord(instruction=body[0]["content"], output=body[1]["content"], **common)
    return ConversationRecord(messages=messages, tools=list(tools or []), **common)


def split_prompt(messages: list[dict], name: str) -> tuple[str, list[dict], str]:
    """(system, earlier turns, last user turn) of a conversational prompt; it must end with a user turn."""
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    body = messages[1:] if messages and messages[0]["role"] == "system" else list(messages)
    if not body:
        raise RowError("the prompt has no user turn", name)
    if any(m["role"] == "system" for m in body):
        raise RowError("a system message may only come first", name)
    last = body[-1]
    if last["role"] != "user" or len(last) != 2:
        raise RowError(f"the prompt must end with a user turn (it ends with {last['role']})", name)
    return system, body[:-1], last["content"]


def continuation(messages: list[dict], name: str) -> tuple[str, list[dict]]:
    """(text of the first reply, the whole continuation unless it is one plain assistant message)."""
    if not messages or messages[0]["role"] != "assistant":
        raise RowError("expected the assistant's answer first", name)
    if any(m["role"] == "system" for m in messages):
        raise RowError("a system message may only come first", name)
    if len(messages) == 1 and len(messages[0]) == 2:
        return messages[0]["content"], []
    if messages[-1]["role"] != "assistant":
        raise RowError("the answer does not end with an assistant turn", name)
    return messages[0]["content"], list(messages)
