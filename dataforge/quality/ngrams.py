"""Words and word n-grams of a text column, as numbers, in chunks.

One pass per field gives what two sections need: the word count of every
row (lengths), and the hashed word 3-grams of every row (the repetition
ratio). Duplicates are not counted here: the report uses dedup's own
definition (`dataforge.dedup.keys`, `dataforge.dedup.find`). A word is what lies between spaces and
punctuation, lowercased, so casing, punctuation and spacing never matter.
Scripts without spaces (Chinese, Japanese, Thai) make few, long "words", so
their word counts and n-grams are coarse; characters and tokens stay exact.

Hashing stays vectorised: polars hashes every word, numpy combines each
word with the next n-1 words of the same row, so no Python loop runs per word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import polars as pl

NGRAM = 3
CHUNK_ROWS = 5_000  # rows per chunk: its word lists and n-gram arrays are the report's largest transient (~10 KB a row)
# Odd 64-bit multipliers (from splitmix64) weight each position so "a b c" != "c b a".
_WEIGHTS = (np.uint64(1), np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9),
            np.uint64(0x94D049BB133111EB), np.uint64(0xD6E8FEB86659FD93))


# Whitespace and punctuation (ASCII and the common Unicode marks) all become spaces. A literal
# multi-replace is twice as fast as a `[^\w]+` regex, which matters at millions of rows.
SEPARATORS = list("\n\t\r\f\v\u00a0!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»“”„‘’‹›–—…·¿¡、。，；：！？（）「」『』【】")


def normalized(expr: pl.Expr) -> pl.Expr:
    """Lowercase, every separator a space (runs of spaces stay: splitting gives empty words)."""
    return expr.str.to_lowercase().str.replace_many(SEPARATORS, [" "] * len(SEPARATORS))


@dataclass
class Chunk:
    """Rows [start, start + len(words)) of one field."""

    start: int
    words: np.ndarray  # uint32 word count per row
    rows: np.ndarray  # int64 global row index of each n-gram
    hashes: np.ndarray  # uint64 hash of each n-gram
    full: np.ndarray  # bool: the n-gram has all n words (short rows give one partial n-gram)


def chunks(frame: pl.DataFrame, fields, n: int = NGRAM, chunk_rows: int | None = None,
           seed: int = 0) -> Iterator[dict[str, Chunk]]:
    """Hashed word n-grams of each text field, `chunk_rows` rows at a time (memory stays flat)."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    for start in range(0, frame.height, chunk_rows):
        part = frame.slice(start, chunk_rows)
        # all fields in one select, so polars normalises them in parallel
        lists = part.select([normalized(pl.col(f).fill_null("")).str.split(" ").alias(f) for f in fields])
        yield {f: _chunk(lists[f], start, n, seed) for f in fields}


def _chunk(lists: pl.Series, start: int, n: int, seed: int) -> Chunk:
    raw_lens = lists.list.len().to_numpy().astype(np.int64)  # >= 1: "" splits into [""]
    flat = lists.explode()
    keep = (flat.str.len_bytes() > 0).to_numpy()
    hashes = flat.hash(seed=seed).to_numpy()[keep]
    lens = np.add.reduceat(keep.astype(np.int64), np.cumsum(raw_lens) - raw_lens) if len(raw_lens) else raw_lens
    rows, grams, full = ngram_hashes(hashes, lens, n)
    return Chunk(start=start, words=lens.astype(np.uint32), rows=rows + start, hashes=grams, full=full)


def ngram_hashes(flat: np.ndarray, lens: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Combine per-word hashes into per-n-gram hashes within each row.

    A row of L >= n words gives L - n + 1 n-grams; a row of 1..n-1 words gives
    one (partial) n-gram of all its words, so short texts still have a shingle.
    """
    lens = lens.astype(np.int64)
    total = int(lens.sum())
    if total == 0:
        return (np.empty(0, np.int64), np.empty(0, np.uint64), np.empty(0, bool))
    starts = np.cumsum(lens) - lens
    combined = flat.copy()
    scratch = np.empty_like(flat)
    for j in range(1, n):  # n-grams that cross a row end are computed, then never kept
        np.multiply(flat[j:], _WEIGHTS[j], out=scratch[:-j])
        np.add(combined[:-j], scratch[:-j], out=combined[:-j])
    # Full n-grams start at [start, start + L - n] of each row with L >= n.
    counts = np.maximum(lens - n + 1, 0)
    offsets = np.cumsum(counts) - counts
    rows_full = np.repeat(np.arange(len(lens), dtype=np.int64), counts)
    positions = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(starts - offsets, counts)
    short = np.flatnonzero((lens > 0) & (lens < n))
    partial = flat[starts[short]].copy()
    for j in range(1, n - 1):
        more = lens[short] > j
        partial[more] += flat[starts[short][more] + j] * _WEIGHTS[j]
    rows = np.concatenate([rows_full, short])
    hashes = np.concatenate([combined[positions], partial])
    full = np.concatenate([np.ones(len(positions), bool), np.zeros(len(short), bool)])
    return rows, hashes, full
