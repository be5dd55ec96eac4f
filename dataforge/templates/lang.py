"""Which language's wrapper texts a record gets.

`--lang xx` forces one language. `--lang auto` uses the record's `lang` field
and, when that is empty, the language of its prompt -- but only when that is
sure, so that monolingual data never gets stray wrapper languages:

- the dataset's main language is decided first, from the first rows (`prime`): the
  language of at least half of them (a mixed dataset has none);
- a row whose script decides its language (Chinese, Japanese, Korean, Thai,
  Greek, ...) gets that language -- unless the main language carries a fair
  part of it (`MAIN_SHARE`): a Chinese instruction followed by English
  examples, or one that quotes a Japanese sentence, stays Chinese;
- a Latin (Cyrillic, Arabic, Devanagari) row that reads as the main language
  by its function words gets it at once, with no langdetect call (the fast
  path: most rows of most datasets);
- so does a row that reads as the main language once its quoted and
  bracketed spans are left out (an English question about a quoted Spanish
  review);
- any other row goes to the shared detector (`dataforge.langid`) and gets its
  own language only when the detector is sure (which, for languages with a
  function-word list, means the function words confirm it); otherwise the
  main language.

A language the template has no texts for falls back to English; every
fallback is counted so the summary can say how many rows it hit.
"""

from __future__ import annotations

import collections
import functools

from dataforge.errors import ConfigError
from dataforge.langid import identify, script_counts, words
from dataforge.langid.detector import MIN_SCRIPT_CHARS
from dataforge.langid.scripts import CJK, SCRIPTS, cjk_language, dominant
from dataforge.langid.spans import strip_markup, unquoted
from dataforge.templates.pack import Pack

FALLBACK = "en"
# ISO 639-1 codes langdetect knows plus a few common ones it lacks; anything
# else passed to --lang is a typo, not a language.
_EXTRA_CODES = {"eu", "gl", "is", "ga", "ms", "hy", "ka", "kk", "uz", "az", "be", "sr", "bs", "mt", "lb",
                "am", "my", "km", "lo", "si", "ps", "ku", "yo", "ig", "ha", "zu", "xh", "eo", "la", "mn"}
_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "nb": "no", "nn": "no", "zh-cn": "zh", "zh-tw": "zh"}


@functools.lru_cache(maxsize=1)
def known_codes() -> frozenset[str]:
    try:
        import os

        from langdetect.detector_factory import PROFILES_DIRECTORY

        codes = {normalize(c) for c in os.listdir(PROFILES_DIRECTORY)}
    except Exception:  # pragma: no cover - langdetect is a dependency; stay usable without it
        codes = set()
    return frozenset(codes | _EXTRA_CODES | {"en"})


def normalize(code: str) -> str:
    """'en-US' -> 'en', 'pt_BR' -> 'pt', 'zh-Hans' -> 'zh', 'iw' -> 'he'."""
    code = (code or "").strip().lower().replace("_", "-")
    if code in _ALIASES:
        return _ALIASES[code]
    base = code.split("-", 1)[0]
    return _ALIASES.get(base, base)


MIN_DETECT_CHARS = 20  # kept for callers; the detector itself decides what is too short
# A row in a Latin (Cyrillic, Arabic, Devanagari) script gets a language other than the dataset's
# main one only on this much evidence when that language has no function-word list.
SWITCH_LETTERS = 40
# A row stays in the main language when the main language's part weighs at least this share of the part
# in the row's own script (a Han character weighs three Latin letters): a Chinese task statement followed
# by English examples is a Chinese row.
MAIN_SHARE = 1 / 3
PRIME_ROWS = 200  # rows of the first batch that vote for the dataset's main language
MAIN_MIN_SHARE = 0.5  # ... and the share of their votes it needs to be the main language
PRIME_DETECT = 40  # of those, at most this many may need the full (slow) detector
PREFIX = 300  # characters of a row that are looked at


def detect(text: str) -> str | None:
    """The language of `text` (normalized code) when the shared detector is sure of it, else None."""
    guess = identify(text or "")
    return normalize(guess.lang) if guess.sure else None


def check_lang_option(lang: str) -> str:
    """Validate --lang: 'auto' or a language code; unknown codes are an error."""
    if not lang:
        return "auto"
    if lang == "auto":
        return lang
    code = normalize(lang)
    if len(code) < 2 or code not in known_codes():
        raise ConfigError(f"unknown language '{lang}'",
                          "use --lang auto or a two-letter ISO 639-1 code such as en, es, fr, de, zh, ja, ar, hi")
    return code


class LanguageChooser:
    """Picks each record's language and the pack's strings in it, counting what happened."""

    def __init__(self, pack: Pack, lang: str = "auto"):
        self.pack = pack
        self.mode = check_lang_option(lang)
        self.reset()
        if FALLBACK not in pack.languages and pack.multilingual:
            raise ConfigError(f"template '{pack.name}' has no English texts ({FALLBACK}.yaml)",
                              "every pack needs en.yaml, the fallback for languages it lacks")

    def reset(self) -> None:
        """Forget the counts and the main language: a new dataset (formatters are reused across calls)."""
        self.used: collections.Counter[str] = collections.Counter()
        self.fallbacks: collections.Counter[str] = collections.Counter()  # asked-for lang -> rows
        self.main: str | None = None  # the dataset's main language (`prime`)
        self._primed = False
        self.declared = 0  # rows whose `lang` field decided
        self.detected = 0  # rows whose text decided
        self.undetected = 0  # rows given the main language (or English) because the text did not decide

    def prime(self, records) -> None:
        """Decide the dataset's main language from the first records, before any of them is formatted."""
        if self.mode != "auto" or not self.pack.multilingual or self._primed:
            return
        self._primed = True
        records = list(records)
        step = max(1, len(records) // PRIME_ROWS)
        votes: collections.Counter[str] = collections.Counter()
        slow = 0
        for record in records[::step][:PRIME_ROWS]:
            if getattr(record, "lang", ""):
                votes[normalize(record.lang)] += 1
                continue
            text = _sample_text(record)
            lang = _by_script(text)
            if lang is None and slow < PRIME_DETECT:
                by_words = words.scores(text).most_common(2)
                if by_words and by_words[0][1] >= words.MIN_HITS and (
                        len(by_words) == 1 or by_words[0][1] > by_words[1][1]):
                    lang = by_words[0][0]
                else:
                    slow += 1
                    lang = detect(text)
            if lang:
                votes[lang] += 1
        # A main language is one most rows share: a deliberately mixed dataset (seven languages, none
        # over half) has none, and each row is judged on its own evidence.
        top = votes.most_common(1)
        self.main = top[0][0] if top and top[0][1] >= MAIN_MIN_SHARE * sum(votes.values()) else None

    def wanted(self, record) -> str:
        if self.mode != "auto":
            return self.mode
        if getattr(record, "lang", ""):
            self.declared += 1
            return normalize(record.lang)
        prompt = _sample_text(record, with_answer=False)
        found = self._from_text(prompt)
        if found is None and self.main is None and len(prompt) < 2 * MIN_DETECT_CHARS:
            # no main language to fall back on: a short prompt ("Hi") may be told by its answer
            found = self._from_text(_sample_text(record))
        if found is None:
            self.undetected += 1
            return self.main or FALLBACK
        self.detected += 1
        return found

    def _from_text(self, text: str) -> str | None:
        """The row's own language when its text decides it, else None (the caller uses the main language)."""
        text = strip_markup(text)
        if not text.isascii():  # ASCII is Latin script or nothing: no need to count scripts
            lang = _by_script(text, self.main)
            if lang is not None:
                return lang or None
        toks = words.tokens(text)
        if not toks:
            return None
        counts = words.count(toks)
        main = self.main
        if main and words.confirmed(counts, main):
            return main  # the fast path: no langdetect
        if main and words.confirms(unquoted(text), main):
            return main  # its own words are the main language; the quote is someone else's
        if _cannot_switch(toks, counts, main):
            return None  # no other language could win here (see `_supported`): no need to ask langdetect
        guess = identify(text)
        if guess.status == "ok" and normalize(guess.lang) == main:
            return main
        if guess.sure and _supported(toks, counts, guess.lang):
            return normalize(guess.lang)
        if main:
            return None  # another language than the main one only when sure
        # no main language to fall back on: langdetect hesitates between close languages, and the
        # function words may pick one of its first two
        for code, _prob in guess.candidates[:2]:
            if code in words.WORDS and words.confirmed(counts, code):
                return normalize(code)
        return normalize(guess.lang) if guess.status == "ok" else None

    def choose(self, record) -> tuple[str, dict[str, str]]:
        """(language used, wrapper strings) for this record."""
        if not self.pack.multilingual:  # nothing to translate: no need to detect anything
            lang = (normalize(getattr(record, "lang", "")) if self.mode == "auto" else self.mode) or FALLBACK
            self.used[lang] += 1
            return lang, {}
        want = self.wanted(record)
        strings = self.pack.languages.get(want)
        if strings is None:
            self.fallbacks[want] += 1
            want, strings = FALLBACK, self.pack.languages[FALLBACK]
        self.used[want] += 1
        return want, strings

    def fixed(self) -> tuple[str, dict] | None:
        """(language, strings) when --lang forces one language for every row, else None."""
        if self.mode == "auto":
            return None
        if not self.pack.multilingual:
            return self.mode, {}
        if self.mode in self.pack.languages:
            return self.mode, self.pack.languages[self.mode]
        return FALLBACK, self.pack.languages[FALLBACK]

    def count_fixed(self, n: int) -> None:
        """Count n rows that went through `fixed()` (what choose() counts one row at a time)."""
        if not n:
            return
        lang, _ = self.fixed()
        self.used[lang] += n
        if self.pack.multilingual and self.mode != lang:
            self.fallbacks[self.mode] += n

    def warnings(self) -> list[str]:
        out = []
        for lang, n in sorted(self.fallbacks.items(), key=lambda kv: -kv[1]):
            out.append(f"{n:,} row(s) in '{lang}' used English wrapper texts: template '{self.pack.name}'"
                       f" has no {lang}.yaml")
        if self.undetected:
            used = f"the main language, {self.main}" if self.main else "English"
            out.append(f"{self.undetected:,} row(s) had no lang field and no detectable language; used {used}")
        return out

    def note(self) -> str:
        """How --lang auto chose, for the summary line after the language counts."""
        if self.mode != "auto" or not self.pack.multilingual:
            return ""
        parts = []
        if self.declared:
            parts.append(f"{self.declared:,} from the lang field")
        if self.detected:
            parts.append(f"{self.detected:,} detected")
        if self.undetected:
            parts.append(f"{self.undetected:,} undetected, given {self.main or FALLBACK}")
        return "auto: " + ", ".join(parts) if parts else ""


def _supported(toks: list[str], counts, lang: str) -> bool:
    """A sure langdetect answer is taken when the text has a function word of it (or, for a language
    without a list, enough letters): "Name three fruits." alone is no evidence of French."""
    if lang in words.WORDS:
        return counts.get(lang, 0) >= 1
    return sum(map(len, toks)) >= SWITCH_LETTERS


def _cannot_switch(toks: list[str], counts, main: str | None) -> bool:
    """True when no other language has the function words a switch would need: none at all in a short
    text, or at most one (and no more than the main language has) in a text with a word of the main one."""
    mine = counts.get(main, 0) if main else 0
    others = max((n for lang, n in counts.items() if lang != main), default=0)
    if others == 0 and sum(map(len, toks)) < SWITCH_LETTERS:
        return True
    return mine >= 1 and others <= 1 and mine >= others


def _by_script(text: str, main: str | None = None) -> str | None:
    """The language when the script alone decides it; '' for no letters at all; None when the script
    has several languages (Latin, Cyrillic, Arabic, Devanagari) or too few characters. When the main
    language's script comes close (a Chinese instruction quoting an English sentence), the main language."""
    counts = script_counts(text)
    key, n = dominant(counts)
    if not key:
        return ""
    if main and not _writes(key, main) and _fair_share(counts, key, main):
        return main
    if key in CJK or len(SCRIPTS[key].langs) == 1:
        if n < MIN_SCRIPT_CHARS:
            return None
        lang = cjk_language(counts) if key in CJK else SCRIPTS[key].langs[0]
        if main and key in CJK and lang != main and main in SCRIPTS["H"].langs and _cjk_lines(text, main):
            return main
        return lang
    return None


def _writes(key: str, lang: str) -> bool:
    return lang in SCRIPTS["H"].langs if key in CJK else lang in SCRIPTS[key].langs


def _weight(counts, key: str) -> int:
    return sum(counts[c] * SCRIPTS[c].weight for c in CJK) if key in CJK else counts[key] * SCRIPTS[key].weight


def _fair_share(counts, key: str, main: str) -> bool:
    """The main language's script weighs at least `MAIN_SHARE` of the script that carries the text."""
    mine = max((_weight(counts, k) for k in counts if _writes(k, main)), default=0)
    return mine >= MAIN_SHARE * _weight(counts, key)


def _cjk_lines(text: str, main: str) -> bool:
    """Chinese, Japanese and Korean share Han: judged line by line, the lines in the main language hold at
    least `MAIN_SHARE` of the CJK characters (a Chinese task that quotes a Japanese sentence on its own line)."""
    total = mine = 0
    for line in text.splitlines():
        counts = script_counts(line)
        cjk = sum(counts[c] for c in CJK)
        if cjk:
            total += cjk
            mine += cjk if cjk_language(counts) == main else 0
    return mine >= MAIN_SHARE * total


def _sample_text(record, with_answer: bool = True) -> str:
    """The text whose language the wrapper should match: the prompt side, and the answer if the prompt is short."""
    if hasattr(record, "messages"):
        return " ".join(m["content"] for m in record.messages
                        if m.get("role") == "user" and isinstance(m.get("content"), str))[:PREFIX]
    text = f"{record.instruction} {record.context}".strip()
    if with_answer and len(text) < 2 * MIN_DETECT_CHARS:
        answer = getattr(record, "output", "") or getattr(record, "chosen", "")
        text = f"{text} {answer if isinstance(answer, str) else ''}"
    return text[:PREFIX]
