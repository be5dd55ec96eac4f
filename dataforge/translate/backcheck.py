"""Back-check: translate back to the source language and score how much meaning survived.

chrF (character n-gram F-score, sacrebleu) of the back-translation against
the original is a cheap, language-agnostic round-trip signal: a translation
that dropped a sentence or answered the instruction instead of translating it
comes back far from the original. Protected spans are left out of the score,
because they come back identical by construction and would inflate it.

    >>> round(chrf("The cat sat on the mat.", "The cat sat on the mat."), 1)
    100.0
"""

from __future__ import annotations

from dataforge.errors import ConfigError
from dataforge.translate.langcheck import prose_of

DEFAULT_MIN_CHRF = 0.0

_metric = None


def _chrf():
    global _metric
    if _metric is None:
        from sacrebleu.metrics import CHRF

        _metric = CHRF()
    return _metric


def chrf(hypothesis: str, reference: str) -> float:
    """Sentence-level chrF in 0..100 (100: identical)."""
    if not hypothesis.strip() and not reference.strip():
        return 100.0
    return float(_chrf().sentence_score(hypothesis, [reference]).score)


def row_score(originals: dict[str, str], back: dict[str, str]) -> float:
    """chrF of the back-translated fields against the originals, prose only, fields joined."""
    keys = [k for k in originals if k in back]
    ref = "\n".join(prose_of(originals[k]) for k in keys)
    hyp = "\n".join(prose_of(back[k]) for k in keys)
    return round(chrf(hyp, ref), 2)


def check_min_chrf(value: float | None, backcheck: bool) -> float | None:
    if value is None:
        return None
    if not 0 <= value <= 100:
        raise ConfigError(f"--min-chrf {value} is outside 0..100", "chrF is a score from 0 to 100, e.g. --min-chrf 45")
    if not backcheck:
        raise ConfigError("--min-chrf needs --backcheck", "add --backcheck to score each row by its round trip")
    return value
