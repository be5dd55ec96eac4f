"""Checks for preference pairs (prompt, chosen, rejected) before DPO or reward-model training.

- chosen identical to rejected, or nearly (difflib character similarity >= 0.9): no signal;
- empty chosen or rejected;
- length bias: the share of pairs whose chosen answer is longer, and the mean
  length ratio (a reward model learns "longer is better" from a biased set);
- repeated prompts, and contradictory pairs (A over B and B over A for one prompt).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dataforge.quality.findings import Finding, by_rate, ids_where, plural
from dataforge.quality.ngrams import normalized
from dataforge.quality.stats import describe, share, wilson

NEAR = 0.9  # character similarity (difflib ratio) of chosen and rejected
NEAR_MIN_CHARS = 30  # "7 × 8 = 56." vs "= 54." is a sharp preference, not a near-copy
PREFILTER = 0.5  # word-set Jaccard a pair needs before the (slow, exact) character comparison
BIAS_AT = 0.65  # chosen longer in >= 65% (or <= 35%) of pairs
SCATTER_POINTS = 2000


def section(frame: pl.DataFrame) -> dict:
    rows = frame.height
    c, r = pl.col("chosen").fill_null(""), pl.col("rejected").fill_null("")
    wc, wr = (normalized(x).str.split(" ").list.set_difference([""]) for x in (c, r))
    jac = (wc.list.set_intersection(wr).list.len() / wc.list.set_union(wr).list.len())
    both = ~pl.col("chosen__blank") & ~pl.col("rejected__blank")
    flags = frame.lazy().select(
        "row", "id", "chosen__chars", "rejected__chars", both.alias("both"),
        (both & (c.str.strip_chars() == r.str.strip_chars())).alias("identical"),
        (both & (c.str.strip_chars() != r.str.strip_chars()) & (jac >= PREFILTER)
         & (pl.min_horizontal("chosen__chars", "rejected__chars") >= NEAR_MIN_CHARS)).alias("near"),
        pl.col("chosen__blank").alias("empty_chosen"), pl.col("rejected__blank").alias("empty_rejected"),
    ).collect()
    flags = _confirm_near(frame, flags)
    pairs = flags.filter(pl.col("both"))
    lc = pairs["chosen__chars"].to_numpy().astype(np.float64)
    lr = pairs["rejected__chars"].to_numpy().astype(np.float64)
    longer, shorter = int((lc > lr).sum()), int((lc < lr).sum())
    n = len(lc)
    ratio = lc / np.maximum(lr, 1)
    log_ratio = np.log2(np.maximum(lc, 1) / np.maximum(lr, 1))
    low, high = wilson(longer, n)
    pick = np.random.default_rng(0).choice(n, min(n, SCATTER_POINTS), replace=False) if n else np.array([], int)
    # the pairs that show the bias most: chosen much longer (or, if the bias runs the other way, shorter)
    order = np.argsort(-log_ratio if longer >= shorter else log_ratio, kind="stable")[:5]
    extreme = pairs["id"].gather(order).to_list() if n else []
    out = {
        "pairs": rows, "compared": n,
        "identical": _count(flags, "identical"), "near_identical": _count(flags, "near"),
        "empty_chosen": _count(flags, "empty_chosen"), "empty_rejected": _count(flags, "empty_rejected"),
        "length_bias": {
            "chosen_longer": longer, "chosen_shorter": shorter, "equal": n - longer - shorter,
            "share_chosen_longer": share(longer, n), "low": low, "high": high,
            "mean_ratio": round(float(ratio.mean()), 3) if n else None,
            "median_ratio": round(float(np.median(ratio)), 3) if n else None,
            "log2_ratio": describe(log_ratio), "log2_ratio_hist": _symmetric_hist(log_ratio),
            "extreme_examples": extreme,
            "scatter": {"chosen": lc[pick].astype(int).tolist(), "rejected": lr[pick].astype(int).tolist(),
                        "points": int(len(pick))},
        },
    }
    out.update(_prompts(frame))
    return out


def _confirm_near(frame: pl.DataFrame, flags: pl.DataFrame) -> pl.DataFrame:
    """Keep as near-identical only the candidates whose characters are >= NEAR similar."""
    import difflib

    cand = frame.filter(flags["near"]).select("row", "chosen", "rejected")
    keep = set()
    for row, a, b in cand.iter_rows():
        a, b = a.strip()[:4000], b.strip()[:4000]
        m = difflib.SequenceMatcher(None, a, b, autojunk=False)
        if m.real_quick_ratio() >= NEAR and m.quick_ratio() >= NEAR and m.ratio() >= NEAR:
            keep.add(row)
    return flags.with_columns((pl.col("near") & pl.col("row").is_in(list(keep))).alias("near"))


def _symmetric_hist(values: np.ndarray) -> dict:
    """Histogram of log2(chosen/rejected) on [-4, 4], with both tails counted apart."""
    if len(values) == 0:
        return {"edges": [-4.0, 4.0], "counts": [0], "below": 0, "overflow": 0}
    counts, edges = np.histogram(values, bins=32, range=(-4.0, 4.0))
    return {"edges": [round(float(e), 3) for e in edges], "counts": counts.astype(int).tolist(),
            "below": int((values < -4).sum()), "overflow": int((values > 4).sum())}


def _count(flags: pl.DataFrame, col: str) -> dict:
    mask = flags[col]
    n = int(mask.sum())
    return {"count": n, "share": share(n, flags.height), "examples": ids_where(flags, mask)}


def _prompts(frame: pl.DataFrame) -> dict:
    prompt = pl.concat_str([pl.col("instruction").fill_null("").str.strip_chars(),
                            pl.col("context").fill_null("").str.strip_chars()], separator="\x1f").hash()
    keyed = frame.lazy().select(
        "id", prompt.alias("p"),
        pl.col("chosen").fill_null("").str.strip_chars().hash().alias("c"),
        pl.col("rejected").fill_null("").str.strip_chars().hash().alias("r")).collect()
    groups = keyed.filter(pl.col("p").is_duplicated()).group_by("p").agg(pl.len().alias("n"), pl.col("id"))
    flipped = keyed.join(keyed.select("p", pl.col("c").alias("r"), pl.col("r").alias("c"),
                                      pl.col("id").alias("other")), on=["p", "c", "r"], how="inner")
    flipped = flipped.filter(pl.col("c") != pl.col("r"))
    return {
        "repeated_prompts": {"prompts": groups.height, "pairs": int(groups["n"].sum()),
                             "share": share(int(groups["n"].sum()), frame.height),
                             "examples": [i for ids in groups.sort("n", descending=True)["id"].head(2).to_list()
                                          for i in ids[:3]]},
        "contradictory": {"pairs": flipped.height, "share": share(flipped.height, frame.height),
                          "examples": flipped["id"].head(5).to_list()},
    }


def findings(data: dict, rows: int) -> list[Finding]:
    found = []
    for key, sev, title, why in (
        ("identical", "high", "chosen identical to rejected", "the pair carries no preference at all"),
        ("near_identical", "medium", "chosen nearly identical to rejected",
         f"at least {NEAR:.0%} of the characters match: a weak or accidental preference"),
    ):  # empty chosen/rejected are reported with the other empty fields
        info = data[key]
        if info["count"]:
            found.append(Finding(f"preference_{key}", sev, f"{title} in {plural(info['count'], 'pair')}",
                                 f"{why}.", info["count"], info["share"], info["examples"], "preference"))
    lb = data["length_bias"]
    s = lb["share_chosen_longer"]
    if lb["chosen_longer"] + lb["chosen_shorter"] >= 10 and (s >= BIAS_AT or s <= 1 - BIAS_AT):
        found.append(Finding(
            "length_bias", "medium" if abs(s - 0.5) < 0.3 else "high",
            f"length bias: chosen is {'longer' if s >= 0.5 else 'shorter'} in {max(s, 1 - s):.0%} of pairs",
            f"chosen longer in {lb['chosen_longer']:,} of {data['compared']:,} pairs ({s:.1%}, 95% CI"
            f" {lb['low']:.1%}–{lb['high']:.1%}); mean length ratio {lb['mean_ratio']}. A reward model can learn"
            " length instead of quality. Examples: the most lopsided pairs.", lb["chosen_longer"], s,
            lb["extreme_examples"], "preference"))
    con = data["contradictory"]
    if con["pairs"]:
        found.append(Finding("preference_contradictory", "high", f"{plural(con['pairs'], 'contradictory pair')}",
                             "the same prompt has A preferred over B and B over A.", con["pairs"], con["share"],
                             con["examples"], "preference"))
    rep = data["repeated_prompts"]
    if rep["prompts"]:
        found.append(Finding("preference_repeated_prompts", by_rate(rep["pairs"], rows, high=2.0, medium=0.5, low="info"),
                             f"{rep['prompts']:,} prompts have several pairs",
                             f"{rep['pairs']:,} pairs share a prompt with another pair (fine for ranked data;"
                             " split train/eval by prompt).", rep["pairs"], rep["share"], rep["examples"],
                             "preference"))
    return found
