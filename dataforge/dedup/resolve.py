"""Which rows survive: keep rules over exact groups and near-duplicate clusters.

1. Exact groups (same normalised key): the best row by the keep rule stays,
   the others are "exact duplicate of" it.
2. Near clusters (datatrove's union-find over LSH candidate pairs) hold one
   representative per exact group. Groups are visited best-first; a group is
   removed when its key's shingles have Jaccard similarity >= threshold with
   a group already kept in that cluster, else it is kept too. So a cluster
   that LSH chained together (A~B, B~C, A and C apart) can keep several
   rows, and a candidate pair that only collided by chance is never removed.
   The similarity reported is that exact shingle Jaccard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from dataforge.dedup.keys import KeepRule, priority_order
from dataforge.dedup.text import jaccard, shingle_set
from dataforge.progress import progress_bar

KEPT, EXACT, NEAR, CONTAMINATED = 0, 1, 2, 3


@dataclass
class Decisions:
    status: np.ndarray  # KEPT / EXACT / NEAR / CONTAMINATED per row
    dup_of: np.ndarray  # row kept instead (-1 when none)
    similarity: np.ndarray  # shingle Jaccard with dup_of (1.0 for exact duplicates)

    def count(self, status: int) -> int:
        return int(np.count_nonzero(self.status == status))


def load_shingles(shard_dir: Path, shard_rows: list[np.ndarray], wanted: np.ndarray, ngram: int,
                  hash_func) -> dict[int, np.ndarray]:
    """Shingle sets of the `wanted` rows, read back from the key shards."""
    out: dict[int, np.ndarray] = {}
    if wanted.size == 0:
        return out
    for shard, rows in enumerate(shard_rows):
        need = np.flatnonzero(np.isin(rows, wanted))
        if need.size == 0:
            continue
        targets = iter(need.tolist())
        nxt = next(targets)
        with open(shard_dir / f"{shard:05d}.jsonl", "rb") as fh:
            for pos, line in enumerate(fh):
                if pos != nxt:
                    continue
                out[int(rows[pos])] = shingle_set(orjson.loads(line), ngram, hash_func)
                nxt = next(targets, None)
                if nxt is None:
                    break
    return out


def resolve(prep, clusters: list[np.ndarray], *, keep: KeepRule, threshold: float, exact: bool,
            shingles: dict[int, np.ndarray] | None = None) -> Decisions:
    """Decide every row. `clusters` hold group representatives (row numbers)."""
    n = prep.rows
    status = np.zeros(n, dtype=np.int8)
    dup_of = np.full(n, -1, dtype=np.int64)
    sim = np.zeros(n, dtype=np.float32)
    if prep.contaminated:
        status[np.fromiter(prep.contaminated, dtype=np.int64)] = CONTAMINATED
    group = prep.group
    compared = np.flatnonzero(group >= 0)
    if compared.size == 0:
        return Decisions(status, dup_of, sim)

    # rank[row]: 0 = the row the keep rule likes best
    order = priority_order(keep, prep.lengths, prep.scores)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    # best rank in each exact group, indexed by the group's first row
    best = np.full(n, n, dtype=np.int64)
    np.minimum.at(best, group[compared], rank[compared])
    keeper = np.full(n, -1, dtype=np.int64)  # group representative -> its kept row
    reps = np.unique(group[compared])
    keeper[reps] = order[best[reps]]

    rows_keeper = keeper[group[compared]]
    dups = compared[rows_keeper != compared]
    status[dups] = EXACT if exact else NEAR
    dup_of[dups] = keeper[group[dups]]
    sim[dups] = 1.0

    # near: groups removed as a whole, in favour of a kept group's keeper
    removed_to = np.full(n, -1, dtype=np.int64)
    removed_sim = np.zeros(n, dtype=np.float32)
    if clusters:
        shingles = shingles or {}
        with progress_bar("near: verify", total=len(clusters), unit="clusters") as bar:
            for cluster in clusters:
                _verify(cluster, best, keeper, shingles, threshold, removed_to, removed_sim)
                bar.advance(1)
        gone = compared[removed_to[group[compared]] >= 0]
        status[gone] = NEAR
        dup_of[gone] = removed_to[group[gone]]
        sim[gone] = removed_sim[group[gone]]
    return Decisions(status, dup_of, sim)


def _verify(cluster, best, keeper, shingles, threshold, removed_to, removed_sim) -> None:
    reps = sorted(cluster.tolist(), key=lambda r: best[r])
    kept: list[int] = []
    empty = np.empty(0, dtype=np.uint64)
    for rep in reps:
        mine = shingles.get(rep, empty)
        top, top_sim = -1, -1.0
        for other in kept:
            s = jaccard(mine, shingles.get(other, empty))
            if s > top_sim:
                top, top_sim = other, s
        if top >= 0 and top_sim >= threshold - 1e-9:
            removed_to[rep] = keeper[top]
            removed_sim[rep] = top_sim
        else:
            kept.append(rep)


def clusters_rows(prep, dec: Decisions):
    """One dict per kept row that has duplicates: the kept id and every removed id with its similarity."""
    removed = np.flatnonzero((dec.status == EXACT) | (dec.status == NEAR))
    if removed.size == 0:
        return
    order = np.lexsort((removed, dec.dup_of[removed]))
    removed = removed[order]
    targets = dec.dup_of[removed]
    bounds = np.flatnonzero(np.diff(targets)) + 1
    for number, chunk in enumerate(np.split(removed, bounds)):
        kept = int(dec.dup_of[chunk[0]])
        file, line = prep.where(kept)
        yield {
            "cluster": number, "size": int(chunk.size) + 1, "kept": prep.ids[kept],
            "kept_where": f"{file}:{line}" if line else file,
            "removed": [{"id": prep.ids[r], "match": "exact" if dec.status[r] == EXACT else "near",
                         "similarity": round(float(dec.similarity[r]), 4)} for r in chunk.tolist()],
        }
