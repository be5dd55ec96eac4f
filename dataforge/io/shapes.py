"""Dataset shapes: recognise one from its columns (and a few values) and map its rows to records.

Instruction and chat shapes (here): Dolly, Alpaca (with system/history),
OpenAI chat (`messages`, with `tools`), ShareGPT (`conversations`, with
function_call/observation turns and `tools`), TRL prompt/completion, plain
text (`text`, or a .txt file), dataforge's own instruction rows. Preference
and KTO shapes live in `dataforge.io.preference`; chat messages in
`dataforge.io.chat`.

A row that cannot become a record raises RowError naming the field and why;
the reader turns that into a reject with file and line.
"""

from __future__ import annotations

from typing import Callable

from dataforge.errors import InputError
from dataforge.io import preference as pref
from dataforge.io.chat import chat_to_record, parse_messages, sharegpt_messages
from dataforge.io.fields import COMMON, RowError, common, json_list, looks_boolean, text, tools_of
from dataforge.io.nested import apply_mapping
from dataforge.io.rawread import is_nan
from dataforge.io.transcripts import is_transcript
from dataforge.records import ConversationRecord, InstructionRecord, Record, TextRecord, content_id

__all__ = ["SHAPES", "RowError", "apply_mapping", "detect_shape", "row_to_record", "unknown_shape_error",
           "instruction_id", "text", "json_list"]
_common = common  # the old private name, still imported by a few callers

# shape name -> (kind of data, columns the shape owns)
SHAPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "openai": ("instruction", ("messages", "tools")),
    "llamafactory-v1": ("instruction", ("messages", "tools")),  # messages whose content is a list of {type, value}
    "sharegpt": ("instruction", ("conversations", "system", "tools")),
    "trl-completion": ("instruction", ("prompt", "completion", "tools")),
    "dolly": ("instruction", ("instruction", "context", "response")),
    "alpaca": ("instruction", ("instruction", "input", "output", "system", "history")),
    "instruction": ("instruction", ("instruction", "context", "output", "messages", "tools")),
    "text": ("text", ("text",)),
    **{name: ("kto" if "kto" in name else "preference", owned) for name, owned in pref.OWNED.items()},
}
# The columns that decide a shape, for the hint when none matches.
FIELDS = ("instruction, context, output, chosen, rejected, prompt, completion, messages, conversations, label,"
          " text")


def detect_shape(columns: set[str], sample: list[dict] | None = None) -> str | None:
    """The shape whose required columns are present, most specific first.

    `sample`: a few rows, for the shapes that columns alone cannot tell apart
    (a boolean `label` makes a chat KTO data; transcript text makes HH-RLHF).
    """
    sample = sample or []
    kto = any(looks_boolean([r.get(c) for r in sample if isinstance(r, dict)]) for c in ("label", "kto_tag")
              if c in columns) or (not sample and bool({"label", "kto_tag"} & columns))
    if {"input", "preferred_output", "non_preferred_output"} <= columns:
        return "openai-preference"
    if {"chosen_messages", "rejected_messages"} <= columns:
        return "llamafactory-v1-preference"
    if ("messages" in columns or "conversations" in columns) and {"chosen", "rejected"} <= columns:
        return "sharegpt-preference"
    if "messages" in columns:
        if kto:
            return "openai-kto"
        # dataforge's own rows mix instruction rows and multi-turn `messages` rows
        if {"instruction", "output"} <= columns:
            return "instruction"
        return "llamafactory-v1" if any(_v1_parts(r.get("messages")) for r in sample if isinstance(r, dict)) \
            else "openai"
    if "conversations" in columns:
        return "sharegpt-kto" if kto else "sharegpt"
    if {"chosen", "rejected"} <= columns:
        if "instruction" in columns:
            return "preference"
        if "prompt" in columns:
            return "trl-preference"
        values = [r.get("chosen") for r in sample if isinstance(r, dict)]
        if values and all(is_transcript(v) for v in values if v is not None):
            return "hh-rlhf"
        return "trl-implicit-preference"
    if kto and ("completion" in columns or {"instruction", "output"} <= columns):  # TRL / dataforge / Alpaca KTO
        return "kto" if "instruction" in columns else "trl-kto"
    if {"prompt", "completion"} <= columns:
        return "trl-completion"
    if {"instruction", "response"} <= columns:
        return "dolly"
    if {"instruction", "output"} <= columns:
        return "alpaca" if ({"input", "history", "system"} & columns) else "instruction"
    if "text" in columns:
        return "text"
    return None


def _v1_parts(messages) -> bool:
    """LLaMA-Factory v1 rows: content is a list of parts that carry `value` (OpenAI's carry `text`)."""
    return isinstance(messages, list) and any(
        isinstance(m, dict) and isinstance(m.get("content"), list)
        and any(isinstance(p, dict) and "value" in p for p in m["content"]) for m in messages)


def unknown_shape_error(columns: set[str], source: str) -> InputError:
    cols = ", ".join(sorted(columns)) or "(none)"
    return InputError(
        f"{source}: cannot tell what kind of data this is; columns found: {cols}",
        f"map your columns onto dataforge fields, e.g. {_guess_mapping(columns)}"
        f" (fields: {FIELDS}; a nested value: --map output=instances.0.output)",
    )


def _guess_mapping(columns: set[str]) -> str:
    text_like = sorted(c for c in columns if c not in COMMON)
    pairs = []
    for want, hints in (("instruction", ("question", "query", "prompt", "input")),
                        ("output", ("answer", "response", "target", "reply", "output"))):
        hit = next((c for c in text_like if any(h in c.lower() for h in hints) and c != want), None)
        if hit:
            pairs.append(f"--map {want}={hit}")
    if not pairs and any(c in text_like for c in ("content", "document", "passage", "body")):
        pairs.append(f"--map text={next(c for c in text_like if c in ('content', 'document', 'passage', 'body'))}")
    return " ".join(pairs) or "--map instruction=QUESTION_COLUMN --map output=ANSWER_COLUMN"


def row_to_record(shape: str, row: dict) -> Record:
    return _MAPPERS[shape](row)


_DOLLY = SHAPES["dolly"][1]
_ALPACA = SHAPES["alpaca"][1] + ("context",)


def instruction_id(instruction: str, context: str, output: str) -> str:
    """The id InstructionRecord derives for this content (kept for callers; same as records.content_id)."""
    return content_id("i", instruction, context, output)


# ---- one mapper per shape ---------------------------------------------------

def _from_openai(row: dict) -> Record:
    c = common(row, SHAPES["openai"][1])
    return chat_to_record(parse_messages(row.get("messages"), "messages"), c, "messages", tools_of(row))


def _from_sharegpt(row: dict) -> Record:
    c = common(row, SHAPES["sharegpt"][1])
    messages = sharegpt_messages(row.get("conversations"), text(row, "system", False))
    return chat_to_record(messages, c, "conversations", tools_of(row))


def _from_dolly(row: dict) -> Record:
    c = common(row, _DOLLY)
    instruction, output, context = row.get("instruction"), row.get("response"), row.get("context", "")
    if type(instruction) is not str or type(output) is not str or type(context) is not str:
        instruction, output = text(row, "instruction"), text(row, "response")
        context = text(row, "context", False)
    if not c["id"]:
        c["id"] = content_id("i", instruction, context, output)
    return InstructionRecord(instruction=instruction, output=output, context=context,
                             category=text(row, "category", False), **c)


def _from_alpaca(row: dict) -> Record:
    c = common(row, _ALPACA)
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
        return ConversationRecord(messages=messages, **c)
    if system:
        c["meta"]["system"] = system
    if not c["id"]:
        c["id"] = content_id("i", instruction, context, output)
    return InstructionRecord(instruction=instruction, output=output, context=context,
                             category=text(row, "category", False), **c)


def _from_completion(row: dict) -> Record:
    c = common(row, SHAPES["trl-completion"][1])
    prompt, completion = json_list(row.get("prompt")), json_list(row.get("completion"))
    if isinstance(prompt, list) or isinstance(completion, list):
        messages = parse_messages(prompt, "prompt") + parse_messages(completion, "completion")
        return chat_to_record(messages, c, "prompt", tools_of(row))
    return InstructionRecord(instruction=text(row, "prompt"), output=text(row, "completion"),
                             category=text(row, "category", False), **c)


def _from_text(row: dict) -> Record:
    return TextRecord(text=text(row, "text"), **common(row, SHAPES["text"][1]))


def _from_native(row: dict) -> Record:
    """dataforge's instruction shape: a row with `messages` (and no instruction) is a conversation."""
    if row.get("messages") and not row.get("instruction"):  # CSV gives "" where Parquet gives None
        return _from_openai(row)
    return _from_alpaca(row)


_MAPPERS: dict[str, Callable[[dict], Record]] = {
    "openai": _from_openai,
    "llamafactory-v1": _from_openai,
    "sharegpt": _from_sharegpt,
    "trl-completion": _from_completion,
    "dolly": _from_dolly,
    "alpaca": _from_alpaca,
    "instruction": _from_native,
    "text": _from_text,
    **pref.MAPPERS,
}
