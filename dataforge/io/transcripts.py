"""Anthropic HH-RLHF transcripts: "\\n\\nHuman: ...\\n\\nAssistant: ..." text <-> chat messages.

In HH-RLHF, `chosen` and `rejected` are each a whole conversation; they share
every turn up to the answers being compared. Read as a preference pair, the
shared turns (up to the last shared human turn) are the prompt and what
follows in each transcript is its answer (usually one assistant turn; a few
rows continue with more).

Each turn marker is followed by one space, which is not part of the turn's
text; writing a transcript puts it back, so a transcript read and written
again is the same text.
"""

from __future__ import annotations

import re

from dataforge.io.fields import RowError

LABELS = {"Human": "user", "Assistant": "assistant"}
_NAMES = {"user": "Human", "assistant": "Assistant"}
_SPLIT = re.compile(r"\n\n(Human|Assistant):")


def is_transcript(value) -> bool:
    return isinstance(value, str) and (value.startswith("\n\nHuman:") or value.startswith("Human:"))


def parse_transcript(text: str, name: str) -> list[dict]:
    """Transcript text -> [{"role": "user"|"assistant", "content": ...}, ...] in order."""
    if not isinstance(text, str):
        raise RowError("expected a transcript (text with Human: and Assistant: turns)", name)
    if text.startswith("Human:"):
        text = "\n\n" + text
    parts = _SPLIT.split(text)
    if parts[0].strip():
        raise RowError("text before the first 'Human:' turn", name)
    if len(parts) < 3:
        raise RowError("no 'Human:' / 'Assistant:' turns found", name)
    messages = []
    for label, content in zip(parts[1::2], parts[2::2]):
        messages.append({"role": LABELS[label], "content": content[1:] if content.startswith(" ") else content})
    return messages


def to_transcript(messages: list[dict], name: str = "messages") -> str:
    """Messages -> transcript text; only plain user and assistant turns fit the format."""
    out = []
    for m in messages:
        label = _NAMES.get(m["role"])
        if label is None or len(m) != 2:
            raise RowError(f"an HH-RLHF transcript holds only Human and Assistant text turns, not {m['role']}"
                           + (" with tool calls" if m.get("tool_calls") else ""), name)
        out.append(f"\n\n{label}: {m['content']}")
    return "".join(out)
