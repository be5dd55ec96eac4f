"""The language of a text: its script first, langdetect only among the languages of that script.

    >>> identify("识别并解释给定列表中的两个科学理论。").lang
    'zh'
    >>> identify("Esta es una frase bastante larga escrita en español.").lang
    'es'

1. The script that carries most of the letters is found (`scripts.py`). Han
   without Hangul or kana is Chinese, never Korean; kana means Japanese;
   Hangul means Korean; Thai, Greek, Hebrew, Armenian, Georgian, Bengali,
   Tamil and the other one-language scripts decide by themselves. These need
   only `MIN_SCRIPT_CHARS` characters: no word or character floor for
   scripts written without spaces.
2. Latin, Cyrillic, Arabic and Devanagari texts go to langdetect with only
   that script's profiles loaded (so Latin text is never called Korean, and
   Arabic script is only ever ar/fa/ur). Such a text needs `MIN_LETTERS`
   letters, and an answer less sure than `CONFIDENT` is "unknown", not a guess.
3. An answer is `sure` when the script decided it, or langdetect gave it at
   least `SURE` on `SURE_LETTERS` letters or more and the text's function
   words agree: at least `words.MIN_WORDS` words, and more function words of
   that language than of any other (`words.agrees`). Not disagreeing is not
   enough: "connective tissue connective" has no function word at all, and
   langdetect's "French, 100%" on it is no evidence. Only sure answers are
   acted on: a report's language mismatch, a row's own wrapper language in
   `format --lang auto`, a rejected translation.

Only the first `PREFIX` characters are read (after code blocks, inline code,
URLs, e-mail addresses and special-token markup such as `<|endoftext|>` are
removed: code reads as English, "endoftext" as Swedish). Quoted and bracketed
spans are left out when enough is left without them (`spans.unquoted`): an
English question about a quoted Spanish review is English. Punctuation
and digits stay: langdetect ignores them itself, and removing them joins
words that were apart. langdetect samples at random; its seed is fixed, so a
text gets the same answer in every run and process. Answers are cached.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass

from dataforge.langid.scripts import CJK, SCRIPTS, cjk_language, dominant, script_counts
from dataforge.langid.spans import strip_markup, unquoted
from dataforge.langid.words import agrees

SEED = 0
PREFIX = 400  # characters looked at
MIN_SCRIPT_CHARS = 2  # a script that decides the language alone: characters of it
MIN_LETTERS = 12  # Latin, Cyrillic, Arabic, Devanagari: letters langdetect needs to say anything
CONFIDENT = 0.5  # langdetect probability (the share of its random walks that agree) needed for an answer
SURE = 0.9  # ... and with the function words not against it, sure enough to act on
SURE_LETTERS = 20  # ... on at least this many letters ("IronyQueen_Sarah" is no evidence of Indonesian)
N_TRIAL = 7  # langdetect's random walks averaged (its default)
NOT_LANGS = ("empty", "too short", "unknown")

_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`|https?://\S+|\S+@\S+", re.S)
# Letters only one language of the script has, among those we name (Serbian is not in langdetect).
_HINTS = {"c": (("ђ", "ћ", "Ђ", "Ћ"), "sr")}


@dataclass(frozen=True)
class Guess:
    """What the detector found. `lang` is '' unless `status` is "ok"."""

    lang: str
    prob: float
    script: str  # ISO 15924 code of the script that carries the text ('' if it has no letters)
    status: str  # "ok", or one of NOT_LANGS
    how: str = ""  # "script", "langdetect" or "" (nothing decided)
    candidates: tuple[tuple[str, float], ...] = ()  # langdetect's ranking, best first
    sure: bool = False  # see the module docstring, step 3

    @property
    def label(self) -> str:
        """The language, or why there is none ("empty", "too short", "unknown")."""
        return self.lang if self.status == "ok" else self.status


def prose(text: str, prefix: int = PREFIX) -> str:
    """The part of `text` that is looked at: code and links removed, then cut to `prefix` characters."""
    head = text[:prefix * 3]
    if "`" in head or "@" in head or "http" in head:
        head = _CODE.sub(" ", head)
    return strip_markup(head)[:prefix]


def identify(text: str, prefix: int = PREFIX) -> Guess:
    """The language of `text` (see the module docstring for how)."""
    if not text or text.isspace():
        return Guess("", 0.0, "", "empty")
    return _identify(prose(text, prefix))


@functools.lru_cache(maxsize=8192)
def _identify(text: str) -> Guess:
    head, counts, key, n = _own_words(text)
    if not key:
        return Guess("", 0.0, "", "unknown")  # digits, symbols, emoji: no language to find
    script = SCRIPTS[key]
    if key in CJK or len(script.langs) == 1:
        if n < MIN_SCRIPT_CHARS:
            return Guess("", 0.0, script.code, "too short")
        lang = cjk_language(counts) if key in CJK else script.langs[0]
        return Guess(lang, 1.0, script.code, "ok", "script", sure=True)
    hint = _HINTS.get(key)
    if hint and any(ch in head for ch in hint[0]):
        return Guess(hint[1], 1.0, script.code, "ok", "script", sure=True)
    if n < MIN_LETTERS:
        return Guess("", 0.0, script.code, "too short")
    ranked = _langdetect(key, head)
    if not ranked:
        return Guess("", 0.0, script.code, "unknown")
    lang, prob = ranked[0]
    if prob < CONFIDENT:
        return Guess("", prob, script.code, "unknown", "langdetect", ranked)
    sure = prob >= SURE and n >= SURE_LETTERS and agrees(head, lang)
    return Guess(lang, prob, script.code, "ok", "langdetect", ranked, sure)


def _own_words(text: str):
    """(text, script counts, dominant script key, its letters) of `text` without its quoted and bracketed
    spans -- or of the whole text when too little is left without them (a text that is only a quote)."""
    counts = script_counts(text)
    key, n = dominant(counts)
    bare = unquoted(text)
    if key and bare != text:
        bare_counts = script_counts(bare)
        bare_key, bare_n = dominant(bare_counts)
        floor = MIN_SCRIPT_CHARS if bare_key in CJK or (bare_key and len(SCRIPTS[bare_key].langs) == 1) \
            else MIN_LETTERS
        if bare_key and bare_n >= floor:
            return bare, bare_counts, bare_key, bare_n
    return text, counts, key, n


def probabilities(text: str, prefix: int = PREFIX) -> list[tuple[str, float]]:
    """[(language, probability), ...] best first, whatever the confidence; [] when nothing can be said."""
    guess = identify(text, prefix)
    if guess.candidates:
        return list(guess.candidates)
    return [(guess.lang, guess.prob)] if guess.status == "ok" else []


# ----- langdetect, one factory per script -------------------------------------------------------
_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def _factory(key: str):
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    profiles = []
    for lang in SCRIPTS[key].langs:
        path = os.path.join(PROFILES_DIRECTORY, lang)
        if os.path.exists(path):  # a language named only through a hint has no profile
            with open(path, encoding="utf-8") as f:
                profiles.append(f.read())
    try:
        factory.load_json_profile(profiles)
    except Exception as exc:
        # langdetect turns every exception while loading (Ctrl-C too) into "Profile format error":
        # give an interrupt back as the interrupt it was, so the CLI exits 130 without a traceback
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise
    factory.seed = SEED
    return factory


def _langdetect(key: str, head: str) -> list[tuple[str, float]]:
    from langdetect.lang_detect_exception import LangDetectException

    with _lock:  # the first call loads the profiles; later ones only read the cache
        factory = _factory(key)
    detector = factory.create()
    detector.seed = SEED
    detector.n_trial = N_TRIAL
    detector.set_max_text_length(len(head))
    detector.append(head)
    try:
        found = detector.get_probabilities()
    except LangDetectException:  # no n-gram of the script's languages at all
        return []
    return [(g.lang, round(g.prob, 4)) for g in found]
