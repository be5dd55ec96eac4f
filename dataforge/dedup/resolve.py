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
   When the key is the whole example, the answers must be alike too: the
   Jaccard similarity of their word (or character) sets reaches the same
   threshold. A long passage answered "yes" and the same passage answered
   "no" share nearly every shingle of the row, but not their answer.
   And the prompts must be the same question: when each prompt has at least
   `QUESTION_WORDS` words (counted with repeats) that the other lacks, the two
   are different questions about a shared passage ("What state is Grand Forks
   in?" / "What state are LM Glasfiber and Cirrus Design located in?" over one
   article), however long the shared text: both are kept, the later one
   counted as "same passage, different question" (`Decisions.other_question`).
3. Same prompt: a kept row whose prompt equals (after normalisation) the
   prompt of an earlier kept row is "same prompt as" that row. It stays;
   `--key prompt` is what removes such rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from dataforge.dedup.keys import KeepRule, answer_side, priority_order, prompt_side
from dataforge.dedup.text import jaccard, normalize, shingle_set, tokens
from dataforge.progress import progress_bar

KEPT, EXACT, NEAR, CONTAMINATED = 0, 1, 2, 3
# Prompts that differ by this many words or more on each side are different questions. A copy with
# one or two words swapped differs by 1-2 a side, one with words added or dropped by 0 on one side; on
# T0's quoref rows most questions about one article answered alike differ by 3 to 15+ words on each
# side. Lexical, so it has limits both ways: "earned the nickname slashcop" / "earned the enmity of the
# police" (2 and 4) still count as one question, "Tell me about yourself" / "Can you introduce
# yourself?" (3 and 3) as two.
QUESTION_WORDS = 3


@dataclass
class Decisions:
    status: np.ndarray  # KEPT / EXACT / NEAR / CONTAMINATED per row
    dup_of: np.ndarray  # row kept instead (-1 when none)
    similarity: np.ndarray  # shingle Jaccard with dup_of (1.0 for exact duplicates)
    other_question: int = 0  # kept rows similar enough to a kept row but asking another question

    def count(self, status: int) -> int:
        return int(np.count_nonzero(self.status == status))


@dataclass
class Shingles:
    """What the similarity check needs of one key text."""

    key: np.ndarray  # sorted unique n-gram hashes of the whole key
    answer: np.ndarray | None  # sorted unique token hashes of its answer parts; None: the key has none
    question: np.ndarray | None = None  # sorted token hashes (repeats kept) of its prompt parts; None: no answers


def shingles_of(text: str, ngram: int, hash_func) -> Shingles:
    answer = answer_side(text)
    if answer is None:
        return Shingles(shingle_set(text, ngram, hash_func), None)
    words = tokens(normalize(prompt_side(text)))
    question = np.sort(np.fromiter(map(hash_func, words), dtype=np.uint64, count=len(words)))
    return Shingles(shingle_set(text, ngram, hash_func), shingle_set(answer, 1, hash_func), question)


def words_apart(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """(words of a that b lacks, words of b that a lacks), as multisets, from sorted token hashes."""
    ua, ca = np.unique(a, return_counts=True)
    ub, cb = np.unique(b, return_counts=True)
    _, ia, ib = np.intersect1d(ua, ub, assume_unique=True, return_indices=True)
    common = int(np.minimum(ca[ia], cb[ib]).sum())
    return a.size - common, b.size - common


def same_question(a: Shingles, b: Shingles) -> bool:
    """False when each prompt has `QUESTION_WORDS`+ words the other lacks (another question)."""
    if a.question is None or b.question is None:
        return True
    return min(words_apart(a.question, b.question)) < QUESTION_WORDS


def similar_answers(a: Shingles, b: Shingles, threshold: float) -> bool:
    """True when neither key has answers, or their answers' token sets reach `threshold`."""
    if a.answer is None or b.answer is None:
        return True
    if a.answer.size == 0 or b.answer.size == 0:
        return a.answer.size == b.answer.size
    return jaccard(a.answer, b.answer) >= threshold - 1e-9


def load_shingles(shard_dir: Path, shard_rows: list[np.ndarray], wanted: np.ndarray, ngram: int,
                  hash_func) -> dict[int, Shingles]:
    """Shingles of the `wanted` rows, read back from the key shards."""
    out: dict[int, Shingles] = {}
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
                out[int(rows[pos])] = shingles_of(orjson.loads(line), ngram, hash_func)
                nxt = next(targets, None)
                if nxt is None:
                    break
    return out


def resolve(prep, clusters: list[np.ndarray], *, keep: KeepRule, threshold: float, exact: bool,
            shingles: dict[int, Shingles] | None = None) -> Decisions:
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
    other_question = 0
    if clusters:
        shingles = shingles or {}
        with progress_bar("near: verify", total=len(clusters), unit="clusters") as bar:
            for cluster in clusters:
                other_question += _verify(cluster, best, keeper, shingles, threshold, removed_to, removed_sim)
                bar.advance(1)
        gone = compared[removed_to[group[compared]] >= 0]
        status[gone] = NEAR
        dup_of[gone] = removed_to[group[gone]]
        sim[gone] = removed_sim[group[gone]]
    return Decisions(status, dup_of, sim, other_question)


def _verify(cluster, best, keeper, shingles, threshold, removed_to, removed_sim) -> int:
    """Remove the near duplicates of one cluster; returns how many kept rows only asked another question."""
    reps = sorted(cluster.tolist(), key=lambda r: best[r])
    none = Shingles(np.empty(0, dtype=np.uint64), None)
    mine_of = {rep: shingles.get(rep, none) for rep in reps}  # once per cluster: `shingles` may compute them
    kept: list[int] = []
    other_question = 0
    for rep in reps:
        mine = mine_of[rep]
        top, top_sim, asked_other = -1, -1.0, False
        for other in kept:
            theirs = mine_of[other]
            s = jaccard(mine.key, theirs.key)
            if s > top_sim and s >= threshold - 1e-9 and similar_answers(mine, theirs, threshold):
                if same_question(mine, theirs):
                    top, top_sim = other, s
                else:
                    asked_other = True
        if top >= 0:
            removed_to[rep] = keeper[top]
            removed_sim[rep] = top_sim
        else:
            kept.append(rep)
            other_question += asked_other
    return other_question


def same_prompt(prompt_group: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Per row: the earlier kept row with the same prompt, for kept rows that have one; else -1.

    `prompt_group[row]` is the first row with the same normalised prompt (-1: empty prompt).
    """
    same = np.full(status.shape[0], -1, dtype=np.int64)
    if prompt_group.size == 0:
        return same
    kept = np.flatnonzero((status == KEPT) & (prompt_group >= 0))
    if kept.size == 0:
        return same
    groups = prompt_group[kept]
    order = np.lexsort((kept, groups))  # by prompt, then row: the first of each run is the anchor
    kept, groups = kept[order], groups[order]
    starts = np.r_[True, groups[1:] != groups[:-1]]
    anchor = kept[np.maximum.accumulate(np.where(starts, np.arange(kept.size), 0))]
    later = ~starts
    same[kept[later]] = anchor[later]
    return same


def clusters_rows(prep, dec: Decisions, same: np.ndarray | None = None):
    """One dict per kept row that has duplicates or same-prompt rows, with the ids and similarities."""
    removed = np.flatnonzero((dec.status == EXACT) | (dec.status == NEAR))
    alike = np.flatnonzero(same >= 0) if same is not None else np.empty(0, dtype=np.int64)
    if removed.size == 0 and alike.size == 0:
        return
    by_kept: dict[int, list[int]] = {}
    for r in removed[np.lexsort((removed, dec.dup_of[removed]))].tolist():
        by_kept.setdefault(int(dec.dup_of[r]), []).append(r)
    prompts: dict[int, list[int]] = {}
    for r in alike.tolist():
        prompts.setdefault(int(same[r]), []).append(r)
    for number, kept in enumerate(sorted(set(by_kept) | set(prompts))):
        file, line = prep.where(kept)
        gone = by_kept.get(kept, [])
        item = {
            "cluster": number, "size": len(gone) + 1, "kept": prep.ids[kept],
            "kept_where": f"{file}:{line}" if line else file,
            "removed": [{"id": prep.ids[r], "match": "exact" if dec.status[r] == EXACT else "near",
                         "similarity": round(float(dec.similarity[r]), 4)} for r in gone],
        }
        if kept in prompts:
            item["same_prompt"] = [_where(prep, r) for r in prompts[kept]]
        yield item


def _where(prep, row: int) -> dict:
    file, line = prep.where(row)
    return {"id": prep.ids[row], "where": f"{file}:{line}" if line else file}
