"""Deduplication: exact, near-duplicate (MinHash LSH on datatrove's stages) and decontamination.

    >>> from dataforge.dedup import dedup
    >>> summary = dedup(["train.jsonl"], "clean.jsonl", threshold=0.8, keep="longest")  # doctest: +SKIP
    >>> print(summary.line())                                                        # doctest: +SKIP

Modules: `text` (normalisation, tokens, shingles), `keys` (--key, --keep, the
near-duplicate settings: the one definition of a duplicate), `bands`
(threshold -> buckets x hashes), `decont` (evaluation overlap), `prepare`
(the one read of the inputs), `minhash` (datatrove stages), `executors`
(local / Slurm / Ray), `resolve` (keep rules, similarity check, same
prompt), `finalize` (write), `run` (`dedup()`), `find` (the same decisions
in memory, for `report`).

The names below are imported on first use: `dataforge.dedup.keys` (used by the
CLI's option defaults and by `report`) must not pull in datatrove.
"""

from __future__ import annotations

import importlib

_LAZY = {"Bands": "bands", "bands_for": "bands", "choose_bands": "bands", "detection_probability": "bands",
         "EXECUTORS": "executors", "ExecutorOptions": "executors", "DedupSummary": "run", "dedup": "run"}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'dataforge.dedup' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"dataforge.dedup.{_LAZY[name]}"), name)
    globals()[name] = value
    return value
