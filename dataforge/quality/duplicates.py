"""Exact duplicate rows, repeated prompts, and an estimate of near-duplicate rows.

- exact: every text field (and the system prompt) equal after trimming spaces;
- repeated prompts: instruction + context equal (case and spacing ignored),
  and among those, prompts answered differently (conflicting targets);
- near-duplicates: MinHash over word 3-grams of the whole row, counted only
  among rows that are not exact copies, so each copy is counted once.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dataforge.quality.findings import Finding, by_rate, plural
from dataforge.quality.minhash import THRESHOLD, near_duplicates
from dataforge.quality.stats import share

GROUP_EXAMPLES = 5
PAIR_EXAMPLES = 8
LISTED_GROUPS = 1000  # the JSON lists this many groups in full (ids capped per group), for scripts
LISTED_IDS = 20


def _groups(frame: pl.DataFrame, key: pl.Expr) -> pl.DataFrame:
    """Groups of 2+ rows sharing `key`: columns key, n, rows (row indices), ids."""
    # filter to repeated keys first: aggregating lists for a million singletons is the slow part
    return (frame.lazy().select("row", "id", key.alias("key")).filter(pl.col("key").is_duplicated())
            .group_by("key").agg(pl.len().alias("n"), pl.col("row"), pl.col("id"))
            .filter(pl.col("n") > 1).sort(["n", "row"], descending=[True, False]).collect())


def _trimmed(name: str) -> pl.Expr:
    return pl.col(name).fill_null("").str.strip_chars()


def exact_section(frame: pl.DataFrame, fields, answer_fields) -> tuple[dict, np.ndarray]:
    """Exact and prompt duplicates, and a mask of rows that are first of their exact group."""
    rows = frame.height
    row_key = pl.concat_str([_trimmed(f) for f in (*fields, "system")], separator="\x1f").hash()
    exact = _groups(frame, row_key)
    first = np.ones(rows, bool)
    if exact.height:
        later = exact.select(pl.col("row").list.slice(1)).explode("row")["row"].to_numpy()
        first[later] = False
    prompt_key = pl.concat_str([_trimmed("instruction").str.to_lowercase(),
                                _trimmed("context").str.to_lowercase()], separator="\x1f").hash()
    answers = pl.concat_str([_trimmed(a) for a in answer_fields], separator="\x1f").hash()
    prompts = (frame.lazy().select("row", "id", prompt_key.alias("key"), answers.alias("answer"))
               .filter(pl.col("key").is_duplicated()).group_by("key").agg(pl.len().alias("n"), pl.col("row").min(), pl.col("id"),
                                    pl.col("answer").n_unique().alias("answers"))
               .filter(pl.col("n") > 1).sort(["n", "row"], descending=[True, False]).collect())
    conflicting = prompts.filter(pl.col("answers") > 1)
    data = {
        "exact": {"groups": exact.height, "rows_in_groups": int(exact["n"].sum()),
                  "removable": int(exact["n"].sum()) - exact.height,
                  "share": share(int(exact["n"].sum()) - exact.height, rows),
                  "examples": [ids[:GROUP_EXAMPLES] for ids in exact["id"].head(GROUP_EXAMPLES).to_list()],
                  "groups_listed": [ids[:LISTED_IDS] for ids in exact["id"].head(LISTED_GROUPS).to_list()]},
        "prompts": {"groups": prompts.height, "rows_in_groups": int(prompts["n"].sum()),
                    "removable": int(prompts["n"].sum()) - prompts.height,
                    "share": share(int(prompts["n"].sum()) - prompts.height, rows),
                    "conflicting_groups": conflicting.height,
                    "conflicting_rows": int(conflicting["n"].sum()),
                    "examples": [ids[:GROUP_EXAMPLES] for ids in prompts["id"].head(GROUP_EXAMPLES).to_list()],
                    "conflicting_examples": [ids[:GROUP_EXAMPLES]
                                             for ids in conflicting["id"].head(GROUP_EXAMPLES).to_list()],
                    "groups_listed": [ids[:LISTED_IDS] for ids in prompts["id"].head(LISTED_GROUPS).to_list()]},
    }
    return data, first


def near_section(frame: pl.DataFrame, sig: np.ndarray, has: np.ndarray, first: np.ndarray, fields) -> dict:
    """Near-duplicate clusters among rows that are not exact copies, with example pairs."""
    nd = near_duplicates(sig, has & first)
    ids = frame["id"]
    order = np.argsort(-nd.similarity, kind="stable")[:PAIR_EXAMPLES] if len(nd.similarity) else []
    examples = []
    for i in order:
        a, b = (int(x) for x in nd.pairs[i])
        pair = {"a": ids[a], "b": ids[b], "estimated": round(float(nd.similarity[i]), 3)}
        pair["jaccard"] = round(_jaccard(_row_text(frame, a, fields), _row_text(frame, b, fields)), 3)
        examples.append(pair)
    rows = frame.height
    return {
        "method": (f"MinHash (one-permutation, {sig.shape[1]} bins, LSH bands of 4) over word 3-grams of"
                   f" the whole row; pairs with estimated Jaccard >= {THRESHOLD}; exact copies excluded"),
        "threshold": THRESHOLD, "pairs": int(len(nd.pairs)), "clusters": len(nd.clusters),
        "rows_in_clusters": nd.rows_in_clusters, "removable": nd.removable,
        "share": share(nd.removable, rows),
        "largest_cluster": int(len(nd.clusters[0])) if nd.clusters else 0,
        "example_pairs": examples,
        "cluster_examples": [ids.gather(c[:GROUP_EXAMPLES]).to_list() for c in nd.clusters[:GROUP_EXAMPLES]],
        "clusters_listed": [ids.gather(c[:LISTED_IDS]).to_list() for c in nd.clusters[:LISTED_GROUPS]],
    }


def _row_text(frame: pl.DataFrame, row: int, fields) -> str:
    return " ".join(frame[row, f] or "" for f in fields)


def _jaccard(a: str, b: str, n: int = 3) -> float:
    """Exact Jaccard of word 3-gram sets (for the example pairs shown)."""
    import re

    def grams(t: str) -> set:
        words = re.findall(r"\w+", t.lower())
        return {tuple(words[i:i + n]) for i in range(max(len(words) - n + 1, 1))} if words else set()

    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb) if ga or gb else 1.0


def findings(data: dict, rows: int, kind: str) -> list[Finding]:
    found = []
    ex = data["exact"]
    if ex["removable"]:
        found.append(Finding(
            "exact_duplicates", by_rate(ex["removable"], rows, high=0.05, medium=0.005),
            f"{plural(ex['removable'], 'exact duplicate row')}",
            f"{plural(ex['groups'])} ha{'s' if ex['groups'] == 1 else 've'} exact copies ({ex['rows_in_groups']:,} rows in all);"
            " duplicates"
            " weigh those examples more and leak between train and eval splits.",
            ex["removable"], ex["share"], [i for g in ex["examples"] for i in g], "duplicates"))
    pr = data["prompts"]
    if pr["removable"] and kind == "instruction":
        found.append(Finding(
            "duplicate_prompts", by_rate(pr["removable"], rows, high=0.2, medium=0.02),
            f"{plural(pr['removable'])} repeat{'s' if pr['removable'] == 1 else ''} an earlier prompt",
            f"{pr['groups']:,} prompts (instruction + context) occur more than once;"
            f" {pr['conflicting_groups']:,} of them have different answers.",
            pr["removable"], pr["share"], [i for g in pr["examples"] for i in g], "duplicates"))
    near = data.get("near")
    if near and near["removable"]:
        found.append(Finding(
            "near_duplicates", by_rate(near["removable"], rows, high=0.1, medium=0.01),
            f"about {plural(near['removable'], 'near-duplicate row')}",
            f"{near['clusters']:,} clusters of similar rows ({near['rows_in_clusters']:,} rows; largest"
            f" {near['largest_cluster']}); keeping one per cluster would drop {near['removable']:,}."
            " An estimate: " + near["method"] + ".",
            near["removable"], near["share"],
            [x for p in near["example_pairs"][:3] for x in (p["a"], p["b"])], "duplicates"))
    return found
