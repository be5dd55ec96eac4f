"""A small MinHash + LSH for estimating near-duplicates, vectorised with numpy.

Not used by the report any more: its duplicates section runs dedup's own
decisions (`dataforge.dedup.find`), so report and dedup agree. This module
stays only while tests/quality/test_units.py imports it; delete both together.

It uses one-permutation hashing (Li, Owen & Zhang 2012): each n-gram hash is
split into a bin (low bits) and a value (high bits), and a row's signature is
the minimum value per bin. That is one pass over the n-grams instead of one
pass per hash function; empty bins are filled by rotation (Shrivastava & Li
2014) so short texts get comparable signatures. The share of equal bins of
two signatures estimates the Jaccard similarity of their n-gram sets.

Candidates come from LSH banding (bands of `rows_per_band` bins; rows equal on
a whole band are compared), and a candidate pair counts when its estimated
similarity reaches the threshold. Clusters are the connected pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 32
ROWS_PER_BAND = 4  # 8 bands of 4: pairs at similarity 0.7 become candidates with probability ~0.9, at 0.8 ~0.98
THRESHOLD = 0.7
_EMPTY = np.uint32(0xFFFFFFFF)
_ROTATE_INT = 0x9E3779B1  # offset per step of rotation, so borrowed values stay distinct


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: decorrelates the bin (low bits) from the value (high bits)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


class MinHasher:
    """Accumulates signatures for `rows` rows from (row, n-gram hash) pairs in any order."""

    def __init__(self, rows: int, bins: int = BINS):
        if bins & (bins - 1):
            raise ValueError("bins must be a power of two")
        self.bins = bins
        self.sig = np.full((rows, bins), _EMPTY, np.uint32)

    def add(self, rows: np.ndarray, hashes: np.ndarray) -> None:
        if len(hashes) == 0:
            return
        h = _mix(hashes)
        slot = rows.astype(np.int64) * self.bins + (h & np.uint64(self.bins - 1)).astype(np.int64)
        np.minimum.at(self.sig.reshape(-1), slot, (h >> np.uint64(32)).astype(np.uint32))

    def signatures(self) -> tuple[np.ndarray, np.ndarray]:
        """(densified signatures, mask of rows that had at least one n-gram)."""
        sig = self.sig
        empty = sig == _EMPTY
        has = ~empty.all(axis=1)
        todo = np.flatnonzero(empty.any(axis=1) & has)
        if len(todo):
            orig = sig[todo]
            filled = orig.copy()
            still = orig == _EMPTY
            for step in range(1, self.bins):
                if not still.any():
                    break
                borrowed = np.roll(orig, -step, axis=1)
                use = still & (borrowed != _EMPTY)
                filled[use] = borrowed[use] + np.uint32((_ROTATE_INT * step) & 0xFFFFFFFF)
                still &= ~use
            sig[todo] = filled
        return sig, has


@dataclass
class NearDuplicates:
    pairs: np.ndarray  # (m, 2) row indices, first < second
    similarity: np.ndarray  # estimated Jaccard of each pair
    clusters: list[np.ndarray]  # row indices of each group of 2+ connected rows

    @property
    def rows_in_clusters(self) -> int:
        return int(sum(len(c) for c in self.clusters))

    @property
    def removable(self) -> int:
        """Rows a near-duplicate filter would drop (all but one per cluster)."""
        return int(sum(len(c) - 1 for c in self.clusters))


def near_duplicates(sig: np.ndarray, consider: np.ndarray, threshold: float = THRESHOLD,
                    rows_per_band: int = ROWS_PER_BAND) -> NearDuplicates:
    """Pairs of considered rows whose estimated similarity reaches `threshold`."""
    idx = np.flatnonzero(consider)
    if len(idx) < 2:
        return NearDuplicates(np.empty((0, 2), np.int64), np.empty(0), [])
    sub = sig[idx].astype(np.uint64)
    found = []
    weights = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
                       dtype=np.uint64)
    for start in range(0, sig.shape[1] - rows_per_band + 1, rows_per_band):
        band = sub[:, start:start + rows_per_band]
        key = (band * weights[:rows_per_band]).sum(axis=1, dtype=np.uint64)
        order = np.argsort(key, kind="stable")
        same = key[order][1:] == key[order][:-1]
        # chain each row to the previous one of its bucket: m-1 candidate pairs per bucket of m
        found.append(np.stack([order[:-1][same], order[1:][same]], axis=1))
    cand = np.concatenate(found) if found else np.empty((0, 2), np.int64)
    if len(cand) == 0:
        return NearDuplicates(np.empty((0, 2), np.int64), np.empty(0), [])
    cand = np.unique(np.sort(cand, axis=1), axis=0)
    sim = (sub[cand[:, 0]] == sub[cand[:, 1]]).mean(axis=1)
    keep = sim >= threshold
    pairs, sim = idx[cand[keep]], sim[keep]
    return NearDuplicates(pairs, sim, _clusters(pairs))


def _clusters(pairs: np.ndarray) -> list[np.ndarray]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return sorted((np.array(sorted(g)) for g in groups.values()), key=lambda g: (-len(g), g[0]))
