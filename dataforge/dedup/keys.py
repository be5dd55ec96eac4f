"""What is compared (`--key`) and which row of a cluster survives (`--keep`).

Keys:
- `prompt` (default): instruction + context; for chats, every user turn.
  Preference data is deduplicated on its prompt, so two pairs for the same
  question count as duplicates whatever their answers.
- `instruction`: the instruction alone (the first user turn of a chat).
- `all`: every text field (answers included; every turn of a chat).
- `FIELD,...`: these fields, e.g. `instruction,output`. A name that is not a
  record field is looked up in the row's extra columns / `meta` (dotted
  paths such as `meta.source` work).

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
from dataforge.records import ConversationRecord, Record, prompt_text

PRESETS = ("prompt", "instruction", "all")
_FIELDS = {
    "instruction": {"instruction", "context", "output", "category", "lang", "system", "id"},
    "preference": {"instruction", "context", "chosen", "rejected", "lang", "system", "id"},
}
_SEP = " \x01 "  # a token of its own between fields: "a" + "b c" must not equal "a b" + "c"


@dataclass(frozen=True)
class KeySpec:
    preset: str | None = "prompt"
    fields: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: str | None) -> "KeySpec":
        spec = (spec or "prompt").strip()
        if spec in PRESETS:
            return cls(spec, ())
        fields = tuple(f.strip() for f in spec.split(",") if f.strip())
        if not fields:
            raise ConfigError(f"--key '{spec}' names no field", "use prompt, instruction, all or FIELD,FIELD")
        return cls(None, fields)

    def check(self, kind: str) -> None:
        """Refuse a record field that this kind of data does not have (chosen on instruction data...)."""
        other = {"instruction": "preference", "preference": "instruction"}[kind]
        for name in self.fields:
            if name in _FIELDS[other] and name not in _FIELDS[kind]:
                raise ConfigError(f"--key {name}: {kind} data has no '{name}' field",
                                  f"{kind} fields: {', '.join(sorted(_FIELDS[kind]))}")

    def describe(self) -> str:
        return self.preset or ",".join(self.fields)

    def text(self, record: Record) -> str:
        if isinstance(record, ConversationRecord):
            return self._chat(record)
        if self.preset == "prompt":
            return prompt_text(record)
        if self.preset == "instruction":
            return record.instruction
        if self.preset == "all":
            return _SEP.join(getattr(record, f) for f in record.text_fields)
        return _SEP.join(_text_of(field_value(record, f)) for f in self.fields)

    def _chat(self, record: ConversationRecord) -> str:
        users = [m["content"] for m in record.messages if m["role"] == "user"]
        if self.preset == "prompt":
            return _SEP.join(users)
        if self.preset == "instruction":
            return users[0] if users else ""
        if self.preset == "all":
            return _SEP.join(m["content"] for m in record.messages)
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
        return sum(len(m["content"]) for m in record.messages)
    return sum(len(getattr(record, f)) for f in record.text_fields)


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
