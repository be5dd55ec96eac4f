"""From a similarity threshold to MinHash LSH bands: how many buckets, how many hashes each.

Two texts with Jaccard similarity s share all r hashes of one bucket with
probability s**r, so with b buckets they become candidates with probability

    P(s) = 1 - (1 - s**r) ** b

Candidates are then checked against the threshold with their exact shingle
Jaccard similarity, so a pair the buckets let through by mistake costs only
time, while a pair they miss is lost for good. The chooser therefore asks
for a high detection probability at the threshold itself (`recall`, 0.98 by
default) and, among the (b, r) that reach it within the hash budget, takes
the one that lets through the fewest dissimilar pairs (smallest area under
P below the threshold).

    >>> p = choose_bands(0.8)
    >>> (p.buckets, p.hashes_per_bucket)
    (18, 7)
    >>> round(p.probability(0.8), 3)
    0.986
"""

from __future__ import annotations

from dataclasses import dataclass

from dataforge.errors import ConfigError

DEFAULT_MAX_HASHES = 128
DEFAULT_RECALL = 0.98


def detection_probability(s: float, buckets: int, hashes_per_bucket: int) -> float:
    """Probability that a pair with Jaccard similarity `s` shares at least one bucket."""
    return 1.0 - (1.0 - s ** hashes_per_bucket) ** buckets


@dataclass(frozen=True)
class Bands:
    buckets: int
    hashes_per_bucket: int
    threshold: float

    @property
    def num_hashes(self) -> int:
        return self.buckets * self.hashes_per_bucket

    def probability(self, s: float) -> float:
        return detection_probability(s, self.buckets, self.hashes_per_bucket)

    def table(self) -> list[tuple[float, float]]:
        """(similarity, detection probability) at a few levels around the threshold."""
        t = self.threshold
        levels = sorted({round(x, 2) for x in (t - 0.2, t - 0.1, t - 0.05, t, t + 0.05, t + 0.1)
                         if 0.0 < x <= 1.0})
        return [(s, self.probability(s)) for s in levels]

    def describe(self) -> str:
        cells = "  ".join(f"{s:.2f}: {p:.1%}" for s, p in self.table())
        return (f"MinHash LSH: {self.buckets} buckets x {self.hashes_per_bucket} hashes"
                f" ({self.num_hashes} hashes); chance a pair becomes a candidate, by similarity: {cells}")


def check_threshold(threshold: float) -> float:
    if not isinstance(threshold, (int, float)) or not 0.0 < float(threshold) <= 1.0:
        raise ConfigError(f"--threshold {threshold} is outside (0, 1]",
                          "give a Jaccard similarity such as 0.8 (1.0 means identical shingles)")
    return float(threshold)


def _fp_area(buckets: int, r: int, t: float, steps: int = 100) -> float:
    # Midpoint rule over [0, t]: the share of dissimilar pairs that become candidates.
    h = t / steps
    return sum(detection_probability((i + 0.5) * h, buckets, r) for i in range(steps)) * h


def choose_bands(threshold: float, max_hashes: int = DEFAULT_MAX_HASHES,
                 recall: float = DEFAULT_RECALL) -> Bands:
    """The (buckets, hashes per bucket) for `threshold` within `max_hashes` hashes in all."""
    t = check_threshold(threshold)
    if max_hashes < 1:
        raise ConfigError(f"the hash budget must be at least 1 (got {max_hashes})")
    best, best_key = None, None
    for r in range(1, max_hashes + 1):
        b = max_hashes // r  # more buckets only add recall; the budget caps them
        p = detection_probability(t, b, r)
        # reach the recall first; then fewest false candidates; else as close to the recall as possible
        key = (0, _fp_area(b, r, t)) if p >= recall else (1, -p)
        if best_key is None or key < best_key:
            best, best_key = (b, r), key
    return Bands(best[0], best[1], t)


def bands_for(threshold: float, buckets: int | None = None, hashes_per_bucket: int | None = None,
              max_hashes: int = DEFAULT_MAX_HASHES) -> Bands:
    """The user's buckets/hashes where given, the chosen ones otherwise."""
    t = check_threshold(threshold)
    for name, value in (("--buckets", buckets), ("--hashes-per-bucket", hashes_per_bucket)):
        if value is not None and value < 1:
            raise ConfigError(f"{name} must be at least 1 (got {value})")
    if buckets and hashes_per_bucket:
        return Bands(buckets, hashes_per_bucket, t)
    if buckets:  # spend the budget on rows per bucket
        return Bands(buckets, max(1, max_hashes // buckets), t)
    if hashes_per_bucket:
        return Bands(max(1, max_hashes // hashes_per_bucket), hashes_per_bucket, t)
    return choose_bands(t, max_hashes)
