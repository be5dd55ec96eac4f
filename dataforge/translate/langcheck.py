"""Is this text in the language we asked for? langdetect, made deterministic and careful.

langdetect samples n-grams at random, so its seed is fixed (same text, same
answer, every run). Protected spans (code, URLs, placeholders) are removed
before detection, because code reads as English to it. Texts with fewer
than `min_letters` (40) letters left are not judged at all: langdetect guesses
wildly on a few words, and a wrong rejection costs a good row.

    >>> detect_lang("Esta es una frase bastante larga escrita en español.")
    'es'
"""

from __future__ import annotations

import re
import threading

from dataforge.translate.langs import normalize
from dataforge.translate.protect import find_spans

# Below this many letters langdetect is unreliable: on sample_data, 20-letter English texts such as
# "How do vaccines prevent disease?" came out Dutch. 40 cut false rejections from 23 to 8 (most of
# those 8 are rows whose declared lang is wrong).
MIN_LETTERS = 40
# langdetect averages `n_trial` random walks (default 7); 3 gives the same top language on 808 of
# the 810 sample_data texts with 40+ letters at 40% of the CPU, and the check runs on every field.
N_TRIAL = 3
# A target that langdetect ranks this likely is accepted even when a close language
# (es/pt/ca/gl, hr/sr/bs, da/no, id/ms) edges it out on a short text.
ACCEPT_PROB = 0.2
SEED = 0
# langdetect samples n-grams from the text; the first 1,200 characters are plenty, and reading
# further only costs time (its n-gram extraction is a third of its cost on long answers).
MAX_CHARS = 1200

_lock = threading.Lock()
_ready = False


def _factory():
    global _ready
    from langdetect import detector_factory
    from langdetect.detector_factory import DetectorFactory

    with _lock:
        if not _ready:
            DetectorFactory.seed = SEED
            detector_factory.init_factory()
            _ready = True
    return detector_factory._factory


def prose_of(text: str) -> str:
    """The text without its protected spans (what detection should look at)."""
    spans = find_spans(text)
    if not spans:
        return text
    parts, pos = [], 0
    for start, end, _ in spans:
        parts.append(text[pos:start])
        pos = end
    parts.append(text[pos:])
    return " ".join(parts)


_LETTER = re.compile(r"[^\W\d_]")


def letters(text: str) -> int:
    return len(_LETTER.findall(text))


def _code(lang: str) -> str:
    return normalize(lang)


def detect_probs(text: str, min_letters: int = MIN_LETTERS) -> list[tuple[str, float]]:
    """[(code, probability), ...] best first; [] when the text is too short to judge."""
    prose = prose_of(text)
    if letters(prose) < min_letters:
        return []
    from langdetect.lang_detect_exception import LangDetectException

    factory = _factory()
    detector = factory.create()
    detector.seed = SEED  # the factory's seed is read at create(); keep it even if someone reset it
    detector.n_trial = N_TRIAL
    detector.max_text_length = MAX_CHARS
    detector.append(prose)
    try:
        found = detector.get_probabilities()
    except LangDetectException:
        return []
    return [(_code(p.lang), p.prob) for p in found]


def detect_lang(text: str, min_letters: int = MIN_LETTERS) -> str:
    """The most likely language code, or '' when the text is too short or unrecognisable."""
    probs = detect_probs(text, min_letters)
    return probs[0][0] if probs else ""


def _same(detected: str, target: str) -> bool:
    if detected == target:
        return True
    # Simplified/Traditional Chinese are told apart unreliably; either counts as Chinese.
    return {detected, target} <= {"zh", "zh-tw"}


def wrong_language(text: str, target: str, min_letters: int = MIN_LETTERS) -> str | None:
    """None when `text` is in `target` (or too short to tell); else the language detected instead."""
    probs = detect_probs(text, min_letters)
    if not probs:
        return None
    if any(_same(code, target) and (i == 0 or prob >= ACCEPT_PROB) for i, (code, prob) in enumerate(probs)):
        return None
    return probs[0][0]


def source_language(texts: list[str], declared: str = "", min_letters: int = MIN_LETTERS) -> str:
    """A row's language: its declared `lang` when it has one, else detected from all its texts."""
    if declared:
        return normalize(declared)
    return detect_lang("\n".join(t for t in texts if t), min_letters)
