"""The evaluation set: records with a reference answer, their language, and how each renders.

An eval set is instruction data (any shape dataforge reads: Dolly, Alpaca,
OpenAI chat, ShareGPT, prompt/completion...) whose answer is the reference.
Chats are scored on their final assistant turn. Preference data is refused
with a message: it has no single reference answer to score against.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dataforge.errors import InputError
from dataforge.io import Reject, RejectSink, read_dataset
from dataforge.records import ConversationRecord, prompt_text


@dataclass
class EvalItem:
    id: str
    record: object  # InstructionRecord or ConversationRecord
    question: str  # the user's text (for the judge and for language detection)
    reference: str
    lang: str  # the record's language, else detected from the question, else "unknown"
    where: tuple = ("", None)


def _parts(record) -> tuple[str, str] | None:
    """(question, reference) or None when the record has no answer to score against."""
    if isinstance(record, ConversationRecord):
        msgs = record.messages
        last = max((i for i, m in enumerate(msgs) if m.get("role") == "assistant"), default=None)
        if last is None or last == 0:
            return None
        user = next((m["content"] for m in reversed(msgs[:last]) if m.get("role") == "user"), "")
        return user, msgs[last]["content"]
    return prompt_text(record), record.output


def load_eval_set(data, *, mapping=None, fmt=None, rejects: RejectSink | None = None,
                  limit: int | None = None) -> tuple[list[EvalItem], dict]:
    """Items to score and counts {"read", "ok", "rejected", "shape"}; InputError for the wrong kind of data."""
    from dataforge.eval.metrics import detect_language

    paths = list(data) if isinstance(data, (list, tuple)) else [data]
    for p in paths:
        if "*" not in str(p) and not Path(p).exists():
            raise InputError(f"{p}: no such eval file or folder", "check the --data path")
    sink = rejects if rejects is not None else RejectSink()
    ds = read_dataset(paths, mapping=mapping, fmt=fmt, rejects=sink)
    if ds.kind != "instruction":
        raise InputError(f"{', '.join(map(str, paths))}: the eval set is {ds.kind} data ({ds.shape} shape); "
                         "eval needs prompts with one reference answer each",
                         "use instruction data (instruction/output, prompt/completion or chat messages); "
                         "for preference pairs keep only the chosen answer, e.g. --map output=chosen")
    items: list[EvalItem] = []
    for record in ds:
        where = getattr(ds, "where", ("", None))
        parts = _parts(record)
        if parts is None:
            sink.add(Reject("the chat has no assistant turn to score against", file=where[0], line=where[1],
                            field="messages", id=record.id, row=record.to_dict()))
            continue
        question, reference = parts
        if not reference.strip():
            sink.add(Reject("empty reference answer", file=where[0], line=where[1], field="output",
                            id=record.id, row=record.to_dict()))
            continue
        lang = record.lang or detect_language(question) or "unknown"
        items.append(EvalItem(record.id, record, question, reference, lang, where))
        if limit and len(items) >= limit:
            break
    if ds.stats.read == 0:
        raise InputError(f"{', '.join(map(str, paths))}: the eval set is empty", "check the --data path")
    if not items:
        raise InputError(f"no usable eval rows: {ds.stats.read} read, all rejected "
                         f"({', '.join(f'{k}: {v}' for k, v in sink.by_reason.items())})",
                         "each row needs a prompt and a reference answer; see the rejects file")
    counts = {"read": ds.stats.read, "ok": len(items), "rejected": sink.count, "shape": ds.shape}
    return items, counts
