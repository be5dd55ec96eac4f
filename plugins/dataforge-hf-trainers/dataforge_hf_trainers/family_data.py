"""Rows for the RLHF-loop backends: prompts for rloo/grpo, unpaired completions for kto.

Like `dataforge.train.data.prepare_data` (and built from its parts): every row
read lands in the training rows, the held-out rows or the rejects file with
its reason, and nothing is truncated.

- Prompts (rloo, grpo): instruction, chat or preference records. The prompt is
  rendered with the training template exactly as SFT rendered it; the record
  itself travels along (JSON) so rewards can re-render the answer the way the
  reward model was trained, and its answer (or chosen answer) is the reference
  the `exact` reward compares with.
- Unpaired (kto): KTO records (prompt, completion, label; the reader knows
  their shapes) as they are; a preference pair becomes two rows (chosen:
  desirable, rejected: undesirable).

A prompt with earlier turns (`history`) is rendered as the chat it is.
"""

from __future__ import annotations

import hashlib
import json
import random

import orjson

from dataforge.errors import InputError
from dataforge.io import RejectSink, rejects_path_for
from dataforge.io.rejects import Reject
from dataforge.progress import progress_bar
from dataforge.records import (
    ConversationRecord,
    InstructionRecord,
    KTORecord,
    PreferenceRecord,
    prompt_messages,
    record_from_dict,
)
from dataforge.train.data import PreparedData, _split_key, _Tokenize, _with_eos, open_dataset, stop_token_ids
from dataforge.train.render import RenderError, render_preference, render_sft


def trl_prompt(prompt: str, tokenizer) -> str:
    """The prompt as TRL must be given it: TRL tokenizes text with the tokenizer's special tokens, so a
    template that already wrote the BOS text would get a second BOS; dataforge writes exactly one."""
    bos = tokenizer.bos_token
    if bos and prompt.startswith(bos) and tokenizer.bos_token_id is not None:
        if tokenizer("x")["input_ids"][:1] == [tokenizer.bos_token_id]:
            return prompt[len(bos):]
    return prompt


def as_answer_record(record, answer: str):
    """The prompt of `record` answered with `answer`, as an instruction or chat record (for rendering)."""
    if isinstance(record, ConversationRecord):
        msgs = [dict(m) for m in record.messages]
        last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=len(msgs))
        return ConversationRecord(messages=msgs[:last] + [{"role": "assistant", "content": answer}], id=record.id,
                                  lang=record.lang, meta=record.meta, tools=list(record.tools))
    if getattr(record, "history", None) or getattr(record, "tools", None):  # a multi-turn prompt stays a chat
        return ConversationRecord(messages=prompt_messages(record) + [{"role": "assistant", "content": answer}],
                                  id=record.id, lang=record.lang, meta=dict(record.meta), tools=list(record.tools))
    return InstructionRecord(instruction=record.instruction, output=answer, context=record.context, id=record.id,
                             lang=record.lang, meta=dict(record.meta))


def reference_of(record) -> str:
    if isinstance(record, PreferenceRecord):
        return record.chosen
    if isinstance(record, KTORecord):
        return record.completion if record.label else ""
    if isinstance(record, ConversationRecord):
        return next((m["content"] for m in reversed(record.messages) if m["role"] == "assistant"), "")
    return record.output


def prompt_record(record):
    """The record reduced to what the policy is asked (its answer, or chosen answer, kept as the reference)."""
    if isinstance(record, (InstructionRecord, ConversationRecord)):
        return record
    return as_answer_record(record, reference_of(record))


def _unpaired(record, options, tokenizer) -> list[tuple[str, str, bool]]:
    """(prompt, answer text, label) rows of one record."""
    if isinstance(record, PreferenceRecord):
        prompt, chosen, rejected = render_preference(record, options.template, tokenizer, options.lang)
        return [(prompt, chosen, True), (prompt, rejected, False)]
    prompt, completion = render_sft(as_answer_record(record, record.completion), options.template, tokenizer,
                                    options.lang)
    return [(prompt, completion, bool(record.label))]


# What each kind of rows can be made from (the reader's data kinds).
_SOURCES = {"prompts": ("instruction", "preference", "kto"), "kto": ("kto", "preference")}
_WANTED = {"prompts": "prompts (instruction, chat or preference rows)",
           "kto": "completions marked desirable or not (prompt, completion, label) or preference pairs"}


def _fingerprint(rows: list[dict], keys: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(orjson.dumps([row[k] for k in keys]))
    return h.hexdigest()[:32]


def prepare_rows(kind: str, data, tokenizer, options, *, output, model_dir=None, mapping=None, fmt=None,
                 strict=False, write_rejects=True, max_completion=0, backend: str = "") -> PreparedData:
    """Read and render `data` into `kind` rows ("prompts" or "kto"), split off the held-out share."""
    sink = RejectSink(rejects_path_for(output) if output is not None and write_rejects else None, strict=strict)
    tk = _Tokenize(tokenizer, options, stop_token_ids(tokenizer, model_dir))
    train, held, lengths, too_long, example = [], [], [], 0, {}
    with sink, progress_bar("prepare data", unit="rows") as bar:
        ds = open_dataset(data, mapping=mapping, fmt=fmt, rejects=sink, progress=bar)
        if ds.kind not in _SOURCES[kind]:
            raise InputError(f"backend '{backend}' trains on {_WANTED[kind]}, but the data is {ds.kind} data "
                             f"({ds.shape} shape)", "use other data, or a backend for this kind of data")
        for record in ds:
            file, line = getattr(ds, "where", ("", None))

            def reject(reason, _r=record, _f=file, _l=line):
                sink.add(Reject(reason, file=_f, line=_l, id=_r.id, row=_r.to_dict()))

            try:
                if kind == "prompts":
                    rec = prompt_record(record)
                    prompt, _ = render_sft(as_answer_record(rec, reference_of(rec) or "x"), options.template,
                                           tokenizer, options.lang)
                    text = trl_prompt(prompt, tokenizer)
                    longest = len(tokenizer(text)["input_ids"]) + max_completion
                    rows = [{"prompt": text, "reference": reference_of(rec),
                             "record": json.dumps(rec.to_dict(), ensure_ascii=False)}]
                    shown = {"prompt": prompt, "reference": rows[0]["reference"]}
                else:
                    rows, longest = [], 0
                    for prompt, answer, label in _unpaired(record, options, tokenizer):
                        ids, n = tk.ids(prompt, answer)
                        if len(ids) - n <= 0:
                            raise RenderError("an answer renders to no tokens")
                        longest = max(longest, len(ids))
                        rows.append({"prompt": trl_prompt(prompt, tokenizer),
                                     "completion": _with_eos(answer, ids, tokenizer), "label": label})
                    shown = {"prompt": rows[0]["prompt"], "completion": rows[0]["completion"],
                             "label": rows[0]["label"]}
            except RenderError as exc:
                reject(exc.message)
                continue
            if longest > options.max_length:
                too_long += 1
                what = "prompt + max_completion_length" if kind == "prompts" else "row"
                reject(f"{what} is {longest} tokens, over max_length {options.max_length} (not truncated)")
                continue
            example = example or shown
            if options.eval_split and _split_key(record.id, options.seed) < options.eval_split:
                held.extend(rows)
            else:
                train.extend(rows)
                lengths.extend([longest] * len(rows))
        if ds.stats.read == 0:
            raise InputError(f"{data}: no rows to train on (the input is empty)", "check the --data path")
    if options.eval_split and not held and len(train) > 1:
        held.append(train.pop())
        lengths.pop()
    if not train:
        raise InputError(f"no training rows left: {ds.stats.read} read, {sink.count} rejected "
                         f"({', '.join(f'{k}: {v}' for k, v in sink.by_reason.items())})",
                         "see the rejects file; raise max_length if rows were too long")
    if kind == "kto":
        # TRL's KTO reads rows in order (its KL term pairs each row with its batch neighbour): mix them once.
        random.Random(options.seed).shuffle(train)
    keys = ("prompt", "reference") if kind == "prompts" else ("prompt", "completion", "label")
    note = ("answers are sampled by the policy; the reference answer is kept for the exact reward"
            if kind == "prompts" else f"completions end with EOS {tokenizer.eos_token!r}")
    return PreparedData(kind=kind, shape=ds.shape, train=train, eval=held, read=ds.stats.read,
                        rejected=sink.count, too_long=too_long, reasons=dict(sink.by_reason),
                        rejects_path=str(sink.path) if sink.count and sink.path else None,
                        fingerprint=_fingerprint(train + held, keys), lengths=lengths, example=example,
                        eos_note=note)


def load_record(text: str):
    return record_from_dict(json.loads(text))
