"""Chat messages out, in the form each tool reads (the inverse of `dataforge.io.chat`).

- OpenAI: tool calls with arguments as JSON text, `content` left out of a turn
  that only calls tools (as OpenAI's own examples do), tools as
  `{"type": "function", "function": {...}}`. OpenAI's chat format has no place
  for reasoning or other keys: such a row is refused, never trimmed.
- Hugging Face / TRL: tool-call arguments as objects (chat templates render
  them with `tojson`), tools as `{"type": "function", "function": {...}}`,
  `reasoning_content` kept (templates that know it render it).
- ShareGPT (LLaMA-Factory): `function_call` turns hold `{"name", "arguments"}`
  JSON (a list for parallel calls), tool results are `observation` turns; the
  system prompt goes to the `system` column; reasoning becomes
  `<think>...</think>` before the answer, LLaMA-Factory's convention.
"""

from __future__ import annotations

import json

from dataforge.io.fields import RowError

OPENAI_KEYS = {"role", "content", "name", "weight", "tool_calls", "tool_call_id"}
_TURN = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}


def wrapped_tools(tools: list) -> list[dict]:
    """Tool definitions in the OpenAI/HF form; bare function schemas (glaive, LLaMA-Factory) get wrapped."""
    return [t if t.get("type") == "function" and isinstance(t.get("function"), dict)
            else {"type": "function", "function": t} for t in tools]


def openai_messages(messages: list[dict], name: str = "messages") -> list[dict]:
    out = []
    for i, m in enumerate(messages):
        extra = set(m) - OPENAI_KEYS
        if extra:
            what = "reasoning" if "reasoning_content" in extra else ", ".join(sorted(extra))
            raise RowError(f"message {i} has {what}, which OpenAI's chat format cannot hold; use --to trl-chat",
                           name)
        msg = dict(m)
        if msg.get("tool_calls") and not msg["content"]:
            del msg["content"]
        out.append(msg)
    return out


def _arguments(text):
    """Arguments JSON text -> the object (HF chat templates expect one); other text stays as it is."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return text
    return value if isinstance(value, dict) else text


def hf_messages(messages: list[dict]) -> list[dict]:
    out = []
    for m in messages:
        msg = dict(m)
        if m.get("tool_calls"):
            msg["tool_calls"] = [{**call, "function": {**call["function"],
                                                        "arguments": _arguments(call["function"]["arguments"])}}
                                 for call in m["tool_calls"]]
        out.append(msg)
    return out


def call_text(calls: list[dict]) -> str:
    """A ShareGPT function_call value: one `{"name", "arguments"}` object, or a list for parallel calls."""
    items = [{"name": c["function"]["name"], "arguments": _arguments(c["function"]["arguments"])} for c in calls]
    return json.dumps(items[0] if len(items) == 1 else items, ensure_ascii=False)


def sharegpt_turns(messages: list[dict], strict: bool = False, name: str = "messages") -> list[dict]:
    """Messages -> ShareGPT turns (system stays a turn here; LLaMA-Factory rows take it out).

    `strict`: LLaMA-Factory's rules: human/observation and gpt/function_call alternate, starting
    with human, and a turn holds either text or calls.
    """
    turns = []
    for i, m in enumerate(messages):
        if m.get("weight") == 0:
            raise RowError(f"message {i} is marked not to be trained on (weight 0), which ShareGPT cannot"
                           " hold", name)
        if m["role"] == "assistant" and m.get("tool_calls"):
            if m["content"]:
                if strict:
                    raise RowError(f"message {i} has text and tool calls in one turn, which LLaMA-Factory"
                                   " cannot hold", name)
                turns.append({"from": "gpt", "value": m["content"]})
            turns.append({"from": "function_call", "value": call_text(m["tool_calls"])})
            continue
        value = m["content"]
        if m.get("reasoning_content"):
            value = f"<think>{m['reasoning_content']}</think>{value}"
        turns.append({"from": _TURN[m["role"]], "value": value})
    if strict:
        body = [t for t in turns if t["from"] != "system"]
        for i, t in enumerate(body):
            want = ("human", "observation") if i % 2 == 0 else ("gpt", "function_call")
            if t["from"] not in want:
                raise RowError("LLaMA-Factory needs turns that alternate user (or tool result) and assistant,"
                               " starting with the user", name)
    return turns
