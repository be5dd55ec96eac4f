"""Evaluation-set decontamination by long n-gram overlap.

Method (the one GPT-3 and datatrove's n-gram decontamination use): a
training row is contaminated when any of its text fields shares a run of
`n` consecutive tokens (13 by default) with an evaluation row, after the
same normalisation as deduplication (case, NFKC, punctuation). Evaluation
texts shorter than `n` tokens but at least `min_tokens` (8) long must appear
whole inside a training field; shorter evaluation prompts (3 to 7 tokens)
count only when a training field is exactly that prompt (after
normalisation, symbols included: "2+2" is not "2*2"); one- and two-word
texts (answers such as "Paris" or "B") are ignored, since matching them
would flag every row that happens to contain the word.

The evaluation files may have any shape dataforge reads (instruction,
preference, chat), or any other columns: then every text column of the row
is used. Each match names the evaluation row (its id, file and line) and
the overlapping words.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from dataforge.dedup.text import exact_hash, normalize, tokens
from dataforge.errors import InputError

_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier of the rolling n-gram hash
TINY_MIN = 3


@dataclass(frozen=True)
class EvalMatch:
    eval_id: str
    where: str  # "eval.jsonl:12"
    overlap: str  # the shared words
    tokens: int

    def to_dict(self) -> dict:
        return {"eval_id": self.eval_id, "where": self.where, "overlap": self.overlap, "tokens": self.tokens}


def _token_hashes(toks: list[str]) -> np.ndarray:
    # Python's str hash: fast and cached; index and lookups happen in the same process.
    return np.fromiter(map(hash, toks), dtype=np.int64, count=len(toks)).view(np.uint64)


def _ngram_hashes(h: np.ndarray, max_len: int) -> Iterator[tuple[int, np.ndarray]]:
    """(L, hashes of every L-gram) for L = 1..max_len, each from the previous in one step."""
    g = h
    yield 1, g
    for length in range(2, max_len + 1):
        g = g[:-1] * _MUL + h[length - 1:]
        yield length, g


class _Table:
    """Sorted hashes -> evaluation row numbers, looked up a whole array at a time."""

    def __init__(self):
        self._hashes: list[np.ndarray] = []
        self._refs: list[np.ndarray] = []
        self.keys = self.refs = None

    def add(self, hashes: np.ndarray, ref: int) -> None:
        self._hashes.append(hashes)
        self._refs.append(np.full(hashes.size, ref, dtype=np.int32))

    def freeze(self) -> None:
        keys = np.concatenate(self._hashes) if self._hashes else np.empty(0, np.uint64)
        refs = np.concatenate(self._refs) if self._refs else np.empty(0, np.int32)
        order = np.argsort(keys, kind="stable")
        self.keys, self.refs = keys[order], refs[order]
        self._hashes = self._refs = None

    def first_hit(self, hashes: np.ndarray) -> tuple[int, int] | None:
        """(position in `hashes`, evaluation row) of the first hashed n-gram found, or None."""
        if self.keys.size == 0 or hashes.size == 0:
            return None
        pos = np.searchsorted(self.keys, hashes)
        pos[pos == self.keys.size] = 0
        hit = np.flatnonzero(self.keys[pos] == hashes)
        if hit.size == 0:
            return None
        i = int(hit[0])
        return i, int(self.refs[pos[i]])


class EvalIndex:
    """The n-grams of one or more evaluation files, ready to test training rows against."""

    def __init__(self, paths, *, n: int = 13, min_tokens: int = 8, mapping=None):
        if n < 2:
            raise InputError(f"the decontamination n-gram size must be at least 2 (got {n})")
        self.n, self.min_tokens = n, min(min_tokens, n)
        self.refs: list[tuple[str, str]] = []  # (eval id, "file:line")
        self._by_len: dict[int, _Table] = {}
        self._tiny: dict[int, int] = {}
        self.rows = self.texts = 0
        for path in ([paths] if isinstance(paths, (str, os.PathLike)) else paths):
            for eval_id, where, texts in _eval_rows(path, mapping):
                self._add(eval_id, where, texts)
        for table in self._by_len.values():
            table.freeze()
        self.lengths = sorted(self._by_len)
        if self.rows == 0:
            raise InputError(f"--against {', '.join(map(str, paths))}: the evaluation data has no rows",
                             "check the path; an evaluation file needs at least one row with text")

    def _add(self, eval_id: str, where: str, texts: list[tuple[str, bool]]) -> None:
        ref = len(self.refs)
        self.refs.append((eval_id, where))
        self.rows += 1
        for text, is_prompt in texts:
            norm = normalize(text)
            toks = tokens(norm)
            if len(toks) >= self.min_tokens:
                length = min(len(toks), self.n)
                grams = dict(_ngram_hashes(_token_hashes(toks), length))[length]
                self._by_len.setdefault(length, _Table()).add(grams, ref)
                self.texts += 1
            elif len(toks) >= TINY_MIN and is_prompt:
                self._tiny.setdefault(exact_hash(norm), ref)
                self.texts += 1

    def match(self, texts: list[str]) -> EvalMatch | None:
        """The first evaluation row any of `texts` overlaps, or None."""
        for text in texts:
            if not text:
                continue
            norm = normalize(text)
            toks = tokens(norm)
            if not toks:
                continue
            if self._tiny:
                ref = self._tiny.get(exact_hash(norm))
                if ref is not None:
                    return EvalMatch(*self.refs[ref], norm, len(toks))
            if len(toks) < self.min_tokens or not self.lengths:
                continue
            top = min(self.n, len(toks))
            for length, grams in _ngram_hashes(_token_hashes(toks), top):
                table = self._by_len.get(length)
                if table is not None:
                    hit = table.first_hit(grams)
                    if hit is not None:
                        return self._match(hit[1], toks, hit[0], length)
        return None

    def _match(self, ref: int, toks: list[str], start: int, length: int) -> EvalMatch:
        eval_id, where = self.refs[ref]
        return EvalMatch(eval_id, where, " ".join(toks[start:start + length]), length)


def _eval_rows(path, mapping) -> Iterator[tuple[str, str, list[tuple[str, bool]]]]:
    """(id, "file:line", [(text, is_prompt), ...]) for every row of an evaluation file of any shape."""
    from dataforge.io import RejectSink, read_dataset, resolve
    from dataforge.io.rawread import iter_raw
    from dataforge.io.shapes import apply_mapping, detect_shape
    files = resolve(path)
    for df in files:
        columns, rows = set(), 0
        for _, obj in iter_raw(df):
            if isinstance(obj, dict):
                columns.update(apply_mapping(dict(obj), dict(mapping or {})))
                rows += 1
                if rows >= 200:
                    break
        name = os.path.basename(str(df.path))
        if detect_shape(columns) is None:  # any other columns: every text value counts
            for line, obj in iter_raw(df):
                if isinstance(obj, dict):
                    texts = [(v, True) for v in _strings({k: v for k, v in obj.items() if k != "id"})]
                    rid = obj.get("id")
                    yield (str(rid) if rid not in (None, "") else f"{name}:{line}"), f"{name}:{line}", texts
            continue
        ds = read_dataset([df.path], mapping=mapping, rejects=RejectSink(), require_text=False)
        for record in ds:
            yield record.id, f"{name}:{ds.where[1]}", record_texts(record, reference=True)


def record_texts(record, *, reference: bool = False) -> list[tuple[str, bool]]:
    """The texts of a record of any kind, as (text, is_prompt), for decontamination on either side.

    `reference`: an evaluation row, whose answers are references: a preference pair's rejected
    answer is no reference, so it is left out there (a training row's rejected answer is checked).
    """
    from dataforge.records import ConversationRecord, PreferenceRecord, prompt_text

    if isinstance(record, ConversationRecord):
        return [(m["content"], m["role"] != "assistant") for m in record.messages]
    if not hasattr(record, "instruction"):  # plain text (TextRecord): every text field, no answer
        return [(getattr(record, f), True) for f in record.text_fields]
    texts = [(m["content"], m.get("role") != "assistant") for m in getattr(record, "history", ()) or ()]
    texts.append((prompt_text(record), True))
    if isinstance(record, PreferenceRecord):
        answers = [record.chosen] if reference else [record.chosen, record.rejected]
    elif hasattr(record, "completion"):  # KTO: one answer, judged good or bad
        answers = [record.completion]
    else:
        answers = [record.output]
    return texts + [(a, False) for a in answers]


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
