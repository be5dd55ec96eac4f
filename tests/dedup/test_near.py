"""Near duplicates through datatrove's MinHash stages, checked against independently computed similarity.

The default key is the whole example, so the independent similarity is taken
over the instruction and the answer together (`whole5`).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from dedup_helpers import FAST, check_accounting, dolly, ids, jaccard5, make_text, read_jsonl, substitute, write_jsonl

from dataforge.dedup import choose_bands, dedup
from dataforge.dedup.minhash import ShingleSignature, hash_func, minhash_config

ANSWER = "an answer"  # dolly()'s default response


def whole5(a: str, b: str, answer_a: str = ANSWER, answer_b: str = ANSWER) -> float:
    """Word 5-gram Jaccard of two whole rows (instruction, then answer), computed independently."""
    return jaccard5(f"{a} {answer_a}", f"{b} {answer_b}")


def test_pairs_above_the_threshold_are_removed_and_below_kept(tmp_path):
    base = [make_text(i) for i in range(8)]
    one = substitute(base[0], [30])  # one word changed in 60: similarity ~0.84
    two = substitute(base[1], [15, 45])  # two words changed far apart: ~0.70
    tail = base[2] + " extra words at the end"  # ~0.93
    rows = [dolly(f"b{i}", t) for i, t in enumerate(base)] + [
        dolly("one", one), dolly("two", two), dolly("tail", tail)]
    out = tmp_path / "out.jsonl"
    s = dedup([write_jsonl(tmp_path / "in.jsonl", rows)], out, near=True, threshold=0.8)
    kept, rejects = check_accounting(s, out)
    truth = {"one": whole5(base[0], one), "two": whole5(base[1], two), "tail": whole5(base[2], tail)}
    assert truth["one"] > 0.8 > truth["two"] and truth["tail"] > 0.8
    assert set(ids(kept)) == {f"b{i}" for i in range(8)} | {"two"}
    reasons = {r["id"]: r["reason"] for r in rejects}
    assert reasons == {"one": f"near duplicate of 'b0' (estimated similarity {truth['one']:.2f})",
                       "tail": f"near duplicate of 'b2' (estimated similarity {truth['tail']:.2f})"}
    assert s.near_duplicates == 2 and s.exact_duplicates == 0


def test_chained_cluster_keeps_the_far_end_and_clusters_file(tmp_path):
    a = make_text(100)
    b = substitute(a, [10], seed=1)
    c = substitute(b, [48], seed=2)  # similar to b, not to a
    assert whole5(a, b) > 0.8 and whole5(b, c) > 0.8 and whole5(a, c) < 0.8
    rows = [dolly("a", a), dolly("b", b), dolly("c", c), dolly("a2", a.upper())]
    out, clusters = tmp_path / "out.jsonl", tmp_path / "clusters.jsonl"
    s = dedup([write_jsonl(tmp_path / "in.jsonl", rows)], out, clusters=clusters, **FAST)
    kept, rejects = check_accounting(s, out)
    # b goes as a's duplicate; c is then compared with the kept row a only, and stays
    assert ids(kept) == ["a", "c"]
    (cluster,) = read_jsonl(clusters)
    assert cluster["kept"] == "a" and cluster["size"] == 3
    removed = {r["id"]: r for r in cluster["removed"]}
    assert removed["a2"]["match"] == "exact" and removed["a2"]["similarity"] == 1.0
    assert removed["b"]["match"] == "near" and removed["b"]["similarity"] == pytest.approx(whole5(a, b), abs=1e-3)
    assert s.clusters == 1


def test_keep_longest_across_a_near_cluster(tmp_path):
    a = make_text(7)
    longer = a + " with a few more closing words"
    rows = [dolly("short", a, "x"), dolly("other", make_text(8)), dolly("long", longer, "x")]
    out = tmp_path / "out.jsonl"
    dedup([write_jsonl(tmp_path / "in.jsonl", rows)], out, near=True, keep="longest", **FAST)
    assert ids(read_jsonl(out)) == ["other", "long"]


def test_chinese_and_thai_use_character_shingles(tmp_path):
    rng = random.Random(3)
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 400)]
    zh = "".join(rng.choice(hanzi) for _ in range(80))
    zh2 = zh[:40] + "的" + zh[41:]  # one character of 80 changed
    thai = "".join(rng.choice([chr(c) for c in range(0x0E01, 0x0E2F)]) for _ in range(80))
    thai2 = thai[:60] + "ก" + thai[61:]
    rows = [dolly("zh", zh), dolly("zh2", zh2), dolly("th", thai), dolly("th2", thai2),
            dolly("zh-other", "".join(rng.choice(hanzi) for _ in range(80)))]
    out = tmp_path / "out.jsonl"
    s = dedup([write_jsonl(tmp_path / "in.jsonl", rows)], out, near=True, **FAST)
    kept, rejects = check_accounting(s, out)
    # With words split on spaces each text would be one token and no pair could match.
    assert ids(kept) == ["zh", "th", "zh-other"]
    assert {r["id"] for r in rejects} == {"zh2", "th2"}


def test_threshold_one_means_identical_shingles(tmp_path):
    a = make_text(11)
    rows = [dolly("a", a), dolly("b", substitute(a, [30])), dolly("c", a + " !")]
    out = tmp_path / "out.jsonl"
    s = dedup([write_jsonl(tmp_path / "in.jsonl", rows)], out, near=True, threshold=1.0, **FAST)
    assert ids(read_jsonl(out)) == ["a", "b"] and s.near_duplicates == 1  # "!" folds away: same text


def test_similarity_equal_to_the_threshold_is_removed_and_just_below_kept(tmp_path):
    # 47 words + the 2-word answer = 49 tokens, 45 shingles; one middle word changed: 40 shared of 50 = 0.8
    at = make_text(21, words=47)
    at2 = substitute(at, [23], seed=5)
    # 46 + 2 = 48 tokens, 44 shingles: 39 shared of 49 = 0.796
    below = make_text(22, words=46)
    below2 = substitute(below, [23], seed=6)
    assert whole5(at, at2) == 0.8 and whole5(below, below2) == 39 / 49
    rows = [dolly("at", at), dolly("at2", at2), dolly("below", below), dolly("below2", below2)]
    out = tmp_path / "out.jsonl"
    # 16 buckets x 2 hashes: every pair at 0.8 becomes a candidate (1 - 1e-7); the exact check decides
    s = dedup([write_jsonl(tmp_path / "in.jsonl", rows)], out, near=True, threshold=0.8, buckets=16,
              hashes_per_bucket=2)
    kept, rejects = check_accounting(s, out)
    assert ids(kept) == ["at", "below", "below2"]
    assert [r["reason"] for r in rejects] == ["near duplicate of 'at' (estimated similarity 0.80)"]


def test_a_shared_passage_with_other_answers_is_not_a_near_duplicate(tmp_path):
    """Long prompt, short answers: the rows share nearly every shingle, but the answers decide."""
    passage = make_text(31, words=120)
    answer = make_text(32, words=12)
    rows = [dolly("yes", passage, "Yes."), dolly("no", passage, "No."),
            dolly("yes2", passage.replace(" ", "  "), "yes"),  # the same example, other spacing and case
            dolly("long", passage, answer), dolly("long2", passage, substitute(answer, [6], seed=3)),
            dolly("long3", passage, make_text(33, words=12))]  # another answer altogether
    # every pair is above the threshold on the whole row: only the answers tell them apart
    assert whole5(passage, passage, "yes", "no") > 0.95 and whole5(passage, passage, answer, rows[5]["response"]) > 0.8
    out, clusters = tmp_path / "out.jsonl", tmp_path / "clusters.jsonl"
    s = dedup([write_jsonl(tmp_path / "in.jsonl", rows)], out, clusters=clusters, buckets=16, hashes_per_bucket=2)
    kept, rejects = check_accounting(s, out)
    assert ids(kept) == ["yes", "no", "long", "long3"]
    reasons = {r["id"]: r["reason"] for r in rejects}
    assert reasons["yes2"] == "exact duplicate of 'yes'" and reasons["long2"].startswith("near duplicate of 'long'")
    assert s.same_prompt == 3  # no, long, long3: the same passage answered otherwise, kept
    by_kept = {c["kept"]: c for c in read_jsonl(clusters)}
    assert [x["id"] for x in by_kept["yes"]["same_prompt"]] == ["no", "long", "long3"]
    assert [x["id"] for x in by_kept["yes"]["removed"]] == ["yes2"] and "same_prompt" not in by_kept["long"]
    assert [x["id"] for x in by_kept["long"]["removed"]] == ["long2"]
    s = dedup([write_jsonl(tmp_path / "in.jsonl", rows)], tmp_path / "p.jsonl", key="prompt", **FAST)
    assert ids(read_jsonl(tmp_path / "p.jsonl")) == ["yes"] and s.exact_duplicates == 5


def test_in_memory_twin_computes_datatrove_signatures_and_the_same_hash():
    """report's duplicate finder (dedup.find) must see the candidates dedup's datatrove stage sees."""
    from dataforge.dedup.find import permutations, signatures
    from dataforge.dedup.text import xxh64

    bands = choose_bands(0.8)
    step = ShingleSignature("/tmp/unused-dataforge-sigs", minhash_config(5, bands.buckets, bands.hashes_per_bucket))
    texts = [make_text(i, words=5 + 7 * i) for i in range(12)] + ["Hi!", "日本の首都は東京です。", "ภาษาไทย ok",
                                                                   "a \x01 b \x02 c d e f g"]
    a, b = permutations(bands.num_hashes)
    ours = signatures(texts, 5, a, b)
    for text, sig in zip(texts, ours):
        assert sig.tolist() == [h for bucket in step.get_signature(step.get_shingles(text)) for h in bucket]
    for word in ("abc", "日本", ""):
        assert xxh64(word) == hash_func(64)(word)


def test_lsh_candidate_rate_matches_the_banding_math():
    """Signatures from the datatrove stage collide in a bucket as often as 1-(1-s^r)^b predicts."""
    bands = choose_bands(0.7, max_hashes=32)
    step = ShingleSignature("/tmp/unused-dataforge-sigs", minhash_config(5, bands.buckets, bands.hashes_per_bucket))
    hits, trials, sims = 0, 300, []
    for i in range(trials):
        a = make_text(1000 + i, words=44)
        b = substitute(a, [20, 21], seed=i)  # two adjacent words: 6 of 40 shingles differ
        sims.append(jaccard5(a, b))
        sa, sb = (step.get_signature(step.get_shingles(t)) for t in (a, b))
        hits += any(x == y for x, y in zip(sa, sb))
    s = float(np.mean(sims))
    expected = bands.probability(s)
    assert abs(hits / trials - expected) < 0.08, (hits / trials, expected, s)


def test_threshold_picks_bands_that_find_pairs_at_the_threshold():
    from dataforge.dedup import bands_for

    for t in (0.5, 0.7, 0.8, 0.9, 0.95):
        b = choose_bands(t)
        assert b.num_hashes <= 128 and b.probability(t) >= 0.98, (t, b)
        # the cheapest in false candidates among those that reach it: one more hash per bucket misses pairs
        assert detection(t, 128 // (b.hashes_per_bucket + 1), b.hashes_per_bucket + 1) < 0.98
    assert (bands_for(0.8, buckets=14, hashes_per_bucket=8).buckets, bands_for(0.8, buckets=14).hashes_per_bucket) == (14, 9)
    text = choose_bands(0.8).describe()
    assert "18 buckets x 7 hashes" in text and "0.80: 98.6%" in text and "0.60: 40.0%" in text


def detection(s, b, r):
    return 1 - (1 - s ** r) ** b
