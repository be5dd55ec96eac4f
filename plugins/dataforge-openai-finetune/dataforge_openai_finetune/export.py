"""Records -> the JSONL OpenAI fine-tunes on, checked the way OpenAI checks it, before anything is sent.

Instruction and conversation records become chat examples
`{"messages": [...]}` (+ `tools`; supervised method). Preference records become
OpenAI's preference examples (DPO method):

    {"input": {"messages": [system?, earlier turns..., user], "tools"?: [...]},
     "preferred_output": [{"role": "assistant", "content": chosen}],
     "non_preferred_output": [{"role": "assistant", "content": rejected}]}

A row OpenAI would refuse goes to the rejects file with its reason; the
file-level rules (at least 10 examples, token counts, cost) come from
`dataforge.formatting.validate_openai`, and a file it would refuse stops the
run here, before any upload.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from dataforge.errors import InputError
from dataforge.formatting.openai_check import OpenAIReport, example_errors, validate_openai
from dataforge.io import RejectSink, RowError, read_dataset, rejects_path_for, to_shape
from dataforge.io.atomic import atomic_path
from dataforge.io.rejects import Reject
from dataforge.progress import progress_bar
from dataforge.records import PreferenceRecord

TRAIN_FILE = "train.jsonl"
VALID_FILE = "validation.jsonl"


@dataclass
class Export:
    """What was written for upload, and what the check found."""

    kind: str  # "instruction" | "preference"
    shape: str
    train: list[dict]
    valid: list[dict]
    report: OpenAIReport
    read: int = 0
    rejected: int = 0
    reasons: dict = field(default_factory=dict)
    rejects_path: str | None = None
    files: dict = field(default_factory=dict)  # "train"/"validation" -> {"name", "bytes", "sha256", "rows"}
    bodies: dict = field(default_factory=dict, repr=False)  # the same keys -> the JSONL bytes

    def write(self, output: Path) -> None:
        """Write the files to upload into `output` (kept there: what was sent is part of the lineage)."""
        for key, body in self.bodies.items():
            with atomic_path(Path(output) / self.files[key]["name"]) as tmp:
                Path(tmp).write_bytes(body)

    @property
    def fingerprint(self) -> str:
        """What was uploaded: --resume refuses other data."""
        return hashlib.sha256("".join(f["sha256"] for f in self.files.values()).encode()).hexdigest()[:32]

    def counts(self) -> dict:
        return {"read": self.read, "train": len(self.train), "eval": len(self.valid), "rejected": self.rejected,
                "too_long": 0, "reasons": dict(self.reasons)}


def preference_example(record: PreferenceRecord) -> dict:
    """OpenAI's preference row: the whole prompt (system, earlier turns, last user turn), tools, both answers."""
    row = to_shape(record, "openai-preference")
    del row["id"]  # OpenAI refuses unknown keys
    return row


def chat_example(record) -> dict:
    """OpenAI's chat row: the messages with their tool calls, and the tools offered."""
    row = to_shape(record, "openai")
    del row["id"]
    return row


def example_problem(example: dict) -> str | None:
    """Why this example cannot be sent (None: it can): OpenAI's format rules, and a pair with no preference."""
    chat = chat_of(example)
    errs = example_errors(chat)
    if "input" in example:
        rejected = example["non_preferred_output"][0]["content"]
        if not isinstance(rejected, str) or not rejected.strip():
            errs.append("the rejected answer is empty")
    if errs:
        return "not a valid OpenAI fine-tuning example: " + "; ".join(errs)
    if "input" in example and rejected.strip() == chat["messages"][-1]["content"].strip():
        return "chosen and rejected are the same text: there is no preference to learn"
    return None


def chat_of(example: dict) -> dict:
    """The example as one chat (prompt + preferred answer): what the token counts measure."""
    if "messages" in example:
        return example
    return {"messages": example["input"]["messages"] + example["preferred_output"]}


def _split_key(record_id: str, seed: int | None) -> float:
    h = hashlib.blake2b(f"{seed}:{record_id}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64


def build(data, output: Path, *, eval_split: float = 0.0, seed: int | None = 42, epochs: int | None = None,
          price_per_1m_tokens: float | None = None, mapping=None, fmt=None, strict: bool = False) -> Export:
    """Read `data`, convert and check every row; raises before anything is sent if OpenAI would refuse it.

    Nothing is written but the rejects file (`OUT.rejects.jsonl`); `Export.write(output)` writes the files.
    """
    paths = [str(d) for d in (data if isinstance(data, (list, tuple)) else [data])]
    for p in paths:
        if "*" not in p and not Path(p).exists():
            raise InputError(f"{p}: no such data file or folder", "check the --data path")
    sink = RejectSink(rejects_path_for(output), strict=strict)
    train, valid = [], []
    with sink, progress_bar("check data for OpenAI", unit="rows") as bar:
        ds = read_dataset(paths, mapping=mapping, fmt=fmt, rejects=sink, progress=bar)
        if ds.kind in ("kto", "text"):  # KTO's undesirable completions must never become supervised examples
            raise InputError(f"{', '.join(paths)}: OpenAI fine-tuning has no method for {ds.kind} data",
                             "supervised needs chats, dpo needs preference pairs")
        for record in ds:
            file, line = getattr(ds, "where", ("", None))
            try:
                example = preference_example(record) if isinstance(record, PreferenceRecord) else chat_example(record)
            except RowError as exc:  # e.g. reasoning, or an answer of several turns: OpenAI's format cannot hold it
                sink.add(Reject(exc.reason, file=file, line=line, field=exc.field, id=record.id,
                                row=record.to_dict()))
                continue
            problem = example_problem(example)
            if problem:
                sink.add(Reject(problem, file=file, line=line, id=record.id, row=record.to_dict()))
                continue
            held = eval_split and _split_key(record.id, seed) < eval_split
            (valid if held else train).append(example)
        if ds.stats.read == 0:
            raise InputError(f"{', '.join(paths)}: no rows to train on (the input is empty)", "check the --data path")
    if eval_split and not valid and len(train) > 1:
        valid.append(train.pop())
    report = validate_openai([chat_of(e) for e in train], epochs=epochs, price_per_1m_tokens=price_per_1m_tokens)
    export = Export(kind=ds.kind, shape=ds.shape, train=train, valid=valid, report=report, read=ds.stats.read,
                    rejected=sink.count, reasons=dict(sink.by_reason),
                    rejects_path=str(sink.path) if sink.count and sink.path else None)
    if report.errors:
        detail = f"; {sink.count} row(s) rejected, see {export.rejects_path}" if sink.count else ""
        raise InputError(f"the data is not ready for OpenAI fine-tuning: {report.errors[0]}{detail}",
                         "add examples (or fix the rejected rows); nothing was uploaded")
    for key, name, rows in (("train", TRAIN_FILE, train), ("validation", VALID_FILE, valid)):
        if rows:
            body = b"".join(orjson.dumps(r) + b"\n" for r in rows)
            export.bodies[key] = body
            export.files[key] = {"name": name, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                                 "rows": len(rows)}
    return export
