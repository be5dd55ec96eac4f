"""Preference (chosen/rejected) and unpaired preference (KTO) rows -> records, in every common shape.

Preference shapes: dataforge's own (`instruction`, `context`/`input`,
`chosen`, `rejected`, optional `history`, `system`); TRL `prompt`/`chosen`/
`rejected` (text or conversational, prompts of several turns); implicit-prompt
`chosen`/`rejected` whole conversations (TRL) or HH-RLHF transcripts, whose
shared turns become the prompt; ShareGPT/LLaMA-Factory `conversations` with
`chosen`/`rejected` turn objects; OpenAI's preference JSONL (`input.messages`,
`preferred_output`, `non_preferred_output`); LLaMA-Factory v1
`chosen_messages`/`rejected_messages`.

KTO shapes (a boolean `label`, or LLaMA-Factory's `kto_tag`): dataforge's own
(`instruction`, `completion`, `label`), TRL `prompt`/`completion`/`label`, and
a chat (`messages` or ShareGPT `conversations`) whose last assistant turn is
the completion.
"""

from __future__ import annotations

from typing import Any

from dataforge.io.chat import continuation, parse_messages, sharegpt_messages, split_prompt
from dataforge.io.fields import RowError, common, json_list, json_value, label_of, text, tools_of
from dataforge.io.transcripts import is_transcript, parse_transcript
from dataforge.records import KTORecord, PreferenceRecord

OWNED = {
    "preference": ("instruction", "context", "input", "chosen", "rejected", "system", "history", "chosen_turns",
                   "rejected_turns", "tools"),
    "trl-preference": ("prompt", "chosen", "rejected", "tools"),
    "trl-implicit-preference": ("chosen", "rejected", "tools"),
    "hh-rlhf": ("chosen", "rejected"),
    "sharegpt-preference": ("conversations", "messages", "chosen", "rejected", "system", "tools"),
    "openai-preference": ("input", "preferred_output", "non_preferred_output"),
    "llamafactory-v1-preference": ("chosen_messages", "rejected_messages", "tools"),
    "kto": ("instruction", "context", "input", "completion", "output", "label", "kto_tag", "system", "history",
            "tools"),
    "trl-kto": ("prompt", "completion", "label", "kto_tag", "tools"),
    "openai-kto": ("messages", "label", "kto_tag", "tools"),
    "sharegpt-kto": ("conversations", "label", "kto_tag", "system", "tools"),
}


def _answer(value: Any, name: str) -> list[dict]:
    """An answer given as text, one message, or a list of messages -> messages."""
    value = json_list(value)
    if isinstance(value, str):
        return [{"role": "assistant", "content": value}]
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list) and value and all(isinstance(m, dict) and "from" in m for m in value):
        return sharegpt_messages(value, "", name)
    if value is None:
        raise RowError("missing field", name)
    return parse_messages(value, name)


def _history(value: Any) -> list[dict]:
    """Earlier turns: messages, or Alpaca-style [instruction, answer] pairs."""
    value = json_list(value, list) if isinstance(value, str) and value.startswith("[[") else json_list(value)
    if value in (None, "", []):
        return []
    if isinstance(value, list) and all(isinstance(h, (list, tuple)) and len(h) == 2 for h in value):
        out = []
        for q, a in value:
            out += [{"role": "user", "content": str(q)}, {"role": "assistant", "content": str(a)}]
        return out
    return parse_messages(value, "history")


def _record(row: dict, shape: str, system: str, history: list, instruction: str, chosen: list[dict],
            rejected: list[dict], tools: list, context: str = "") -> PreferenceRecord:
    c = common(row, OWNED[shape])
    chosen_text, chosen_turns = continuation(chosen, "chosen")
    rejected_text, rejected_turns = continuation(rejected, "rejected")
    if system:
        c["meta"]["system"] = system
    return PreferenceRecord(instruction=instruction, chosen=chosen_text, rejected=rejected_text, context=context,
                            history=history, chosen_turns=chosen_turns, rejected_turns=rejected_turns,
                            tools=tools, **c)


def split_pair(chosen: list[dict], rejected: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """(prompt, chosen answer, rejected answer) of two whole conversations: the prompt is their shared
    turns up to the last shared user turn."""
    n = 0
    while n < min(len(chosen), len(rejected)) and chosen[n] == rejected[n]:
        n += 1
    while n > 0 and chosen[n - 1]["role"] != "user":
        n -= 1
    if n == 0:
        raise RowError("chosen and rejected share no prompt (they differ from the first user turn)", "rejected")
    for name, msgs in (("chosen", chosen), ("rejected", rejected)):
        if len(msgs) == n:
            raise RowError("has no answer after the prompt it shares with the other side", name)
    return chosen[:n], chosen[n:], rejected[n:]


def from_native(row: dict) -> PreferenceRecord:
    instruction = text(row, "instruction")
    context = text(row, "context", False) or text(row, "input", False)
    chosen = _answer(row.get("chosen_turns") or text(row, "chosen"), "chosen")
    rejected = _answer(row.get("rejected_turns") or text(row, "rejected"), "rejected")
    return _record(row, "preference", text(row, "system", False), _history(row.get("history")), instruction,
                   chosen, rejected, tools_of(row), context)


def _trl_prompt(row: dict) -> tuple[str, list, str]:
    """(system, history, instruction) of a TRL row's `prompt`: a plain string or a message list."""
    prompt = json_list(row.get("prompt"))
    if isinstance(prompt, list):
        return split_prompt(parse_messages(prompt, "prompt"), "prompt")
    return "", [], text(row, "prompt")


def from_trl(row: dict) -> PreferenceRecord:
    system, history, instruction = _trl_prompt(row)
    return _record(row, "trl-preference", system, history, instruction, _answer(row.get("chosen"), "chosen"),
                   _answer(row.get("rejected"), "rejected"), tools_of(row))


def from_implicit(row: dict, shape: str = "trl-implicit-preference") -> PreferenceRecord:
    """Whole conversations (or HH-RLHF transcripts) in `chosen` and `rejected`; shared turns are the prompt."""
    sides = []
    for name in ("chosen", "rejected"):
        value = row.get(name)
        sides.append(parse_transcript(value, name) if is_transcript(value) else parse_messages(value, name))
    prompt, chosen, rejected = split_pair(*sides)
    system, history, instruction = split_prompt(prompt, "chosen")
    return _record(row, shape, system, history, instruction, chosen, rejected, tools_of(row))


def from_hh(row: dict) -> PreferenceRecord:
    return from_implicit(row, "hh-rlhf")


def from_sharegpt(row: dict) -> PreferenceRecord:
    name = "conversations" if "conversations" in row else "messages"
    prompt = sharegpt_messages(row.get(name), text(row, "system", False), name)
    system, history, instruction = split_prompt(prompt, name)
    return _record(row, "sharegpt-preference", system, history, instruction, _answer(row.get("chosen"), "chosen"),
                   _answer(row.get("rejected"), "rejected"), tools_of(row))


def from_openai(row: dict) -> PreferenceRecord:
    given = json_value(row.get("input"), "input", "a JSON object")
    if not isinstance(given, dict):
        raise RowError("expected an object with 'messages'", "input")
    system, history, instruction = split_prompt(parse_messages(given.get("messages"), "input"), "input")
    record = _record(row, "openai-preference", system, history, instruction,
                     _answer(row.get("preferred_output"), "preferred_output"),
                     _answer(row.get("non_preferred_output"), "non_preferred_output"), tools_of(given))
    rest = {k: v for k, v in given.items() if k not in ("messages", "tools") and v is not None}
    if rest:  # e.g. parallel_tool_calls: kept for the way back
        record.meta.setdefault("extra", {}).update(rest)
    return record


def from_v1(row: dict) -> PreferenceRecord:
    prompt, chosen, rejected = split_pair(parse_messages(row.get("chosen_messages"), "chosen_messages"),
                                          parse_messages(row.get("rejected_messages"), "rejected_messages"))
    system, history, instruction = split_prompt(prompt, "chosen_messages")
    return _record(row, "llamafactory-v1-preference", system, history, instruction, chosen, rejected,
                   tools_of(row))


# ---- KTO ------------------------------------------------------------------

def _label(row: dict) -> bool:
    name = "label" if row.get("label") is not None else "kto_tag"
    if row.get(name) is None:
        raise RowError("missing field", "label")
    return label_of(row[name], name)


def _kto(row: dict, shape: str, system: str, history: list, instruction: str, completion: list[dict],
         tools: list, context: str = "") -> KTORecord:
    c = common(row, OWNED[shape])
    if len(completion) != 1 or completion[0]["role"] != "assistant" or len(completion[0]) != 2:
        raise RowError("a KTO completion must be one assistant text message", "completion")
    if system:
        c["meta"]["system"] = system
    return KTORecord(instruction=instruction, completion=completion[0]["content"], label=_label(row),
                     context=context, history=history, tools=tools, **c)


def kto_from_native(row: dict) -> KTORecord:
    context = text(row, "context", False) or text(row, "input", False)
    completion = text(row, "completion") if row.get("completion") is not None or "output" not in row \
        else text(row, "output")  # LLaMA-Factory's Alpaca KTO rows keep the completion in `output`
    return _kto(row, "kto", text(row, "system", False), _history(row.get("history")), text(row, "instruction"),
                _answer(completion, "completion"), tools_of(row), context)


def kto_from_trl(row: dict) -> KTORecord:
    system, history, instruction = _trl_prompt(row)
    return _kto(row, "trl-kto", system, history, instruction, _answer(row.get("completion"), "completion"),
                tools_of(row))


def _kto_chat(row: dict, shape: str, messages: list[dict], name: str) -> KTORecord:
    if messages[-1]["role"] != "assistant":
        raise RowError("the conversation does not end with the assistant's completion", name)
    system, history, instruction = split_prompt(messages[:-1], name)
    return _kto(row, shape, system, history, instruction, messages[-1:], tools_of(row))


def kto_from_openai(row: dict) -> KTORecord:
    return _kto_chat(row, "openai-kto", parse_messages(row.get("messages"), "messages"), "messages")


def kto_from_sharegpt(row: dict) -> KTORecord:
    messages = sharegpt_messages(row.get("conversations"), text(row, "system", False))
    return _kto_chat(row, "sharegpt-kto", messages, "conversations")


MAPPERS = {
    "preference": from_native, "trl-preference": from_trl, "trl-implicit-preference": from_implicit,
    "hh-rlhf": from_hh, "sharegpt-preference": from_sharegpt, "openai-preference": from_openai,
    "llamafactory-v1-preference": from_v1, "kto": kto_from_native, "trl-kto": kto_from_trl,
    "openai-kto": kto_from_openai, "sharegpt-kto": kto_from_sharegpt,
}
