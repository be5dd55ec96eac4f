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

import os
import tempfile
from array import array
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
    # Union-find over the candidate pairs only; a numpy array rather than a list of Python ints
    # (36 bytes a row at a million rows).
    parent = np.arange(rows.size, dtype=np.int64)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    for bucket in range(bands.buckets):
        col = keys[:, bucket]
        order = np.argsort(col, kind="stable")
        same = np.flatnonzero(col[order][1:] == col[order][:-1])
        for i, j in zip(order[same].tolist(), order[same + 1].tolist()):
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    # Roots by pointer jumping, then clusters ordered by their first row (no Python object per row).
    del keys, col  # the band keys (rows x buckets x 8 bytes) are done with
    root = parent
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    order = np.argsort(root, kind="stable")
    bounds = np.flatnonzero(np.diff(root[order])) + 1
    return [rows[g] for g in np.split(order, bounds) if g.size > 1]


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
    finder = DuplicateFinder(threshold=threshold, ngram=ngram, texts=keys)
    finder.add(keys, prompts)
    return finder.finish()


def _first_of_equal(hashes: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Per row: the first row with the same hash (state 0), else -1: `groups_of` from hashes."""
    group = np.full(hashes.size, -1, dtype=np.int64)
    idx = np.flatnonzero(state == 0)
    if idx.size:
        _, first, inverse = np.unique(hashes[idx], return_index=True, return_inverse=True)
        group[idx] = idx[first[inverse.ravel()]]
    return group


class DuplicateFinder:
    """`find_duplicates`, fed block by block (the report reads a file once, in blocks).

    Of each row it keeps two 64-bit hashes (normalised key and prompt) and a
    state byte; the key texts go to an unnamed temporary file (`KeyTexts`), read
    back for the MinHash signatures of the group representatives and for the
    exact similarity check of the rows in candidate clusters. So memory grows by
    ~17 bytes a row, not by the texts; the decisions are those of one call with
    every row (tests/quality/test_batches.py).
    """

    def __init__(self, *, threshold: float = THRESHOLD, ngram: int = NGRAM, texts: Sequence[str | None] | None = None):
        self.threshold, self.ngram = threshold, ngram
        self._given = texts  # the caller holds every key text already: no temporary file
        self.texts = texts if texts is not None else KeyTexts()
        self._key_hash, self._prompt_hash = array("Q"), array("Q")
        self._key_state, self._prompt_state = array("b"), array("b")  # 0: text, 1: None, 2: empty
        self._prompts = False

    def add(self, keys: Sequence[str | None], prompts: Sequence[str | None] | None = None) -> None:
        _hash_into(keys, self._key_hash, self._key_state)
        if prompts is not None:
            self._prompts = True
            _hash_into(prompts, self._prompt_hash, self._prompt_state)
        if self._given is None:
            self.texts.extend(keys)

    def finish(self) -> Found:
        bands = choose_bands(self.threshold)
        key_state = np.frombuffer(self._key_state, dtype=np.int8) if len(self._key_state) else np.empty(0, np.int8)
        group = _first_of_equal(_u64(self._key_hash), key_state)
        skipped, empty = int(np.count_nonzero(key_state == 1)), int(np.count_nonzero(key_state == 2))
        n = group.size
        texts = self.texts
        if isinstance(texts, KeyTexts):
            texts.seal()
        reps = np.flatnonzero(group == np.arange(n))
        clusters: list[np.ndarray] = []
        if reps.size >= 2:
            with progress_bar("duplicates: MinHash", total=int(reps.size), unit="keys") as bar:
                clusters = candidate_clusters(texts, reps, self.ngram, bands, bar)
        shingles = _OnDemand(texts, self.ngram)  # computed per cluster as it is checked, not held for every row
        prep = SimpleNamespace(rows=n, contaminated={}, group=group, lengths=np.zeros(n, dtype=np.int64),
                               scores=np.full(n, np.nan))
        dec = resolve(prep, clusters, keep=KeepRule("first"), threshold=self.threshold, exact=True,
                      shingles=shingles)
        if self._prompts:
            prompt_state = np.frombuffer(self._prompt_state, dtype=np.int8)
            prompt_group = _first_of_equal(_u64(self._prompt_hash), prompt_state)
        else:
            prompt_group = np.empty(0, dtype=np.int64)
        if isinstance(texts, KeyTexts):
            texts.close()
        return Found(dec, group, prompt_group, same_prompt(prompt_group, dec.status), skipped, empty, bands)


    def close(self) -> None:
        """Drop the temporary file of key texts (finish does it too)."""
        if isinstance(self.texts, KeyTexts):
            self.texts.close()


def _u64(values: array) -> np.ndarray:
    return np.frombuffer(values, dtype=np.uint64) if len(values) else np.empty(0, np.uint64)


def _hash_into(texts: Sequence[str | None], hashes: array, state: array) -> None:
    """groups_of's per-row work: the exact hash of the normalised text, or why there is none."""
    for text in texts:
        if text is None:
            hashes.append(0)
            state.append(1)
            continue
        norm = normalize(text)
        if not norm:
            hashes.append(0)
            state.append(2)
            continue
        hashes.append(exact_hash(norm))
        state.append(0)


class KeyTexts:
    """Texts appended to an unnamed temporary file (gone when closed or when the process dies).

    Reading row by row in increasing order (the signatures) costs one read per
    `WINDOW` rows; a lone row (a cluster member) one read of its own bytes.
    """

    WINDOW = 4096

    def __init__(self):
        self._fh = tempfile.TemporaryFile()
        self._offsets = array("q", [0])
        self._win_start = self._win_end = 0
        self._win: list[str] = []
        self._last = -2

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def extend(self, texts: Sequence[str | None]) -> None:
        blob = [(t or "").encode("utf-8", "surrogatepass") for t in texts]
        end = self._offsets[-1]
        for b in blob:
            end += len(b)
            self._offsets.append(end)
        self._fh.write(b"".join(blob))

    def seal(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()
        self._win = []

    def _read(self, start: int, end: int) -> bytes:
        return os.pread(self._fh.fileno(), self._offsets[end] - self._offsets[start], self._offsets[start])

    def __getitem__(self, row: int) -> str:
        row = int(row)
        if self._win_start <= row < self._win_end:
            return self._win[row - self._win_start]
        last, self._last = self._last, row
        if last < row <= last + 64:  # reading on in order (the signatures): fetch a window at once
            end = min(row + self.WINDOW, len(self))
            data, base = self._read(row, end), self._offsets[row]
            self._win = [data[self._offsets[i] - base:self._offsets[i + 1] - base].decode("utf-8", "surrogatepass")
                         for i in range(row, end)]
            self._win_start, self._win_end = row, end
            return self._win[0]
        return self._read(row, row + 1).decode("utf-8", "surrogatepass")


__all__ = ["EXACT", "KEPT", "NEAR", "DuplicateFinder", "Found", "find_duplicates", "groups_of", "signatures", "permutations"]
