"""Which writing system a text is in, counted in one C-speed pass.

Every character is mapped to a one-letter script code with `str.translate`
(a 64k-entry table built once), then counted with `collections.Counter`.
Digits, punctuation, spaces and symbols map to nothing. Characters beyond
the Basic Multilingual Plane (emoji, rare CJK) are left out.

Each script names the languages that can be written in it: the detector
never reports a language outside the script's list, and for most scripts the
list has one language, so the script alone decides.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass


@dataclass(frozen=True)
class Script:
    code: str  # ISO 15924
    langs: tuple[str, ...]  # languages written in it; one language = the script decides
    weight: int = 1  # letters worth one Latin letter; a Han character carries about a word


# one-letter key -> Script. langdetect tells apart the languages of Latn, Cyrl, Arab and Deva.
SCRIPTS: dict[str, Script] = {
    "l": Script("Latn", ("af", "ca", "cs", "cy", "da", "de", "en", "es", "et", "fi", "fr", "hr", "hu", "id", "it",
                         "lt", "lv", "nl", "no", "pl", "pt", "ro", "sk", "sl", "so", "sq", "sv", "sw", "tl", "tr",
                         "vi")),
    "c": Script("Cyrl", ("bg", "mk", "ru", "uk", "sr")),
    "a": Script("Arab", ("ar", "fa", "ur")),
    "d": Script("Deva", ("hi", "mr", "ne")),
    "g": Script("Grek", ("el",)),
    "y": Script("Armn", ("hy",)),
    "h": Script("Hebr", ("he",)),
    "b": Script("Beng", ("bn",)),
    "u": Script("Guru", ("pa",)),
    "j": Script("Gujr", ("gu",)),
    "o": Script("Orya", ("or",)),
    "t": Script("Taml", ("ta",)),
    "e": Script("Telu", ("te",)),
    "k": Script("Knda", ("kn",)),
    "m": Script("Mlym", ("ml",)),
    "s": Script("Sinh", ("si",)),
    "T": Script("Thai", ("th",)),
    "L": Script("Laoo", ("lo",)),
    "B": Script("Tibt", ("bo",)),
    "M": Script("Mymr", ("my",)),
    "K": Script("Geor", ("ka",)),
    "E": Script("Ethi", ("am",)),
    "X": Script("Khmr", ("km",)),
    "V": Script("Thaa", ("dv",)),
    # Chinese, Japanese and Korean are decided together (see `cjk_language`)
    "H": Script("Hani", ("zh", "ja", "ko"), 3),
    "J": Script("Kana", ("ja",), 3),
    "G": Script("Hang", ("ko",), 3),
}
CJK = "HJG"

_RANGES = {
    "l": ["AZ", "az", "\u00c0\u00d6", "\u00d8\u00f6", "\u00f8\u024f", "\u1e00\u1eff", "\uff21\uff3a", "\uff41\uff5a"],
    "c": ["\u0400\u0482", "\u048a\u052f", "\u1c80\u1c8f", "\ua640\ua66e"],
    "a": ["\u0620\u064a", "\u066e\u06d3", "\u06fa\u06ff", "\u0750\u077f", "\u08a0\u08ff", "\ufb50\ufdfb",
          "\ufe70\ufefc", "\u064b\u065f"],
    "d": ["\u0900\u0963", "\u0971\u097f"],
    "g": ["\u0386\u0386", "\u0388\u03ff", "\u1f00\u1ffe"],
    "y": ["\u0531\u0556", "\u0561\u0587"],
    "h": ["\u0591\u05c7", "\u05d0\u05f2", "\ufb1d\ufb4f"],
    "b": ["\u0980\u09e3", "\u09f0\u09f1"],
    "u": ["\u0a00\u0a65", "\u0a70\u0a7f"],
    "j": ["\u0a80\u0ae5", "\u0af0\u0aff"],
    "o": ["\u0b00\u0b65", "\u0b70\u0b7f"],
    "t": ["\u0b80\u0be5", "\u0bf0\u0bff"],
    "e": ["\u0c00\u0c65", "\u0c70\u0c7f"],
    "k": ["\u0c80\u0ce5", "\u0cf0\u0cff"],
    "m": ["\u0d00\u0d65", "\u0d70\u0d7f"],
    "s": ["\u0d80\u0de5", "\u0df0\u0dff"],
    "T": ["\u0e01\u0e4e"],
    "L": ["\u0e80\u0ecf", "\u0edc\u0eff"],
    "B": ["\u0f00\u0f1f", "\u0f2a\u0fff"],
    "M": ["\u1000\u103f", "\u1050\u109f"],
    "K": ["\u10a0\u10ff", "\u1c90\u1cbf", "\u2d00\u2d2f"],
    "E": ["\u1200\u137f"],
    "X": ["\u1780\u17dd"],
    "V": ["\u0780\u07b1"],
    # U+30FB "・" separates names in Chinese too: not evidence of Japanese
    "J": ["\u3041\u309f", "\u30a0\u30fa", "\u30fc\u30ff", "\u31f0\u31ff", "\uff66\uff9f"],
    "H": ["\u3400\u4dbf", "\u4e00\u9fff", "\uf900\ufaff", "\u3005\u3007"],
    "G": ["\u1100\u11ff", "\u3131\u318e", "\ua960\ua97f", "\uac00\ud7af", "\ud7b0\ud7ff"],
}


def _table() -> str:
    cells = [" "] * 0x10000
    for key, ranges in _RANGES.items():
        for span in ranges:
            for point in range(ord(span[0]), ord(span[1]) + 1):
                cells[point] = key
    for point in (0x00d7, 0x00f7):  # × and ÷ sit inside the Latin-1 letters
        cells[point] = " "
    return "".join(cells)


_TABLE = _table()


def script_counts(text: str) -> collections.Counter:
    """{script key: characters of that script} for `text`."""
    counts = collections.Counter(text.translate(_TABLE))
    counts.pop(" ", None)
    for key in [k for k in counts if k not in SCRIPTS]:  # characters past U+FFFF pass through unmapped
        del counts[key]
    return counts


def dominant(counts: collections.Counter) -> tuple[str, int]:
    """(script key, letters) of the script that carries most of the text; CJK scripts count together."""
    best, best_weight = "", 0
    cjk = sum(counts[k] for k in CJK)
    for key, n in counts.items():
        if key in CJK:
            continue
        if n * SCRIPTS[key].weight > best_weight:
            best, best_weight = key, n * SCRIPTS[key].weight
    if cjk * 3 > best_weight:
        return "H", cjk
    return best, counts.get(best, 0)


def cjk_language(counts: collections.Counter) -> str:
    """Han without Hangul or kana is Chinese; kana means Japanese; Hangul means Korean.

    "Means" as a share of the CJK characters, not a single one: Japanese prose
    is a third or more kana (37% at the least among the evaluation sentences),
    while a Chinese text that quotes a Japanese band name is not Japanese. So
    kana (or Hangul) must be at least a fifth of the CJK characters.
    """
    han, kana, hangul = counts.get("H", 0), counts.get("J", 0), counts.get("G", 0)
    total = han + kana + hangul
    if hangul > kana and hangul * 5 >= total:
        return "ko"
    if kana and kana * 5 >= total:
        return "ja"
    if han:
        return "zh"
    return "ko" if hangul else "ja"


def languages_of(script_code: str) -> tuple[str, ...]:
    """The languages a script (ISO 15924 code) can be written in, as the detector knows them."""
    return next((s.langs for s in SCRIPTS.values() if s.code == script_code), ())
