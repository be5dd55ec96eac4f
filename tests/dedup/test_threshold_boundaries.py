"""Near-duplicate decisions at their boundaries, on hand-built shingle sets with known Jaccard values.

A pair whose similarity equals --threshold is removed, one a hair below is kept; answers and questions
are compared with the same care; the kept row is the one the keep rule prefers. Hand-computed cases
(found by `make mutation AREA=dedup`: these faults in dataforge/dedup/resolve.py went unnoticed).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dataforge.dedup.keys import KeepRule
from dataforge.dedup.resolve import (
    CONTAMINATED,
    EXACT,
    KEPT,
    NEAR,
    QUESTION_WORDS,
    Shingles,
    _verify,
    resolve,
    same_prompt,
    same_question,
    similar_answers,
    words_apart,
)


def h(*values) -> np.ndarray:
    return np.array(sorted(set(values)), dtype=np.uint64)


def q(*values) -> np.ndarray:  # question words keep their repeats
    return np.array(sorted(values), dtype=np.uint64)


def sh(key, answer=None, question=None) -> Shingles:
    return Shingles(h(*key), None if answer is None else h(*answer), None if question is None else q(*question))


def test_similar_answers_at_the_threshold():
    a, b = sh([1], answer=[1, 2, 3]), sh([1], answer=[1, 2, 4])  # Jaccard 2/4
    assert similar_answers(a, b, 0.5) is True
    assert similar_answers(a, b, 0.5001) is False
    assert similar_answers(sh([1]), b, 0.99) is True  # a key without answers: nothing to compare
    assert similar_answers(a, sh([1]), 0.99) is True
    assert similar_answers(sh([1], answer=[]), sh([1], answer=[]), 0.9) is True  # both empty: alike
    assert similar_answers(sh([1], answer=[]), b, 0.0) is False  # one empty: not alike, at any threshold
    assert similar_answers(a, sh([1], answer=[]), 0.0) is False


def test_words_apart_counts_repeats():
    assert words_apart(q(1, 1, 2), q(1, 3)) == (2, 1)
    assert words_apart(q(1, 2), q(1, 2)) == (0, 0)
    assert words_apart(q(5), q(1, 2, 3)) == (1, 3)


def test_same_question_boundary_is_question_words_on_each_side():
    assert QUESTION_WORDS == 3
    base = [10, 11, 12, 13]
    three_each = sh([1], answer=[1], question=base + [1, 2, 3])
    other = sh([1], answer=[1], question=base + [4, 5, 6])
    assert same_question(three_each, other) is False  # 3 and 3 words apart: another question
    two_one_side = sh([1], answer=[1], question=base + [4, 5])
    assert words_apart(three_each.question, two_one_side.question) == (3, 2)
    assert same_question(three_each, two_one_side) is True  # 3 and 2: the same question reworded
    assert same_question(sh([1]), other) is True  # no question side: cannot tell them apart
    assert same_question(other, sh([1])) is True


def _run_verify(shingles, reps_best, threshold):
    """_verify over one cluster; reps_best maps representative row -> rank of its best row."""
    n = max(reps_best) + 1
    best = np.full(n, n, dtype=np.int64)
    keeper = np.full(n, -1, dtype=np.int64)
    for rep, rank in reps_best.items():
        best[rep] = rank
        keeper[rep] = rep + 100  # the kept row of each group, distinct from the representative
    removed_to = np.full(n, -1, dtype=np.int64)
    removed_sim = np.zeros(n, dtype=np.float32)
    other = _verify(np.array(list(reps_best)), best, keeper, shingles, threshold, removed_to, removed_sim)
    return removed_to, removed_sim, other


def test_a_pair_at_exactly_the_threshold_is_removed_and_just_below_is_kept():
    shingles = {0: sh([1, 2, 3, 4]), 1: sh([1, 2, 3, 5])}  # Jaccard 3/5 = 0.6
    removed_to, removed_sim, other = _run_verify(shingles, {0: 0, 1: 1}, 0.6)
    assert removed_to.tolist() == [-1, 100] and removed_sim[1] == pytest.approx(0.6) and other == 0
    removed_to, removed_sim, _ = _run_verify(shingles, {0: 0, 1: 1}, 0.61)
    assert removed_to.tolist() == [-1, -1] and removed_sim.tolist() == [0.0, 0.0]


def test_the_better_ranked_group_is_kept_whatever_the_cluster_order():
    shingles = {0: sh([1, 2, 3, 4]), 1: sh([1, 2, 3, 5])}
    removed_to, _, _ = _run_verify(shingles, {0: 1, 1: 0}, 0.6)  # row 1 ranks first
    assert removed_to.tolist() == [101, -1]


def test_a_chain_keeps_both_ends():
    # A~B (0.6) and B~C (0.6) but A and C share 2 of 6: B is removed, C is compared with A only and kept
    shingles = {0: sh([1, 2, 3, 4]), 1: sh([1, 2, 3, 5]), 2: sh([1, 2, 5, 6])}
    assert _run_verify(shingles, {0: 0, 1: 1, 2: 2}, 0.6)[0].tolist() == [-1, 100, -1]


def test_the_highest_similarity_wins_among_kept_rows():
    shingles = {0: sh([1, 2, 3, 4, 5, 6]), 1: sh([7, 8, 9, 10, 11, 12]),
                2: sh([1, 2, 3, 7, 8, 9, 10, 11])}  # with 0: 3/11; with 1: 5/9
    removed_to, removed_sim, _ = _run_verify(shingles, {0: 0, 1: 1, 2: 2}, 0.25)
    assert removed_to.tolist() == [-1, -1, 101] and removed_sim[2] == pytest.approx(5 / 9)
    # and the other order of the kept rows gives the same answer
    removed_to, removed_sim, _ = _run_verify(shingles, {0: 1, 1: 0, 2: 2}, 0.25)
    assert removed_to.tolist() == [-1, -1, 101] and removed_sim[2] == pytest.approx(5 / 9)


def test_same_passage_other_question_is_kept_and_counted():
    words = [10, 11, 12, 13]
    a = sh([1, 2, 3, 4], answer=[1], question=words + [1, 2, 3])
    b = sh([1, 2, 3, 4], answer=[1], question=words + [4, 5, 6])
    removed_to, _, other = _run_verify({0: a, 1: b}, {0: 0, 1: 1}, 0.8)
    assert removed_to.tolist() == [-1, -1] and other == 1
    # a reworded question (2 words apart) is the same question: removed, not counted
    c = sh([1, 2, 3, 4], answer=[1], question=words + [4, 5])
    removed_to, _, other = _run_verify({0: a, 1: c}, {0: 0, 1: 1}, 0.8)
    assert removed_to.tolist() == [-1, 100] and other == 0
    # different answers: kept, and not counted as another question
    d = sh([1, 2, 3, 4], answer=[9], question=words + [4, 5, 6])
    removed_to, _, other = _run_verify({0: a, 1: d}, {0: 0, 1: 1}, 0.8)
    assert removed_to.tolist() == [-1, -1] and other == 0


def test_same_prompt_points_to_the_first_kept_row_of_each_prompt():
    prompt_group = np.array([0, -1, 0, 3, 3, 0, 3])
    status = np.array([KEPT, KEPT, KEPT, NEAR, KEPT, KEPT, KEPT])
    assert same_prompt(prompt_group, status).tolist() == [-1, -1, 0, -1, -1, 0, 4]
    assert same_prompt(np.array([], dtype=np.int64), np.array([], dtype=np.int8)).tolist() == []
    assert same_prompt(np.array([0, 0]), np.array([NEAR, EXACT])).tolist() == [-1, -1]


def _prep(group, lengths=None, contaminated=()):
    n = len(group)
    return SimpleNamespace(rows=n, group=np.array(group, dtype=np.int64), contaminated=set(contaminated),
                           lengths=np.array(lengths or [1] * n), scores=np.zeros(n))


def test_resolve_exact_groups_under_first_and_longest():
    prep = _prep([0, 1, 0, -1, 1], lengths=[3, 5, 9, 1, 2])
    dec = resolve(prep, [], keep=KeepRule("first"), threshold=0.8, exact=True)
    assert dec.status.tolist() == [KEPT, KEPT, EXACT, KEPT, EXACT]
    assert dec.dup_of.tolist() == [-1, -1, 0, -1, 1] and dec.similarity.tolist() == [0, 0, 1, 0, 1]
    dec = resolve(prep, [], keep=KeepRule("longest"), threshold=0.8, exact=False)  # key not exact: NEAR
    assert dec.status.tolist() == [NEAR, KEPT, KEPT, KEPT, NEAR]
    assert dec.dup_of.tolist() == [2, -1, -1, -1, 1]


def test_resolve_near_removes_whole_groups_and_marks_contamination():
    prep = _prep([0, 1, 0, 3, -1], contaminated=[4])
    shingles = {0: sh([1, 2, 3, 4]), 1: sh([1, 2, 3, 5]), 3: sh([7, 8])}
    dec = resolve(prep, [np.array([0, 1, 3])], keep=KeepRule("first"), threshold=0.6, exact=True,
                  shingles=shingles)
    assert dec.status.tolist() == [KEPT, NEAR, EXACT, KEPT, CONTAMINATED]
    assert dec.dup_of.tolist() == [-1, 0, 0, -1, -1]
    assert dec.similarity[1] == pytest.approx(0.6) and dec.similarity[2] == 1.0
    assert (dec.count(KEPT), dec.count(NEAR), dec.count(EXACT), dec.count(CONTAMINATED)) == (2, 1, 1, 1)
    assert dec.other_question == 0


def _hash(token: str) -> int:
    return sum(ord(c) * 31 ** i for i, c in enumerate(token)) % (2**61)


def test_shingles_of_a_key_with_and_without_an_answer_side():
    from dataforge.dedup.resolve import shingles_of
    from dataforge.dedup.text import normalize, shingle_set, tokens

    plain = shingles_of("the cat sat on the mat", 2, _hash)
    assert plain.answer is None and plain.question is None
    assert plain.key.tolist() == shingle_set("the cat sat on the mat", 2, _hash).tolist()
    key = "what is two\x02four\x01 and more"  # prompt, then an answer part and the text after it
    both = shingles_of(key, 2, _hash)
    assert both.key.tolist() == shingle_set(key, 2, _hash).tolist()
    assert both.answer.tolist() == shingle_set("four", 1, _hash).tolist()
    words = tokens(normalize("what is two  and more"))
    assert both.question.tolist() == sorted(_hash(w) for w in words)


def test_load_shingles_reads_every_wanted_row_of_every_shard(tmp_path):
    import orjson

    from dataforge.dedup.resolve import load_shingles
    from dataforge.dedup.text import shingle_set

    texts = {10: "alpha beta gamma", 11: "beta gamma delta", 12: "x y z", 20: "one two three", 21: "four five"}
    shard_rows = [np.array([10, 11, 12]), np.array([20, 21])]
    for shard, rows in enumerate(shard_rows):
        (tmp_path / f"{shard:05d}.jsonl").write_bytes(b"".join(orjson.dumps(texts[r]) + b"\n" for r in rows))
    got = load_shingles(tmp_path, shard_rows, np.array([10, 12, 21]), 2, _hash)
    assert sorted(got) == [10, 12, 21]
    for row in (10, 12, 21):
        assert got[row].key.tolist() == shingle_set(texts[row], 2, _hash).tolist()
    assert load_shingles(tmp_path, shard_rows, np.array([], dtype=np.int64), 2, _hash) == {}


def test_a_cluster_member_without_shingles_counts_as_sharing_nothing():
    removed_to, _, _ = _run_verify({0: sh([1, 2, 3])}, {0: 0, 1: 1}, 0.5)  # row 1's shingles are missing
    assert removed_to.tolist() == [-1, -1]


def test_decision_arrays_are_compact():
    dec = resolve(_prep([0, 0, 1]), [], keep=KeepRule("first"), threshold=0.8, exact=True)
    assert (dec.status.dtype, dec.dup_of.dtype, dec.similarity.dtype) == (np.int8, np.int64, np.float32)


def test_clusters_rows_name_the_kept_row_and_each_removed_one():
    from dataforge.dedup.resolve import Decisions, clusters_rows

    prep = SimpleNamespace(ids=["a", "b", "c", "d"], where=lambda r: ("in.jsonl", r + 1 if r != 3 else None))
    dec = Decisions(status=np.array([KEPT, EXACT, NEAR, KEPT], dtype=np.int8), dup_of=np.array([-1, 0, 0, -1]),
                    similarity=np.array([0, 1.0, 0.81234, 0], dtype=np.float32))
    same = np.array([-1, -1, -1, 0])
    assert list(clusters_rows(prep, dec, same)) == [{
        "cluster": 0, "size": 3, "kept": "a", "kept_where": "in.jsonl:1",
        "removed": [{"id": "b", "match": "exact", "similarity": 1.0}, {"id": "c", "match": "near", "similarity": 0.8123}],
        "same_prompt": [{"id": "d", "where": "in.jsonl"}]}]
    nothing = Decisions(status=np.zeros(4, dtype=np.int8), dup_of=np.full(4, -1), similarity=np.zeros(4))
    assert list(clusters_rows(prep, nothing)) == []
