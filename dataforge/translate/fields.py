"""Which texts of a record are translated, and which are left exactly as they are.

Instruction rows translate instruction, context and output; preference rows
instruction, context, chosen and rejected, and with the instruction the
earlier user and assistant turns of a multi-turn prompt (`history.0`, ...);
chat rows every message's content (as fields `messages.0`, `messages.1`, ...). A field that is empty is kept
empty and never sent; a field made only of code (a fenced block, or text
that reads as source code line by line) is kept as it is.
"""

from __future__ import annotations

import dataclasses
import re

from dataforge.errors import ConfigError
from dataforge.records import ConversationRecord

DEFAULT_FIELDS = {
    "instruction": ("instruction", "context", "output"),
    "preference": ("instruction", "context", "chosen", "rejected"),
    "conversation": ("messages",),
    "kto": ("instruction", "context", "completion"),
    "text": ("text",),
}


def check_fields(fields: list[str] | tuple[str, ...] | None, kind: str) -> tuple[str, ...]:
    """The fields to translate for a dataset kind; unknown names raise ConfigError."""
    allowed = DEFAULT_FIELDS[kind]
    if not fields:
        return allowed
    bad = [f for f in fields if f not in allowed]
    if bad:
        raise ConfigError(f"--fields: {', '.join(bad)} is not a field of {kind} data",
                          f"use some of: {', '.join(allowed)}")
    return tuple(dict.fromkeys(fields))


def texts_of(record, fields: tuple[str, ...]) -> dict[str, str]:
    """field name -> text for the requested fields (chat messages expand to messages.N). The earlier turns
    of a multi-turn prompt (`history`, HH-RLHF and ShareGPT pairs) travel with the instruction as
    history.N: a translated pair whose last user turn is Spanish and earlier turns English is no use."""
    if isinstance(record, ConversationRecord):
        return {f"messages.{i}": m["content"] for i, m in enumerate(record.messages)}
    texts = {name: getattr(record, name) for name in fields if name in record.text_fields}
    if "instruction" in texts:
        for i, message in enumerate(getattr(record, "history", None) or ()):
            if message.get("role") in ("user", "assistant") and isinstance(message.get("content"), str):
                texts[f"history.{i}"] = message["content"]
    return texts


def with_texts(record, texts: dict[str, str], **changes):
    """A copy of `record` with the given field texts (and other attribute changes)."""
    if isinstance(record, ConversationRecord):
        messages = [dict(m) for m in record.messages]
        for key, value in texts.items():
            messages[int(key.split(".", 1)[1])]["content"] = value
        return dataclasses.replace(record, messages=messages, **changes)
    plain = {k: v for k, v in texts.items() if not k.startswith("history.")}
    turns = {int(k.split(".", 1)[1]): v for k, v in texts.items() if k.startswith("history.")}
    if turns:
        history = [dict(m) for m in record.history]
        for i, value in turns.items():
            history[i]["content"] = value
        changes["history"] = history
    return dataclasses.replace(record, **plain, **changes)


# ---- code-only fields -------------------------------------------------------------------------

_CODE_START = re.compile(
    r"^\s*(?:def |class |import |from \S+ import |return\b|if .*:$|for .*:$|while .*:$|elif |else:|try:|"
    r"except\b|with .*:$|function\b|const |let |var |public |private |static |#include|#!|package |using |"
    r"SELECT |INSERT |UPDATE |DELETE |CREATE |ALTER |DROP |WITH |<\?php|@\w+|//|/\*|\*/|#\s|\}|\{|\)|\]|"
    r"print\(|console\.|echo |fn |impl |struct |func |pub |val |mod )")
_CODE_END = re.compile(r"(?:[;{}(\[]|=>|->)\s*$")
# An assignment or comparison needs a name on its left: "221 = 13 × 17" is arithmetic in a sentence.
_CODE_INNER = re.compile(r"\w\(|\)\s*[{;:]|\b[^\W\d]\w*\s*(?:==|!=|<=|>=|\+=|-=|:=|=)\s*\S|\w\.\w+\(|\[\w*\]|::|=>|->")
# Runs of ordinary words (capitalised or lower case, not SQL-style CAPS) mark prose.
_WORD = r"\b[^\W\d_][^\W\d_A-Z]*\b"
_PROSE_RUN = re.compile(rf"{_WORD}(?:[ ,]+{_WORD}){{2,}}")


_IMPORT = re.compile(r"^\s*(?:import [\w.]+(?: as \w+)?|from [\w.]+ import [\w., ]+)\s*$")


def _line_is_code(line: str) -> bool:
    if _IMPORT.match(line):
        return True
    strong = _CODE_START.match(line) and (line.rstrip().endswith(":") or _CODE_END.search(line)
                                          or _CODE_INNER.search(line))
    if strong:
        return True
    if not (_CODE_START.match(line) or _CODE_END.search(line) or _CODE_INNER.search(line)):
        return False
    return not _PROSE_RUN.search(line) or line.rstrip().endswith((";", "{"))


def looks_like_code(text: str) -> bool:
    """True when (nearly) every non-empty line reads as source code rather than prose."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return False
    code = sum(_line_is_code(ln) for ln in lines)
    if len(lines) == 1:
        return code == 1
    return code / len(lines) >= 0.75
