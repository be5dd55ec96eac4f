"""Per-field emptiness and lengths (characters, words, tokens) with percentiles and histograms.

Distributions are over the non-empty values of a field; empty and
whitespace-only values are counted on their own, because "12 outputs are
empty" is a finding while "the median context is empty" is only noise.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dataforge.quality.findings import Finding, ids_where, plural
from dataforge.quality.frame import with_sliced_columns
from dataforge.quality.stats import describe, histogram, share

REQUIRED = {"instruction", "output", "chosen", "rejected"}  # context may be empty
UNITS = ("chars", "words", "tokens")
TOP_LANGS = 6
MIN_LANG_ROWS = 20  # a language's own histogram needs this many rows to be more than noise


def add_char_columns(frame: pl.DataFrame, fields) -> pl.DataFrame:
    """`<field>__chars`, `<field>__bytes` and `<field>__blank` (empty or whitespace-only)."""
    exprs = []
    for name in fields:
        col = pl.col(name).fill_null("")
        exprs += [col.str.len_chars().cast(pl.UInt32).alias(f"{name}__chars"),
                  col.str.len_bytes().cast(pl.UInt32).alias(f"{name}__bytes"),
                  (col.str.strip_chars().str.len_bytes() == 0).alias(f"{name}__blank")]
    return with_sliced_columns(frame, exprs)


def section(frame: pl.DataFrame, fields, token_note: str) -> dict:
    """Per field: empty / whitespace-only counts and the distribution of each length unit."""
    rows = frame.height
    out = {"token_source": token_note, "fields": {}}
    for name in fields:
        blank = frame[f"{name}__blank"]
        empty = int((frame[f"{name}__chars"] == 0).sum())
        blank_n = int(blank.sum())
        filled = frame.select([f"{name}__{unit}" for unit in UNITS]).filter(~blank)  # not the texts: no copy of them
        info = {
            "rows": rows, "empty": empty, "whitespace_only": blank_n - empty, "filled": rows - blank_n,
            "filled_share": share(rows - blank_n, rows), "blank": blank_n, "blank_share": share(blank_n, rows),
            "empty_examples": ids_where(frame, blank),
        }
        for unit in UNITS:
            values = filled[f"{name}__{unit}"].to_numpy()
            info[unit] = describe(values)
            info[f"{unit}_hist"] = histogram(values)
        out["fields"][name] = info
    return out


def by_language(frame: pl.DataFrame, fields, labels: pl.DataFrame, section_data: dict) -> dict:
    """Character histograms per field for the most common languages, on the rows with a label.

    `labels` has columns row, lang (from the language sample); bins are shared
    with the all-rows histogram so the shapes can be compared.
    """
    out: dict = {}
    if labels.height == 0:
        return out
    # (the frame has a "lang" column of its own: the declared language)
    joined = frame.join(labels.rename({"lang": "detected"}), on="row", how="inner")
    counts = (labels.filter(~pl.col("lang").is_in(["unknown", "too short", "empty"]))["lang"]
              .value_counts(sort=True).filter(pl.col("count") >= MIN_LANG_ROWS).head(TOP_LANGS))
    top = counts["lang"].to_list()
    if len(top) < 2:  # one language: its histogram is the all-rows one
        return out
    for name in fields:
        edges = section_data["fields"][name]["chars_hist"]["edges"]
        per = {}
        for lang in top:
            values = joined.filter((pl.col("detected") == lang) & ~pl.col(f"{name}__blank"))[f"{name}__chars"]
            if values.len() < MIN_LANG_ROWS:
                continue
            arr = values.to_numpy()
            counts, _ = np.histogram(arr, bins=np.asarray(edges))
            per[lang] = {"rows": int(arr.size), "counts": counts.astype(int).tolist(),
                         "overflow": int((arr > edges[-1]).sum()), "median": describe(arr)["p50"]}
        if per:
            out[name] = per
    return out


def findings(data: dict, rows: int) -> list[Finding]:
    found = []
    for name, info in data["fields"].items():
        blank = info["empty"] + info["whitespace_only"]
        if blank == 0:
            continue
        if info["filled"] == 0:
            if name in REQUIRED:
                found.append(Finding(
                    f"field_all_empty:{name}", "high", f"'{name}' is empty in every row",
                    f"All {rows:,} rows have an empty or whitespace-only {name}; nothing can be learned from it"
                    " (is the column mapped? try --map).", blank, 1.0, info["empty_examples"], "fields", name))
            else:
                found.append(Finding(f"field_all_empty:{name}", "info", f"no row has a {name}",
                                     f"'{name}' is empty in all {rows:,} rows.", blank, 1.0, [], "fields", name))
            continue
        if name not in REQUIRED:
            continue
        detail = (f"{info['empty']:,} empty and {info['whitespace_only']:,} whitespace-only values;"
                  " a trainer learns nothing (or learns to say nothing) from them.")
        found.append(Finding(f"empty:{name}", "high", f"empty {name} in {plural(blank)}", detail, blank,
                             share(blank, rows), info["empty_examples"], "fields", name))
    return found
