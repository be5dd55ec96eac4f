"""Deduplication: exact, near-duplicate (MinHash LSH on datatrove's stages) and decontamination.

    >>> from dataforge.dedup import dedup
    >>> summary = dedup(["train.jsonl"], "clean.jsonl", threshold=0.8, keep="longest")  # doctest: +SKIP
    >>> print(summary.line())                                                        # doctest: +SKIP

Modules: `text` (normalisation, tokens, shingles), `keys` (--key, --keep),
`bands` (threshold -> buckets x hashes), `decont` (evaluation overlap),
`prepare` (the one read of the inputs), `minhash` (datatrove stages),
`executors` (local / Slurm / Ray), `resolve` (keep rules, similarity check),
`finalize` (write), `run` (`dedup()`).
"""

from dataforge.dedup.bands import Bands, bands_for, choose_bands, detection_probability
from dataforge.dedup.executors import EXECUTORS, ExecutorOptions
from dataforge.dedup.run import DedupSummary, dedup

__all__ = ["Bands", "bands_for", "choose_bands", "detection_probability", "EXECUTORS", "ExecutorOptions",
           "DedupSummary", "dedup"]
