"""Language codes: the ones dataforge can translate into and check, and each model family's spelling.

A target is written as an ISO 639-1 code (`es`, `fr`, `de`, `zh`, `zh-tw`).
The supported set is the set langdetect can recognise, because every
translation is checked for its language: a code we cannot check is refused
up front with the list of the ones we can.

Local models spell languages their own way:
- Marian (opus-mt): one pair per model, or a `>>spa<<` / `>>es<<` target token for multi-target models;
- NLLB-200: FLORES-200 codes such as `spa_Latn`, given as the forced first target token;
- M2M-100: `__es__` tokens, the ISO code with `tokenizer.get_lang_id`.
"""

from __future__ import annotations

from dataforge.errors import ConfigError

# code: (English name, NLLB/FLORES-200 code)
LANGUAGES: dict[str, tuple[str, str]] = {
    "af": ("Afrikaans", "afr_Latn"), "ar": ("Arabic", "arb_Arab"), "bg": ("Bulgarian", "bul_Cyrl"),
    "bn": ("Bengali", "ben_Beng"), "ca": ("Catalan", "cat_Latn"), "cs": ("Czech", "ces_Latn"),
    "cy": ("Welsh", "cym_Latn"), "da": ("Danish", "dan_Latn"), "de": ("German", "deu_Latn"),
    "el": ("Greek", "ell_Grek"), "en": ("English", "eng_Latn"), "es": ("Spanish", "spa_Latn"),
    "et": ("Estonian", "est_Latn"), "fa": ("Persian", "pes_Arab"), "fi": ("Finnish", "fin_Latn"),
    "fr": ("French", "fra_Latn"), "gu": ("Gujarati", "guj_Gujr"), "he": ("Hebrew", "heb_Hebr"),
    "hi": ("Hindi", "hin_Deva"), "hr": ("Croatian", "hrv_Latn"), "hu": ("Hungarian", "hun_Latn"),
    "id": ("Indonesian", "ind_Latn"), "it": ("Italian", "ita_Latn"), "ja": ("Japanese", "jpn_Jpan"),
    "kn": ("Kannada", "kan_Knda"), "ko": ("Korean", "kor_Hang"), "lt": ("Lithuanian", "lit_Latn"),
    "lv": ("Latvian", "lvs_Latn"), "mk": ("Macedonian", "mkd_Cyrl"), "ml": ("Malayalam", "mal_Mlym"),
    "mr": ("Marathi", "mar_Deva"), "ne": ("Nepali", "npi_Deva"), "nl": ("Dutch", "nld_Latn"),
    "no": ("Norwegian", "nob_Latn"), "pa": ("Punjabi", "pan_Guru"), "pl": ("Polish", "pol_Latn"),
    "pt": ("Portuguese", "por_Latn"), "ro": ("Romanian", "ron_Latn"), "ru": ("Russian", "rus_Cyrl"),
    "sk": ("Slovak", "slk_Latn"), "sl": ("Slovenian", "slv_Latn"), "so": ("Somali", "som_Latn"),
    "sq": ("Albanian", "als_Latn"), "sv": ("Swedish", "swe_Latn"), "sw": ("Swahili", "swh_Latn"),
    "ta": ("Tamil", "tam_Taml"), "te": ("Telugu", "tel_Telu"), "th": ("Thai", "tha_Thai"),
    "tl": ("Tagalog", "tgl_Latn"), "tr": ("Turkish", "tur_Latn"), "uk": ("Ukrainian", "ukr_Cyrl"),
    "ur": ("Urdu", "urd_Arab"), "vi": ("Vietnamese", "vie_Latn"), "zh": ("Chinese (Simplified)", "zho_Hans"),
    "zh-tw": ("Chinese (Traditional)", "zho_Hant"),
}
# Spellings people use that mean one of the codes above.
ALIASES = {"zh-cn": "zh", "zh-hans": "zh", "zh-hant": "zh-tw", "nb": "no", "iw": "he", "fil": "tl",
           "pt-br": "pt", "pt-pt": "pt", "en-us": "en", "en-gb": "en", "es-419": "es", "es-es": "es"}
# ISO 639-3 spellings (Marian multi-target tokens like >>spa<<) that differ from the FLORES prefix.
_ISO3 = {"zh": "zho", "zh-tw": "zho", "ar": "ara", "fa": "fas", "lv": "lav", "no": "nor", "ne": "nep",
         "sq": "sqi", "sw": "swa"}


def normalize(code: str) -> str:
    """Lower-case, `_` to `-`, aliases resolved; '' stays ''."""
    code = code.strip().lower().replace("_", "-")
    return ALIASES.get(code, code)


def supported_list() -> str:
    return ", ".join(sorted(LANGUAGES))


def check_lang(code: str, what: str = "--to") -> str:
    """The normalized code, or ConfigError listing every supported code."""
    norm = normalize(code)
    if norm not in LANGUAGES:
        raise ConfigError(f"{what}: unknown language code '{code}'",
                          f"use ISO 639-1 codes; supported: {supported_list()}")
    return norm


def parse_targets(spec: str | list[str] | tuple[str, ...]) -> list[str]:
    """'es,fr,de' (or a list) -> ['es', 'fr', 'de'], each checked, duplicates removed."""
    items = spec.split(",") if isinstance(spec, str) else [p for s in spec for p in str(s).split(",")]
    codes = [check_lang(c) for c in items if c.strip()]
    if not codes:
        raise ConfigError("no target language given", "e.g. --to es,fr,de")
    return list(dict.fromkeys(codes))


def parse_mix(spec: str) -> dict[str, float]:
    """'es=0.3,fr=0.2' -> {'es': 0.3, 'fr': 0.2}; ratios in (0, 1] summing to at most 1."""
    out: dict[str, float] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        code, sep, ratio = item.partition("=")
        try:
            value = float(ratio)
        except ValueError:
            value = -1.0
        if not sep or not 0 < value <= 1:
            raise ConfigError(f"--mix: '{item.strip()}' is not LANG=RATIO with a ratio in (0, 1]",
                              "e.g. --mix es=0.3,fr=0.2 (the rest stays in the source language)")
        out[check_lang(code, "--mix")] = value
    if not out:
        raise ConfigError("--mix is empty", "e.g. --mix es=0.3,fr=0.2")
    if sum(out.values()) > 1 + 1e-9:
        raise ConfigError(f"--mix ratios add up to {sum(out.values()):.2f}, more than 1",
                          "each row goes into one language; lower the ratios")
    return out


def name(code: str) -> str:
    return LANGUAGES[code][0] if code in LANGUAGES else code


def nllb_code(code: str) -> str:
    return LANGUAGES[code][1]


def m2m_code(code: str) -> str:
    return "zh" if code == "zh-tw" else code


def marian_tokens(code: str) -> list[str]:
    """Candidate Marian target tokens for a language, most specific first."""
    iso3 = _ISO3.get(code, LANGUAGES[code][1].split("_")[0])
    out = [f">>{iso3}<<", f">>{code}<<"]
    if code == "zh-tw":
        out.insert(0, ">>cmn_Hant<<")
    if code == "zh":
        out.insert(0, ">>cmn_Hans<<")
    return out
