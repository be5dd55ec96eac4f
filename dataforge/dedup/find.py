"""The decisions of `dedup` with its default settings, made in memory (for `dataforge report`).

`dedup` runs datatrove's MinHash stages from files so it can resume and
scale out. `report` needs the same answer for a dataset it already holds in
memory, so this module computes the same thing without files:

- the same key texts (`keys.row_keys`) and normalisation, so the same exact groups;
- the same signatures as `ShingleSignature` (dataforge's shingles, datatrove's
  permutations: seed 1, 64-bit hashes, modulo the Mersenne prime 2**61 - 1);
- the same bands (`bands.choose_bands(threshold)`), so the same candidate
  pairs: two keys are candidates when all hashes of one bucket are equal;
- the same clusters (connected candidates, like datatrove's union-find) and
  the same `resolve` step (keep the first row, check each candidate's exact
  similarity, answers included), and the same "same prompt" rule.

So on the same rows, `report` counts what `dedup` with defaults removes;
tests/test_dedup_report_agree.py holds the two to it on real files.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Sequence

import numpy as np

from dataforge.dedup.bands import Bands, choose_bands
from dataforge.dedup.keys import NGRAM, THRESHOLD, KeepRule
from dataforge.dedup.resolve import EXACT, KEPT, NEAR, Decisions, resolve, same_prompt, shingles_of
from dataforge.dedup.text import exact_hash, normalize, shingle_batch, xxh64
from dataforge.progress import progress_bar

MERSENNE = np.uint64((1 << 61) - 1)  # datatrove's _mersenne_prime
SEED = 1  # dedup's minhash_config seed
BLOCK = 2048  # at most this many keys per signature block
BLOCK_SHINGLES = 1 << 16  # and about this many shingles: bounds the memory of a block's shingle hashes
SIG_BLOCK = 4096  # shingles per (shingles x hashes) matrix in `minhash`: ~4 MB, stays in the CPU cache


@dataclass
class Found:
    """Per row: status (resolve's KEPT/EXACT/NEAR), the row kept instead, similarity, same-prompt anchor."""

    decisions: Decisions
    group: np.ndarray  # first row with the same normalised key; -1: not compared
    prompt_group: np.ndarray  # first row with the same normalised prompt; -1: none (empty when not given)
    same: np.ndarray  # earlier kept row with the same prompt (kept rows only); else -1
    skipped: int  # rows given no key (None): dedup would not read them
    empty_key: int  # rows whose key is empty after normalisation: kept, not compared
    bands: Bands

    @property
    def exact(self) -> int:
        return self.decisions.count(EXACT)

    @property
    def near(self) -> int:
        return self.decisions.count(NEAR)

    @property
    def other_question(self) -> int:
        """Kept rows alike to a kept row (same passage) but asking another question."""
        return self.decisions.other_question

    @property
    def same_prompt(self) -> int:
        return int(np.count_nonzero(self.same >= 0))


def groups_of(texts: Sequence[str | None]) -> tuple[np.ndarray, int, int]:
    """(first row with the same normalised text or -1, rows with None, rows with an empty text)."""
    group = np.full(len(texts), -1, dtype=np.int64)
    first: dict[int, int] = {}
    none = empty = 0
    for i, text in enumerate(texts):
        if text is None:
            none += 1
            continue
        norm = normalize(text)
        if not norm:
            empty += 1
            continue
        group[i] = first.setdefault(exact_hash(norm), i)
    return group, none, empty


def permutations(num_hashes: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """datatrove's MinhashDedupSignature.parameters for 64-bit hashes."""
    gen = np.random.RandomState(seed)
    a = gen.randint(1, MERSENNE, dtype=np.uint64, size=(1, num_hashes))
    b = gen.randint(0, MERSENNE, dtype=np.uint64, size=(1, num_hashes))
    return a, b


def signatures(texts: Sequence[str], ngram: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """MinHash signatures (len(texts), num_hashes) of texts with at least one shingle each."""
    flat, counts = shingle_batch(texts, ngram, xxh64)
    return minhash(flat, counts, a, b)


def minhash(flat: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray,
            block: int = SIG_BLOCK) -> np.ndarray:
    """Signatures (len(counts), num_hashes) of texts whose shingle hashes are `flat`, `counts[i]` each (>= 1).

    Equal to datatrove's `min((shingles * a + b) % p)`: uint64 arithmetic wraps the
    same way, and x % p for p = 2**61 - 1 is (x & p) + (x >> 61), less p in the
    (rare) case that reaches p, which is exact for any 64-bit x and faster than `%`.
    Texts go `block` shingles at a time, so the (shingles x hashes) matrix stays in the
    CPU cache (a 64k-shingle matrix, 66 MB, ran 3x slower, bound by memory bandwidth).
    """
    n = counts.size
    sig = np.empty((n, a.size), dtype=np.uint64)
    if n == 0:
        return sig
    av, bv = a.reshape(1, -1), b.reshape(1, -1)
    ends = np.cumsum(counts)
    starts = ends - counts
    i = 0
    while i < n:
        # texts i..j-1: at least one, at most `block` shingles unless one text alone has more
        j = max(i + 1, int(np.searchsorted(ends, starts[i] + block, side="right")))
        lo, hi = int(starts[i]), int(ends[j - 1])
        x = np.multiply(flat[lo:hi, None], av)
        x += bv
        high = x >> np.uint64(61)
        x &= MERSENNE
        x += high
        over = x >= MERSENNE
        if over.any():
            np.subtract(x, MERSENNE, out=x, where=over)
        sig[i:j] = np.minimum.reduceat(x, starts[i:j] - lo, axis=0)
        i = j
    return sig


def _band_keys(sig: np.ndarray, bands: Bands) -> np.ndarray:
    """One 64-bit key per (row, bucket): equal when all hashes of that bucket are equal."""
    r = bands.hashes_per_bucket
    view = sig[:, :bands.buckets * r].reshape(sig.shape[0], bands.buckets, r)
    key = np.zeros(view.shape[:2], dtype=np.uint64)
    for j in range(r):  # a false match needs a 64-bit collision
        key ^= view[:, :, j]
        key *= np.uint64(0x9E3779B97F4A7C15)
        key ^= key >> np.uint64(29)
    return key


def candidate_clusters(texts: Sequence[str], rows: np.ndarray, ngram: int, bands: Bands,
                       bar=None) -> list[np.ndarray]:
    """Clusters (row numbers, sorted, 2+ rows) of keys connected by a shared bucket."""
    a, b = permutations(bands.num_hashes)
    keys = np.empty((rows.size, bands.buckets), dtype=np.uint64)
    start = 0
    while start < rows.size:
        block, total = [], 0
        while start + len(block) < rows.size and len(block) < BLOCK and (not block or total < BLOCK_SHINGLES):
            text = texts[rows[start + len(block)]]
            block.append(text)
            total += len(text) // 4  # ~ words (shingles) of the text, cheap to count
        keys[start:start + len(block)] = _band_keys(signatures(block, ngram, a, b), bands)
        start += len(block)
        if bar is not None:
            bar.advance(len(block))
    parent = list(range(rows.size))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for bucket in range(bands.buckets):
        col = keys[:, bucket]
        order = np.argsort(col, kind="stable")
        same = np.flatnonzero(col[order][1:] == col[order][:-1])
        for i, j in zip(order[same].tolist(), order[same + 1].tolist()):
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    members: dict[int, list[int]] = {}
    for i in range(rows.size):
        members.setdefault(find(i), []).append(int(rows[i]))
    return [np.array(sorted(m), dtype=np.int64) for m in members.values() if len(m) > 1]


class _OnDemand:
    """`resolve`'s shingles, computed when a cluster asks for them (it fetches each row once)."""

    def __init__(self, keys: Sequence[str | None], ngram: int):
        self.keys, self.ngram = keys, ngram

    def get(self, row: int, default=None):
        return shingles_of(self.keys[row], self.ngram, xxh64)


def find_duplicates(keys: Sequence[str | None], prompts: Sequence[str | None] | None = None, *,
                    threshold: float = THRESHOLD, ngram: int = NGRAM) -> Found:
    """What `dedup --keep first` (exact and near) decides for rows with these key texts.

    `keys[i]` is row i's key text (`keys.row_keys`), None for a row dedup would
    reject as unreadable; `prompts[i]` its prompt, for the "same prompt" count.
    """
    bands = choose_bands(threshold)
    group, skipped, empty = groups_of(keys)
    n = len(keys)
    reps = np.flatnonzero(group == np.arange(n))
    clusters: list[np.ndarray] = []
    if reps.size >= 2:
        with progress_bar("duplicates: MinHash", total=int(reps.size), unit="keys") as bar:
            clusters = candidate_clusters(keys, reps, ngram, bands, bar)
    shingles = _OnDemand(keys, ngram)  # computed per cluster as it is checked, not held for every row
    prep = SimpleNamespace(rows=n, contaminated={}, group=group, lengths=np.zeros(n, dtype=np.int64),
                           scores=np.full(n, np.nan))
    dec = resolve(prep, clusters, keep=KeepRule("first"), threshold=threshold, exact=True, shingles=shingles)
    prompt_group = groups_of(prompts)[0] if prompts is not None else np.empty(0, dtype=np.int64)
    return Found(dec, group, prompt_group, same_prompt(prompt_group, dec.status), skipped, empty, bands)


__all__ = ["EXACT", "KEPT", "NEAR", "Found", "find_duplicates", "groups_of", "signatures", "permutations"]
