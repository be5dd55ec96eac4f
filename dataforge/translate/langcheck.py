"""Is this text in the language we asked for? The shared detector (`dataforge.langid`), used carefully.

The script is looked at first (a Chinese translation is never "Korean", a
Russian one is judged only among Cyrillic languages), then langdetect with a
fixed seed (same text, same answer, every run). Protected spans (code, URLs,
placeholders) are removed before detection, because code reads as English to
it. Texts with fewer than `min_letters` (40) letters left are not judged at
all: a wrong rejection costs a good row.

    >>> detect_lang("Esta es una frase bastante larga escrita en español.")
    'es'
"""

from __future__ import annotations

import re

from dataforge.langid import identify
from dataforge.translate.langs import normalize
from dataforge.translate.protect import find_spans

# Below this many letters langdetect is unreliable: on sample_data, 20-letter English texts such as
# "How do vaccines prevent disease?" came out Dutch. 40 cut false rejections from 23 to 8 (most of
# those 8 are rows whose declared lang is wrong).
MIN_LETTERS = 40
# A target that langdetect ranks this likely is accepted even when a close language
# (es/pt/ca/gl, hr/sr/bs, da/no, id/ms) edges it out on a short text.
ACCEPT_PROB = 0.2
# The first 1,200 characters are plenty, and reading further only costs time.
MAX_CHARS = 1200


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


def _guess(text: str, min_letters: int):
    prose = prose_of(text)
    if letters(prose) < min_letters:
        return None
    return identify(prose, MAX_CHARS)


def _ranked(guess) -> list[tuple[str, float]]:
    if guess is None:
        return []
    if guess.candidates:  # langdetect's ranking, kept even when the vote was split
        return [(_code(code), prob) for code, prob in guess.candidates]
    return [(_code(guess.lang), guess.prob)] if guess.status == "ok" else []


def detect_probs(text: str, min_letters: int = MIN_LETTERS) -> list[tuple[str, float]]:
    """[(code, probability), ...] best first; [] when the text is too short to judge."""
    return _ranked(_guess(text, min_letters))


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
    """None when `text` is in `target` (or too short, or the detector not sure); else the language found."""
    guess = _guess(text, min_letters)
    probs = _ranked(guess)
    if not probs:
        return None
    if any(_same(code, target) and (i == 0 or prob >= ACCEPT_PROB) for i, (code, prob) in enumerate(probs)):
        return None
    if not guess.sure:  # a split vote, or function words that disagree: not enough to reject a row
        return None
    return probs[0][0]


def source_language(texts: list[str], declared: str = "", min_letters: int = MIN_LETTERS) -> str:
    """A row's language: its declared `lang` when it has one, else detected from all its texts."""
    if declared:
        return normalize(declared)
    return detect_lang("\n".join(t for t in texts if t), min_letters)
