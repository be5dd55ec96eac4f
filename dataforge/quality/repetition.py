"""Repetition: the share of a row's word 3-grams that repeat an earlier 3-gram of the same row.

A model that loops ("I am sorry. I am sorry. I am sorry.") or a scraped page
with its menu pasted five times scores high; ordinary prose stays under a few
per cent. Computed from the hashed n-grams of `ngrams.chunks`, so it costs one
group-by per chunk and no extra pass over the text.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dataforge.quality.findings import Finding, by_rate, plural
from dataforge.quality.stats import describe, histogram, share

FLAG_AT = 0.3  # share of repeated 3-grams
MIN_NGRAMS = 10  # shorter texts repeat by chance ("yes yes yes" is an answer)


def ratios(rows: np.ndarray, hashes: np.ndarray, full: np.ndarray, start: int, count: int) -> np.ndarray:
    """Repetition ratio of rows [start, start + count) of one field (0 for short rows)."""
    out = np.zeros(count, np.float32)
    if len(hashes) == 0:
        return out
    part = pl.DataFrame({"r": rows[full] - start, "h": hashes[full]})
    agg = part.group_by("r").agg(pl.len().alias("n"), pl.col("h").n_unique().alias("u"))
    agg = agg.filter(pl.col("n") >= MIN_NGRAMS)
    r = agg["r"].to_numpy()
    out[r] = 1.0 - agg["u"].to_numpy() / agg["n"].to_numpy()
    return out


def section(frame: pl.DataFrame, answer_fields) -> dict:
    rows = frame.height
    out = {"ngram": 3, "flag_at": FLAG_AT, "min_ngrams": MIN_NGRAMS, "fields": {}}
    for name in answer_fields:
        col = frame[f"{name}__repetition"]
        flagged = frame.filter(col >= FLAG_AT)
        values = col.to_numpy()
        out["fields"][name] = {
            "rows": flagged.height, "share": share(flagged.height, rows),
            "stats": describe(values), "hist": histogram(values, bins=20, upper=1.0),
            "examples": flagged.sort(f"{name}__repetition", descending=True)["id"].head(5).to_list(),
        }
    return out


def findings(data: dict, rows: int) -> list[Finding]:
    found = []
    for name, info in data["fields"].items():
        if info["rows"]:
            found.append(Finding(
                f"repetition:{name}", by_rate(info["rows"], rows, high=0.02, medium=0.002),
                f"repetitive {name} in {plural(info['rows'])}",
                f"{info['rows']:,} rows repeat at least {FLAG_AT:.0%} of their word 3-grams"
                " (looping generations, pasted boilerplate).",
                info["rows"], info["share"], info["examples"], "signals", name))
    return found
