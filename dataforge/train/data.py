"""Training data: read records, render them, tokenize, mask prompts, reject what does not fit.

Every row read ends up in exactly one place: the training rows, the held-out
evaluation rows, or the rejects file (`OUT.rejects.jsonl`) with its reason
(unreadable, empty answer, template refused it, or longer than max_length).
Rows are never truncated: a truncated answer teaches the model to stop
mid-sentence, so an over-long row is rejected and counted instead.

Instruction rows become {"input_ids", "labels"} with prompt tokens labelled
-100 under completion-only loss; in a multi-turn chat every assistant turn is
trained by default (`train_on`), the other turns are masked. Preference rows keep their rendered text
(TRL's DPO tokenizes it) and their token ids (the reward trainer uses them).
"""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from dataforge.errors import InputError
from dataforge.io import RejectSink, read_dataset, rejects_path_for
from dataforge.io.rejects import Reject
from dataforge.progress import progress_bar
from dataforge.records import PreferenceRecord
from dataforge.train.options import TrainOptions
from dataforge.train.render import RenderError, render_preference, render_sft_segments

IGNORE = -100


@dataclass
class PreparedData:
    kind: str
    shape: str
    train: list[dict]
    eval: list[dict]
    read: int = 0
    rejected: int = 0
    too_long: int = 0
    reasons: dict = field(default_factory=dict)
    rejects_path: str | None = None
    fingerprint: str = ""
    lengths: list[int] = field(default_factory=list)  # tokens per training row (longest side for pairs)
    example: dict = field(default_factory=dict)  # the first row rendered, for the dry-run
    eos_note: str = ""

    @property
    def tokens(self) -> int:
        return sum(self.lengths)

    def length_stats(self) -> dict:
        if not self.lengths:
            return {"max": 0, "mean": 0.0, "p95": 0}
        ordered = sorted(self.lengths)
        return {"max": ordered[-1], "mean": statistics.fmean(ordered),
                "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]}

    def counts(self) -> dict:
        return {"read": self.read, "train": len(self.train), "eval": len(self.eval), "rejected": self.rejected,
                "too_long": self.too_long, "reasons": dict(self.reasons)}


def stop_token_ids(tokenizer, model_dir: Path | None = None) -> set[int]:
    """Token ids that end generation: the tokenizer's EOS plus generation_config.json's eos ids."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    gen = Path(model_dir or "") / "generation_config.json"
    if model_dir and gen.is_file():
        eos = orjson.loads(gen.read_bytes()).get("eos_token_id")
        ids.update(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    return ids


class _Tokenize:
    """Prompt/completion text -> ids, with the prompt's length and EOS handling decided once."""

    def __init__(self, tokenizer, options: TrainOptions, stop_ids: set[int]):
        self.tok, self.opts, self.stop_ids = tokenizer, options, stop_ids
        self.bos = tokenizer.bos_token or None
        self._ws_cache: dict[int, bool] = {}

    def _is_blank(self, tid: int) -> bool:
        if tid not in self._ws_cache:
            self._ws_cache[tid] = self.tok.decode([tid]).strip() == ""
        return self._ws_cache[tid]

    def _ends_with_stop(self, ids: list[int]) -> bool:
        for tid in reversed(ids):
            if tid in self.stop_ids:
                return True
            if not self._is_blank(tid):
                return False
        return False

    def ids(self, prompt: str, completion: str) -> tuple[list[int], int]:
        """(ids of prompt+completion[+EOS], number of prompt tokens)."""
        full, trained = self.segments([(prompt, False), (completion, True)])
        return full, trained.index(True) if True in trained else len(full)

    def segments(self, pieces: list[tuple[str, bool]]) -> tuple[list[int], list[bool]]:
        """Ids of the pieces' text (tokenized once, as a whole) [+EOS], and per token whether it is trained.

        A piece starts where the tokenized text up to it stops being a prefix of the whole; a token that merges
        across a boundary belongs to the later piece. EOS follows a trained last piece that does not already
        end with a stop token.
        """
        text = "".join(t for t, _ in pieces)
        special = not (self.bos and text.startswith(self.bos))  # the template already wrote BOS
        full = self.tok(text, add_special_tokens=special)["input_ids"]
        bounds, upto = [], ""
        for piece, _ in pieces[:-1]:
            upto += piece
            prefix = self.tok(upto, add_special_tokens=special)["input_ids"]
            n = 0
            for a, b in zip(prefix, full):
                if a != b:
                    break
                n += 1
            bounds.append(max(n, bounds[-1] if bounds else 0))
        last = bounds[-1] if bounds else 0
        if (pieces[-1][1] and self.opts.add_eos and self.tok.eos_token_id is not None
                and not self._ends_with_stop(full[last:])):
            full = full + [self.tok.eos_token_id]
        trained, start = [], 0
        for (_, flag), end in zip(pieces, [*bounds, len(full)]):
            trained += [flag] * (end - start)
            start = end
        return full, trained


def _split_key(record_id: str, seed: int) -> float:
    h = hashlib.blake2b(f"{seed}:{record_id}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64


def _fingerprint(rows: list[dict], keys: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(orjson.dumps([row[k] for k in keys]))
    return h.hexdigest()[:32]


def open_dataset(data, *, mapping=None, fmt=None, rejects: RejectSink | None = None, progress=None):
    paths = list(data) if isinstance(data, (list, tuple)) else [data]
    for p in paths:
        if "*" not in str(p) and not Path(p).exists():
            raise InputError(f"{p}: no such data file or folder", "check the --data path")
    return read_dataset(paths, mapping=mapping, fmt=fmt, rejects=rejects, progress=progress)


def prepare_data(data, tokenizer, options: TrainOptions, *, output: str | Path | None, model_dir: Path | None = None,
                 mapping=None, fmt=None, strict: bool = False, write_rejects: bool = True,
                 expect_kind: str | None = None, backend: str = "") -> PreparedData:
    """Read, render, tokenize and split `data` for training with `options` (see the module doc)."""
    sink = RejectSink(rejects_path_for(output) if output is not None and write_rejects else None, strict=strict)
    stop_ids = stop_token_ids(tokenizer, model_dir)
    tk = _Tokenize(tokenizer, options, stop_ids)
    train, held, lengths, train_keys = [], [], [], []
    too_long = 0
    example: dict = {}
    with sink, progress_bar("prepare data", unit="rows") as bar:
        ds = open_dataset(data, mapping=mapping, fmt=fmt, rejects=sink, progress=bar)
        kind = expect_kind or ds.kind
        if expect_kind and ds.kind != expect_kind:
            need = "preference (prompt, chosen, rejected)" if expect_kind == "preference" else "instruction"
            other = "dpo or reward" if ds.kind == "preference" else "full, freeze, lora or qlora"
            raise InputError(f"backend '{backend}' trains on {need} data, but the data is {ds.kind} data "
                             f"({ds.shape} shape)", f"use a {other} backend for this data, or other data")
        for record in ds:
            file, line = getattr(ds, "where", ("", None))

            def reject(reason, field=None, _r=record, _f=file, _l=line):
                sink.add(Reject(reason, file=_f, line=_l, field=field, id=_r.id, row=_r.to_dict()))

            try:
                if isinstance(record, PreferenceRecord):
                    prompt, chosen, rejected = render_preference(record, options.template, tokenizer, options.lang)
                    c_ids, n = tk.ids(prompt, chosen)
                    r_ids, m = tk.ids(prompt, rejected)
                    longest = max(len(c_ids), len(r_ids))
                    if min(len(c_ids) - n, len(r_ids) - m) <= 0:
                        reject("an answer renders to no tokens", "chosen")
                        continue
                    row = {"prompt": prompt, "chosen": _with_eos(chosen, c_ids, tokenizer),
                           "rejected": _with_eos(rejected, r_ids, tokenizer),
                           "chosen_ids": c_ids, "rejected_ids": r_ids, "prompt_len": min(n, m)}
                    shown = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
                else:
                    pieces = render_sft_segments(record, options.template, tokenizer, options.lang, options.train_on)
                    ids, trained = tk.segments(pieces)
                    longest = len(ids)
                    if not any(trained):
                        reject("the answer renders to no tokens", "output")
                        continue
                    labels = ([t if on else IGNORE for t, on in zip(ids, trained)] if options.completion_only_loss
                              else list(ids))
                    row = {"input_ids": ids, "labels": labels}
                    shown = {"prompt": pieces[0][0], "completion": "".join(t for t, _ in pieces[1:]),
                             "prompt_tokens": trained.index(True), "tokens": len(ids)}
                    if len(pieces) > 2:
                        shown["trained_turns"] = sum(1 for _, on in pieces if on)
            except RenderError as exc:
                reject(exc.message)
                continue
            if longest > options.max_length:
                too_long += 1
                reject(f"row is {longest} tokens, over max_length {options.max_length} (not truncated)")
                continue
            if not example:
                example = shown
            key = _split_key(record.id, options.seed) if options.eval_split else 1.0
            if key < options.eval_split:
                held.append(row)
            else:
                train.append(row)
                lengths.append(longest)
                train_keys.append(key)
        if ds.stats.read == 0:
            raise InputError(f"{data}: no rows to train on (the input is empty)", "check the --data path")
    if options.eval_split and not held and len(train) > 1:
        # no id fell under the split: hold out the row with the smallest key (not the last one read,
        # so the split does not depend on the order of the input)
        at = min(range(len(train)), key=train_keys.__getitem__)
        held.append(train.pop(at))
        lengths.pop(at)
    if not train:
        raise InputError(f"no training rows left: {ds.stats.read} read, {sink.count} rejected "
                         f"({', '.join(f'{k}: {v}' for k, v in sink.by_reason.items())})",
                         "see the rejects file; raise max_length if rows were too long")
    keys = ("input_ids", "labels") if kind == "instruction" else ("chosen_ids", "rejected_ids", "prompt_len")
    eos = tokenizer.eos_token
    note = (f"answers end with EOS {eos!r} (added where the template does not end with a stop token)"
            if options.add_eos else "EOS not added (add_eos=false): the model may not learn to stop")
    return PreparedData(kind=kind, shape=ds.shape, train=train, eval=held, read=ds.stats.read,
                        rejected=sink.count, too_long=too_long, reasons=dict(sink.by_reason),
                        rejects_path=str(sink.path) if sink.count and sink.path else None,
                        fingerprint=_fingerprint(train + held, keys), lengths=lengths, example=example,
                        eos_note=note)


def _with_eos(text: str, ids: list[int], tokenizer) -> str:
    """The answer text as TRL should see it: with the EOS string when an EOS id was appended."""
    if ids and ids[-1] == tokenizer.eos_token_id and tokenizer.eos_token and not text.endswith(tokenizer.eos_token):
        return text + tokenizer.eos_token
    return text
