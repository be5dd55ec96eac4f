"""Duplicates, as `dataforge dedup` with its default settings sees them.

One definition of a duplicate for both commands (`dataforge.dedup.keys`),
and one computation (`dataforge.dedup.find`, the in-memory twin of dedup's
pipeline), so this section says what `dedup` would remove from the same file:

- key: the whole example (system prompt, prompt and answers; every turn of a
  chat) for instruction data, the prompt for preference data;
- exact: keys equal after dedup's normalisation (NFKC, case folding, sentence
  punctuation and spacing ignored; digits and operators kept);
- near: word 5-grams (characters for Chinese, Japanese, Thai...), MinHash LSH
  candidates checked against Jaccard >= 0.8, and, for whole-example keys, answers
  alike too; the first row of each cluster is kept;
- same prompt: rows kept because only their prompt repeats (another answer);
  `dedup --key prompt` would remove them;
- same passage, different question: rows alike to a kept row (a shared
  passage) whose prompts differ by 3+ words on each side: kept, counted;
- repeated prompts: every group of rows with the same normalised prompt, and
  how many of those groups are answered differently.

Rows that dedup's reader would reject (an empty instruction or answer) are
left out of these counts; the report lists them under empty fields.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dataforge.dedup.find import NEAR, Found
from dataforge.dedup.keys import NGRAM, THRESHOLD, default_key
from dataforge.quality.findings import Finding, by_rate, plural
from dataforge.quality.stats import share

GROUP_EXAMPLES = 5
PAIR_EXAMPLES = 8
LISTED_GROUPS = 1000  # the JSON lists this many groups in full (ids capped per group), for scripts
LISTED_IDS = 20


def _grouped(labels: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Rows sharing a label, groups of 2+ only, largest first (ties: earliest first row)."""
    if rows.size == 0:
        return []
    lab = labels[rows]
    order = np.lexsort((rows, lab))
    rows, lab = rows[order], lab[order]
    bounds = np.flatnonzero(lab[1:] != lab[:-1]) + 1
    groups = [g for g in np.split(rows, bounds) if g.size > 1]
    return sorted(groups, key=lambda g: (-g.size, int(g[0])))


def _ids(ids: pl.Series, groups: list[np.ndarray], limit: int, per_group: int) -> list[list[str]]:
    return [ids.gather(g[:per_group]).to_list() for g in groups[:limit]]


def method(kind: str) -> str:
    key = "the prompt (instruction + context; a chat's user turns)" if default_key(kind) == "prompt" else \
        "the whole example (system prompt, prompt and answer; every turn of a chat)"
    return (f"as dataforge dedup with default settings: key = {key}; exact = equal after normalisation (case,"
            f" width, punctuation and spacing ignored); near = word {NGRAM}-gram Jaccard >= {THRESHOLD}"
            f" (characters for Chinese, Japanese, Thai...), found with MinHash LSH and checked exactly"
            + ("; answers must be alike too" if default_key(kind) == "all" else "")
            + "; the first row of each group is kept")


def section(frame: pl.DataFrame, kind: str, found: Found) -> dict:
    """The duplicates section: exact groups, repeated prompts, near clusters, and dedup's counts.

    `found`: dedup's decisions for the frame's rows (`frame.Loaded.duplicates.finish()`).
    """
    rows = frame.height
    dec, ids = found.decisions, frame["id"]
    all_rows = np.arange(rows)

    exact_groups = _grouped(found.group, np.flatnonzero(found.group >= 0))
    in_exact = int(sum(g.size for g in exact_groups))
    n_exact = found.exact

    prompt_group = found.prompt_group
    prompt_groups = _grouped(prompt_group, np.flatnonzero(prompt_group >= 0))
    conflicting = [g for g in prompt_groups if np.unique(found.group[g]).size > 1]
    in_prompts = int(sum(g.size for g in prompt_groups))
    same_rows = np.flatnonzero(found.same >= 0)

    near_rows = np.flatnonzero(dec.status == NEAR)
    near_clusters = _grouped(np.where(dec.status == NEAR, dec.dup_of, all_rows),
                             np.flatnonzero((dec.status == NEAR) | np.isin(all_rows, dec.dup_of[near_rows])))
    top = near_rows[np.argsort(-dec.similarity[near_rows], kind="stable")[:PAIR_EXAMPLES]]
    examples = [{"a": ids[int(dec.dup_of[r])], "b": ids[int(r)], "jaccard": round(float(dec.similarity[r]), 3)}
                for r in top]
    n_near = found.near

    line = (f"dedup with default settings would remove {n_exact:,} exact and {n_near:,} near duplicates;"
            f" {found.same_prompt:,} rows share a prompt with an earlier row (kept: their answers differ)"
            + (f"; {found.other_question:,} rows share a passage with an earlier row but ask another question (kept)"
               if found.other_question else ""))
    return {
        "method": method(kind),
        "dedup": {"key": default_key(kind), "ngram": NGRAM, "threshold": THRESHOLD,
                  "bands": [found.bands.buckets, found.bands.hashes_per_bucket],
                  "exact": n_exact, "near": n_near, "same_prompt": found.same_prompt,
                  "other_question": found.other_question,
                  "not_read": found.skipped, "empty_key": found.empty_key, "line": line},
        "exact": {"groups": len(exact_groups), "rows_in_groups": in_exact, "removable": n_exact,
                  "share": share(n_exact, rows),
                  "examples": _ids(ids, exact_groups, GROUP_EXAMPLES, GROUP_EXAMPLES),
                  "groups_listed": _ids(ids, exact_groups, LISTED_GROUPS, LISTED_IDS)},
        "prompts": {"groups": len(prompt_groups), "rows_in_groups": in_prompts,
                    "removable": in_prompts - len(prompt_groups),
                    "share": share(in_prompts - len(prompt_groups), rows),
                    "conflicting_groups": len(conflicting),
                    "conflicting_rows": int(sum(g.size for g in conflicting)),
                    "same_prompt": found.same_prompt, "same_prompt_share": share(found.same_prompt, rows),
                    "same_prompt_examples": [[ids[int(found.same[r])], ids[int(r)]]
                                             for r in same_rows[:GROUP_EXAMPLES]],
                    "examples": _ids(ids, prompt_groups, GROUP_EXAMPLES, GROUP_EXAMPLES),
                    "conflicting_examples": _ids(ids, conflicting, GROUP_EXAMPLES, GROUP_EXAMPLES),
                    "groups_listed": _ids(ids, prompt_groups, LISTED_GROUPS, LISTED_IDS)},
        "near": {
            "method": method(kind), "threshold": THRESHOLD, "ngram": NGRAM, "pairs": int(near_rows.size),
            "clusters": len(near_clusters), "rows_in_clusters": int(sum(g.size for g in near_clusters)),
            "removable": n_near, "share": share(n_near, rows),
            "largest_cluster": int(near_clusters[0].size) if near_clusters else 0,
            "example_pairs": examples,
            "cluster_examples": _ids(ids, near_clusters, GROUP_EXAMPLES, GROUP_EXAMPLES),
            "clusters_listed": _ids(ids, near_clusters, LISTED_GROUPS, LISTED_IDS),
        },
    }


def findings(data: dict, rows: int, kind: str) -> list[Finding]:
    found = []
    ex, dd = data["exact"], data["dedup"]
    prompt_key = dd["key"] == "prompt"
    if ex["removable"]:
        n = ex["removable"]
        title = (f"{plural(n, 'pair')} repeat{'s' if n == 1 else ''} an earlier prompt" if prompt_key
                 else plural(n, "exact duplicate row"))
        found.append(Finding(
            "exact_duplicates", by_rate(n, rows, high=0.05, medium=0.005), title,
            f"{plural(ex['groups'], 'group')} of rows with the same {'prompt' if prompt_key else 'example'}"
            f" after normalisation ({ex['rows_in_groups']:,} rows in all); dedup keeps the first of each."
            " Duplicates weigh those examples more and leak between train and eval splits.",
            ex["removable"], ex["share"], [i for g in ex["examples"] for i in g], "duplicates"))
    pr = data["prompts"]
    if pr["same_prompt"] and kind == "instruction":
        found.append(Finding(
            # kept by dedup on purpose (several answers to one prompt can be right): worth a look, not a defect
            "duplicate_prompts", "medium" if pr["same_prompt_share"] >= 0.2 else "low",
            f"{plural(pr['same_prompt'])} repeat{'s' if pr['same_prompt'] == 1 else ''} an earlier prompt with"
            " another answer",
            f"{pr['groups']:,} prompts occur more than once, {pr['conflicting_groups']:,} of them with different"
            " answers. dedup keeps these rows (they are different examples); `dedup --key prompt` removes them.",
            pr["same_prompt"], pr["same_prompt_share"], [i for p in pr["same_prompt_examples"] for i in p],
            "duplicates"))
    near = data["near"]
    if near["removable"]:
        found.append(Finding(
            "near_duplicates", by_rate(near["removable"], rows, high=0.1, medium=0.01),
            plural(near["removable"], "near-duplicate row"),
            f"{near['clusters']:,} clusters of similar rows ({near['rows_in_clusters']:,} rows; largest"
            f" {near['largest_cluster']}); dedup would drop {near['removable']:,}. Compared "
            + near["method"] + ".",
            near["removable"], near["share"],
            [x for p in near["example_pairs"][:3] for x in (p["a"], p["b"])], "duplicates"))
    found.append(Finding("dedup_default", "info", dd["line"], data["method"], dd["exact"] + dd["near"],
                         share(dd["exact"] + dd["near"], rows), [], "duplicates"))
    return found
