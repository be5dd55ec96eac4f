"""Small numeric helpers shared by the report sections: percentiles, histograms, intervals.

Everything returns plain Python numbers and lists so a section's result can go
straight into the report's JSON (and the HTML draws only from that JSON).
"""

from __future__ import annotations

import math

import numpy as np

PERCENTILES = (50, 90, 95, 99)
HIST_BINS = 40


def describe(values) -> dict:
    """count, mean, min, p50/p90/p95/p99, max, total of a numeric array (empty -> zeros)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return {"count": 0, "mean": 0.0, "min": 0, "max": 0, "total": 0,
                **{f"p{p}": 0 for p in PERCENTILES}}
    qs = np.percentile(arr, PERCENTILES, method="nearest")
    return {
        "count": int(arr.size),
        "mean": round(float(arr.mean()), 2),
        "min": _num(arr.min()),
        **{f"p{p}": _num(q) for p, q in zip(PERCENTILES, qs)},
        "max": _num(arr.max()),
        "total": _num(arr.sum()),
    }


def histogram(values, bins: int = HIST_BINS, upper: float | None = None) -> dict:
    """Counts over equal-width bins from 0 to about the 99.5th percentile, plus an overflow count.

    A long tail would squash every other bar into one, so values past `upper`
    are counted in `overflow` instead of stretching the axis.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return {"edges": [0.0, 1.0], "counts": [0], "overflow": 0}
    if upper is None:
        upper = float(np.percentile(arr, 99.5))
    upper = max(upper, float(arr.min()) + 1.0, 1.0)
    lower = min(0.0, float(arr.min()))
    counts, edges = np.histogram(arr, bins=bins, range=(lower, upper))
    overflow = int((arr > upper).sum())
    return {"edges": [round(float(e), 3) for e in edges], "counts": counts.astype(int).tolist(),
            "overflow": overflow}


def wilson(successes: int, n: int, population: int | None = None, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (sensible at 0%, 100% and small n).

    With `population`, the finite-population correction narrows it as the
    sample approaches the whole dataset (a census has no sampling error).
    """
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    if population is not None and n >= population:
        return round(p, 4), round(p, 4)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    if population is not None and population > 1:
        half *= math.sqrt((population - n) / (population - 1))
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _num(x):
    x = float(x)
    return int(x) if x.is_integer() else round(x, 2)
