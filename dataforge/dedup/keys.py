"""What is compared (`--key`), with which settings, and which row of a cluster survives (`--keep`).

This module is the one definition of a duplicate: `dataforge dedup` and
`dataforge report` both take their key texts and their near-duplicate
settings (`NGRAM`, `THRESHOLD`) from here, so the two agree on a file.

Keys:
- `auto` (default): the whole example for instruction data (`all`), the
  prompt for preference data (`prompt`). Rows that only share a prompt are
  not duplicates: they are kept and counted as "same prompt as X".
- `prompt`: instruction + context; for chats, every user turn. Removes rows
  that ask the same thing whatever they answer.
- `instruction`: the instruction alone (the first user turn of a chat).
- `all`: the whole example: system prompt, prompt and answers (every turn of
  a chat, in order; chosen and rejected of a preference pair).
- `FIELD,...`: these fields, e.g. `instruction,output`. A name that is not a
  record field is looked up in the row's extra columns / `meta` (dotted
  paths such as `meta.source` work).

A whole-example key marks its answer parts (see `answer_side`), so a near
duplicate can be required to have a similar answer as well as a similar row:
a long passage with the answer "yes" and the same passage with "no" share
almost every shingle, yet they are different examples.

Keep rules (ties go to the earlier row):
- `first`: the first row in input order (files in the order given).
- `longest`: the row with the most characters over all its text fields.
- `best:FIELD`: the row with the highest number in FIELD (e.g. a judge
  score column); rows without a number there rank last.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dataforge.errors import ConfigError
from dataforge.records import ConversationRecord, Record, content_id, prompt_text

# The near-duplicate settings dedup uses by default and report always uses.
NGRAM = 5  # shingle size in tokens (words; characters for scripts written without spaces)
THRESHOLD = 0.8  # Jaccard similarity of the shingle sets from which two rows are near duplicates

PRESETS = ("auto", "prompt", "instruction", "all")
_FIELDS = {
    "instruction": {"instruction", "context", "output", "category", "lang", "system", "id"},
    "preference": {"instruction", "context", "chosen", "rejected", "lang", "system", "id"},
    "kto": {"instruction", "context", "completion", "label", "lang", "system", "id"},
    "text": {"text", "lang", "id"},
}
# A token of its own between fields ("a" + "b c" must not equal "a b" + "c"). Prompt-side parts
# follow _SEP, answer parts follow _ANS. Neither is a word character, so shingles ignore both,
# while the exact comparison (which keeps them) still tells the fields apart.
_SEP = " \x01 "
_ANS = " \x02 "
_MARKS = str.maketrans("\x01\x02", "  ")


def default_key(kind: str) -> str:
    """The key `auto` stands for: the prompt for preference data, the whole example otherwise."""
    return "prompt" if kind == "preference" else "all"


def _clean(text: str) -> str:
    # keep the field marks unambiguous: user text never contains them after this
    return text.translate(_MARKS) if "\x01" in text or "\x02" in text else text


def _join(prompt_parts, answer_parts) -> str:
    text = _SEP.join(_clean(p) for p in prompt_parts)
    if answer_parts:
        text += "".join(_ANS + _clean(a) for a in answer_parts)
    return text


def answer_side(key_text: str) -> str | None:
    """The answer parts of a whole-example key text, joined; None for a key without answers."""
    if "\x02" not in key_text:
        return None
    return " ".join(part.split("\x01", 1)[0] for part in key_text.split("\x02")[1:])


def prompt_side(key_text: str) -> str:
    """The prompt parts of a whole-example key text (everything but the answers), joined."""
    parts = key_text.split("\x02")
    rest = [part.split("\x01", 1)[1] for part in parts[1:] if "\x01" in part]
    return " ".join([parts[0], *rest])


@dataclass(frozen=True)
class KeySpec:
    preset: str | None = "auto"
    fields: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: str | None) -> "KeySpec":
        spec = (spec or "auto").strip()
        if spec in PRESETS:
            return cls(spec, ())
        fields = tuple(f.strip() for f in spec.split(",") if f.strip())
        if not fields:
            raise ConfigError(f"--key '{spec}' names no field", "use auto, prompt, instruction, all or FIELD,FIELD")
        return cls(None, fields)

    def check(self, kind: str) -> None:
        """Refuse a record field that this kind of data does not have (chosen on instruction data...)."""
        mine = _FIELDS.get(kind, set())
        others = set().union(*(f for k, f in _FIELDS.items() if k != kind))
        for name in self.fields:
            if name in others and name not in mine:
                raise ConfigError(f"--key {name}: {kind} data has no '{name}' field",
                                  f"{kind} fields: {', '.join(sorted(mine))}")

    def resolved(self, kind: str) -> "KeySpec":
        """`auto` made concrete for this kind of data; any other key as it is."""
        return KeySpec(default_key(kind)) if self.preset == "auto" else self

    def describe(self) -> str:
        return self.preset or ",".join(self.fields)

    def text(self, record: Record) -> str:
        preset = self.preset
        if preset == "auto":
            preset = default_key(record.kind)
        if isinstance(record, ConversationRecord):
            return self._chat(record, preset)
        if not hasattr(record, "instruction"):  # a kind without a prompt (plain text): no prompt, the text is all
            if preset == "all":
                return whole_text(record)
            return _SEP.join(_text_of(field_value(record, f)) for f in self.fields)
        if preset == "prompt":
            history = getattr(record, "history", None)
            if history:  # a prompt of several turns: all of them, in order (the same last turn alone is not
                return _SEP.join([*(message_text(m) for m in history), prompt_text(record)])  # the same prompt)
            return prompt_text(record)
        if preset == "instruction":
            return record.instruction
        if preset == "all":
            return whole_text(record)
        return _SEP.join(_text_of(field_value(record, f)) for f in self.fields)

    def _chat(self, record: ConversationRecord, preset: str | None) -> str:
        users = [m["content"] for m in record.messages if m["role"] == "user"]
        if preset == "prompt":
            return _SEP.join(users)
        if preset == "instruction":
            return users[0] if users else ""
        if preset == "all":
            return whole_text(record)
        parts = []
        for name in self.fields:
            if name == "instruction":
                parts.append(users[0] if users else "")
            elif name == "output":
                answers = [m["content"] for m in record.messages if m["role"] == "assistant"]
                parts.append(answers[-1] if answers else "")
            else:
                parts.append(_text_of(field_value(record, name)))
        return _SEP.join(parts)


def whole_text(record: Record) -> str:
    """The whole example as one key text: system prompt, prompt, answers (marked as answers).

    An instruction row and the same row as a chat (system, user, assistant)
    give the same text, so converting a file does not change what is a duplicate.
    """
    if isinstance(record, ConversationRecord):
        text = _tools_text(record)  # the tools offered are part of the example
        for i, m in enumerate(record.messages, 1 if text else 0):
            content = _clean(message_text(m))
            if m["role"] == "assistant":
                text += _ANS + content
            else:
                text += (_SEP if i else "") + content
        return text
    if not hasattr(record, "instruction"):
        return _SEP.join(_text_of(getattr(record, f, "")) for f in record.text_fields)
    system = record.meta.get("system", "") if isinstance(record.meta, dict) else ""
    prompt = [t for t in (_tools_text(record), system) if t] + [message_text(m) for m in getattr(record, "history", ())]
    prompt.append(prompt_text(record))
    if record.kind == "preference":
        answers = [" ".join(message_text(m) for m in turns) if turns else text
                   for text, turns in ((record.chosen, record.chosen_turns), (record.rejected, record.rejected_turns))]
        return _join(prompt, answers)
    if record.kind == "kto":  # the label is part of the example: the same answer judged both ways is no copy
        return _join(prompt, [record.completion, "good" if record.label else "bad"])
    return _join(prompt, [record.output])


def _tools_text(record: Record) -> str:
    """The tools offered, as one token: other tools make another example, yet a long tool list shared by
    every row must not make rows near duplicates by itself."""
    tools = getattr(record, "tools", None)
    return f"tools{content_id('tools', tools)}" if tools else ""


def message_text(m: dict) -> str:
    """A message's text for comparing: its content, and its tool calls (name and arguments) if any."""
    calls = m.get("tool_calls")
    if not calls:
        return m["content"]
    called = " ".join(f"{c['function']['name']} {c['function']['arguments']}" for c in calls)
    return f"{m['content']} {called}" if m["content"] else called


def row_keys(record: Record) -> tuple[str, str]:
    """(the `auto` key text, the prompt text) of a record: what `report` compares, as dedup does."""
    return KeySpec("auto").text(record), KeySpec("prompt").text(record)


def field_value(record: Record, name: str):
    """A record field, else an extra column kept in meta['extra'], else a (dotted) meta path."""
    if name == "system":
        return record.meta.get("system", "")
    if not name.startswith("meta.") and name in getattr(record, "__slots__", ()) and name != "meta":
        return getattr(record, name)
    meta = record.meta
    extra = meta.get("extra") if isinstance(meta, dict) else None
    if not name.startswith("meta.") and isinstance(extra, dict) and name in extra:
        return extra[name]
    value = meta
    for part in name.removeprefix("meta.").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _text_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value if isinstance(value, str) else str(value)


def record_length(record: Record) -> int:
    """Characters over all text fields (what `--keep longest` compares)."""
    if isinstance(record, ConversationRecord):
        return sum(len(message_text(m)) for m in record.messages)
    extra = sum(len(message_text(m)) for name in ("history", "chosen_turns", "rejected_turns")
                for m in getattr(record, name, ()))
    return sum(len(getattr(record, f)) for f in record.text_fields) + extra


@dataclass(frozen=True)
class KeepRule:
    name: str  # "first" | "longest" | "best"
    field: str = ""

    @classmethod
    def parse(cls, spec: str | None) -> "KeepRule":
        spec = (spec or "first").strip()
        if spec in ("first", "longest"):
            return cls(spec)
        if spec.startswith("best:") and spec[5:].strip():
            return cls("best", spec[5:].strip())
        raise ConfigError(f"--keep '{spec}' is not a keep rule",
                          "use first, longest, or best:FIELD (the highest number in FIELD wins)")

    def describe(self) -> str:
        return f"best:{self.field}" if self.name == "best" else self.name

    def score(self, record: Record) -> float:
        """The number `best:FIELD` ranks by; NaN when the row has none."""
        return number(field_value(record, self.field)) if self.name == "best" else math.nan


def number(value) -> float:
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return math.nan
    return math.nan


def priority_order(rule: KeepRule, lengths, scores):
    """Row indices from most to least preferred under `rule` (numpy; ties: earlier row first)."""
    import numpy as np

    n = len(lengths)
    order_idx = np.arange(n)
    if rule.name == "first":
        return order_idx
    if rule.name == "longest":
        return np.lexsort((order_idx, -np.asarray(lengths)))
    s = np.asarray(scores, dtype=np.float64)
    missing = np.isnan(s)
    return np.lexsort((order_idx, -np.where(missing, 0.0, s), missing))
