"""Content signals found with regular expressions, per field, in one polars pass.

Refusals and boilerplate in several languages, answers that look cut off,
unbalanced code fences, leftover template placeholders, HTML residue,
personal data (emails, phone numbers, IP addresses) and secret-shaped strings
(API keys, private keys). Patterns are deliberately specific: a report that
cries wolf on every `{x}` in a code sample teaches people to ignore it, so
single-brace placeholders and HTML tags are not counted inside rows that hold
code fences.
"""

from __future__ import annotations

import re

import polars as pl

from dataforge.quality.findings import Finding, by_rate, ids_where, plural
from dataforge.quality.stats import share

_REFUSALS = [
    # en
    r"as an ai(?: language model| assistant| model)?\b", r"i(?:'m| am) (?:sorry|afraid),? but i (?:can(?:no|')t|am unable|won't)",
    r"i can(?:no|')t (?:help|assist|provide|fulfill|comply|answer|do that)",
    r"i(?:'m| am) (?:not able|unable) to (?:help|assist|provide|fulfill|comply)",
    r"i don'?t have (?:personal (?:opinions|experiences|feelings)|access to real-time)", r"my knowledge cut-?off",
    # de, fr, es, it, pt, nl
    r"als (?:ki|künstliche intelligenz|ki-sprachmodell|sprachmodell)\b", r"ich kann (?:ihnen |dir )?(?:dabei )?(?:leider )?nicht (?:helfen|behilflich)",
    r"en tant qu(?:e |')(?:ia|intelligence artificielle|assistant|modèle de langage)", r"je ne peux pas (?:vous aider|t'aider|répondre|fournir)",
    r"como (?:un |una )?(?:modelo de lenguaje|ia\b|inteligencia artificial|asistente de ia)", r"no puedo (?:ayudar|proporcionar|cumplir|responder)",
    r"come (?:un )?(?:modello (?:di )?linguaggio|modello linguistico|intelligenza artificiale)", r"non posso (?:aiutarti|fornire|rispondere)",
    r"como (?:um )?(?:modelo de linguagem|assistente de ia)", r"não posso (?:ajudar|fornecer|responder)",
    r"als (?:een )?(?:ai|taalmodel)\b", r"ik kan (?:je|u) (?:daar )?niet (?:mee )?helpen",
    # ru, zh, ja
    r"как (?:языковая модель|ии(?:[\s.,!?]|$)|искусственный интеллект)", r"я не могу (?:помочь|предоставить|ответить)",
    r"作为(?:一个)?(?:人工智能|ai|语言模型)", r"我(?:无法|不能)(?:提供|帮助|回答|满足)",
    r"ai(?:言語モデル)?として", r"申し訳(?:ありません|ございません)が", r"お答えできません",
]
_BOILERPLATE = [
    r"i hope this helps", r"feel free to (?:ask|reach out)", r"let me know if you (?:have|need) any",
    r"^(?:certainly|sure|absolutely|of course)[!,.] here(?:'s| is| are)", r"great question[!.]",
    r"as of my last (?:knowledge )?update",
]
_SECRETS = {
    "openai_key": r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}",
    "aws_key": r"\bAKIA[0-9A-Z]{16}\b",
    "github_token": r"\bgh[pousr]_[A-Za-z0-9]{30,}",
    "slack_token": r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    "google_key": r"\bAIza[0-9A-Za-z_-]{35}",
    "hf_token": r"\bhf_[A-Za-z0-9]{30,}",
    "private_key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "assigned_secret": r"\b(?i:api[_-]?key|secret|password|passwd|token)\s*[:=]\s*['\"]?[A-Za-z0-9_\-/+]{16,}",
}
# `password: 'your_database_password'`, `api_key = "XXXXXXXXXXXXXXXXXXXX"`: a value that says it is a
# stand-in is documentation, not a leaked secret; such assignments are blanked before the secret check.
_PLACEHOLDER_SECRET = (r"\b(?i:api[_-]?key|secret|password|passwd|token)\s*[:=]\s*['\"]?"
                       r"(?i:[A-Za-z0-9_\-/+]*(?:\byour[_-]|example|sample|change[_-]?me|dummy|placeholder|redacted"
                       r"|fake[_-]|x{4,}|\*{3,}|\.{3})[A-Za-z0-9_\-/+*.]*)")
_PII = {
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",  # minus reserved domains
    "phone": r"(?:\+\d{1,3}[ .-]?)?\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b|\+\d{1,3}(?:[ .-]?\d{2,4}){3,5}\b",
    "ip_address": r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b",
}
_PLACEHOLDER_ALWAYS = (r"\{\{\s*[\w.]+\s*\}\}|\[(?i:insert|your|placeholder|name of)[^\]\n]{0,40}\]"
                       r"|<(?:placeholder|insert)[^>\n]{0,40}>|\bPLACEHOLDER\b|(?i:lorem ipsum)")
_PLACEHOLDER_PROSE = r"(?:^|[^$\w])\{[A-Za-z_][A-Za-z0-9_]{0,30}\}"  # not ${shell}; only in rows without code
# RFC 2606 names (example.com, *.test, ...) are what documentation uses on purpose: not personal data.
_RESERVED_EMAIL = r"(?i)@(?:[\w-]+\.)*(?:example\.(?:com|net|org)|[\w-]+\.(?:example|test|invalid|localhost))\b"
_HTML = (r"</?(?:p|div|span|br|a|b|i|u|em|strong|table|tr|td|th|ul|ol|li|h[1-6]|img|font|sup|sub|blockquote)"
         r"(?:\s[^<>\n]*)?/?>|&(?:nbsp|amp|lt|gt|quot|apos|#\d{2,5}|#x[0-9a-fA-F]{2,4});")
# Cut off: the text ends on a letter, digit, comma, colon, bracket or hyphen, in a long last line
# (not a sign-off such as "Best regards,\nJordan", nor a list item), after a long unfinished
# sentence (not a label such as '"The app crashes.": technical').
_MID_SENTENCE = r"[\p{L}\p{N},;:(\[\-–]$"
_LIST_ITEM = r"^[ \t]*(?:[-*•+]|\d+[.)])\s"
SLICE_ROWS = 50_000  # rows per regex pass (bounds the lower-cased copies of the texts)
CUT_MIN_WORDS = 20
CUT_MIN_LAST_LINE = 40
CUT_MIN_FRAGMENT = 20



def _fast(pattern: str) -> str:
    """ASCII word boundaries: Rust's regex runs a Unicode \\b on its slow engine, 20-40x slower.

    (Patterns never put \\b next to a non-ASCII letter, where the two would differ.)
    """
    return pattern.replace(r"\b", r"(?-u:\b)")


REFUSAL = _fast("(?i)(?:" + "|".join(_REFUSALS) + ")")
BOILERPLATE = _fast("(?im)(?:" + "|".join(_BOILERPLATE) + ")")
SECRET_PY = "|".join(f"(?:{p})" for p in _SECRETS.values())  # Python's re, for masking
SECRET = _fast(SECRET_PY)
_SECRETS = {k: _fast(v) for k, v in _SECRETS.items()}
_PII = {k: _fast(v) for k, v in _PII.items()}
_PLACEHOLDER_ALWAYS = _fast(_PLACEHOLDER_ALWAYS)
_RESERVED_EMAIL = _fast(_RESERVED_EMAIL)
_PLACEHOLDER_SECRET = _fast(_PLACEHOLDER_SECRET)


def _without_placeholder_secrets(col: pl.Expr) -> pl.Expr:
    return col.str.replace_all(_PLACEHOLDER_SECRET, "")

SIGNALS = {  # name -> (title, severity thresholds (high, medium), fields: "answer"|"all")
    "refusal": ("refusal or 'as an AI' phrasing", (0.05, 0.002), "answer"),
    "boilerplate": ("boilerplate phrases ('I hope this helps')", (0.5, 0.1), "answer"),
    "cut_off": ("answer looks cut off", (0.05, 0.005), "answer"),
    "unbalanced_fences": ("unbalanced ``` code fences", (0.02, 0.0), "all"),
    "placeholder": ("leftover template placeholders", (0.02, 0.0), "all"),
    "html": ("HTML tags or entities", (0.05, 0.005), "all"),
    "pii": ("personal data (email, phone, IP address)", (0.05, 0.0), "all"),
    "secret": ("secret-shaped strings (API keys, private keys)", (0.0, 0.0), "all"),
}


def _exprs(name: str, words_col: str | None) -> dict[str, pl.Expr]:
    col = pl.col(name).fill_null("")
    code = col.str.contains("`", literal=True)  # fenced or inline code: braces and entities are legitimate
    out = {
        "refusal": col.str.contains(REFUSAL),
        "boilerplate": col.str.contains(BOILERPLATE),
        "unbalanced_fences": (col.str.count_matches("```", literal=True) % 2) == 1,
        "placeholder": col.str.contains(_PLACEHOLDER_ALWAYS) | (~code & col.str.contains(_PLACEHOLDER_PROSE)),
        "html": ~code & col.str.contains(_HTML),
        "secret": _without_placeholder_secrets(col).str.contains(SECRET),
    }
    for kind, pattern in _PII.items():
        out[f"pii_{kind}"] = col.str.contains(pattern)
    # an address at a reserved domain only counts if another, real-looking one is there too
    out["pii_email"] = out["pii_email"] & (col.str.replace_all(_RESERVED_EMAIL, "@").str.contains(_PII["email"]))
    out["pii"] = pl.any_horizontal([out[f"pii_{k}"] for k in _PII])
    if words_col is not None:
        # ending inside an open code block is cut off whatever the length
        out["cut_off"] = ((pl.col(words_col) >= CUT_MIN_WORDS) & _mid_sentence(col)) | out["unbalanced_fences"]
    return out


def _mid_sentence(col: pl.Expr) -> pl.Expr:
    # Only the end matters: looking at the last 200 characters keeps each regex off the whole text.
    tail = col.str.strip_chars_end().str.tail(200)
    last_line = tail.str.split("\n").list.last().fill_null("")  # (a `[^\n]*$` regex is 4x slower)
    fragment = tail.str.extract(r"([^.!?。！？\n]*)$", 1).fill_null("")
    return (tail.str.tail(1).str.contains(_MID_SENTENCE) & ~last_line.str.contains(_LIST_ITEM)
            & (last_line.str.len_chars() >= CUT_MIN_LAST_LINE) & (fragment.str.len_chars() >= CUT_MIN_FRAGMENT))


def section(frame: pl.DataFrame, fields, answer_fields) -> tuple[dict, pl.DataFrame]:
    """Counts per signal and field, example ids, and a frame of per-row flags (row + flag columns)."""
    exprs = []
    for name in fields:
        words = f"{name}__words" if name in answer_fields else None
        for sig, expr in _exprs(name, words).items():
            if sig in SIGNALS and SIGNALS[sig][2] == "answer" and name not in answer_fields:
                continue
            exprs.append(expr.alias(f"{sig}|{name}"))
    # In slices: each regex works on a lower-cased copy of its column, so a whole 1M-row frame at once
    # held several copies of every text (hundreds of MB); the flags are per row, so slicing changes nothing.
    flags = pl.concat([frame.slice(start, SLICE_ROWS).lazy().select("row", "id", *exprs).collect()
                       for start in range(0, max(frame.height, 1), SLICE_ROWS)])
    rows = frame.height
    data: dict = {"signals": {}, "pii_kinds": {}, "secret_kinds": {}}
    for sig, (title, _, _) in SIGNALS.items():
        cols = [c for c in flags.columns if c.startswith(f"{sig}|")]
        if not cols:
            continue
        anyf = flags.select(pl.any_horizontal(cols)).to_series()
        data["signals"][sig] = {
            "title": title, "rows": int(anyf.sum()), "share": share(int(anyf.sum()), rows),
            "fields": {c.split("|", 1)[1]: int(flags[c].sum()) for c in cols},
            "examples": ids_where(flags, anyf),
        }
    for kind in _PII:
        cols = [c for c in flags.columns if c.startswith(f"pii_{kind}|")]
        data["pii_kinds"][kind] = int(flags.select(pl.any_horizontal(cols)).to_series().sum())
    if data["signals"]["secret"]["rows"]:
        data["secret_kinds"] = _secret_kinds(frame.filter(
            flags.select(pl.any_horizontal([c for c in flags.columns if c.startswith("secret|")])).to_series()),
            fields)
    return data, flags


def _secret_kinds(hits: pl.DataFrame, fields) -> dict:
    out = {}
    for kind, pattern in _SECRETS.items():
        cond = pl.any_horizontal([_without_placeholder_secrets(pl.col(f).fill_null("")).str.contains(pattern)
                                  for f in fields])
        out[kind] = int(hits.select(cond).to_series().sum())
    return {k: v for k, v in out.items() if v}


def categories(frame: pl.DataFrame) -> dict | None:
    """Rows per category (None when no row has one)."""
    cats = frame["category"].fill_null("").str.strip_chars()
    filled = int((cats != "").sum())
    if filled == 0:
        return None
    counts = cats.filter(cats != "").value_counts(sort=True)
    missing = frame.filter(cats == "")["id"].head(5).to_list()
    return {"rows_with_category": filled, "missing": frame.height - filled, "missing_examples": missing,
            "counts": dict(counts.head(50).iter_rows()), "distinct": counts.height}


def findings(data: dict, rows: int, kind: str) -> list[Finding]:
    found = []
    for sig, info in data["signals"].items():
        if not info["rows"]:
            continue
        title, (high, medium), _ = SIGNALS[sig]
        sev = by_rate(info["rows"], rows, high=high, medium=medium)
        per_field = ", ".join(f"{f} {n:,}" for f, n in info["fields"].items() if n)
        detail = f"{plural(info['rows'])} ({info['share']:.1%}): {per_field}."
        if sig == "refusal" and kind == "preference":
            # a refusal as the rejected answer is often the point of the pair; as the chosen one it is not
            chosen = info["fields"].get("chosen", 0)
            sev = by_rate(chosen, rows, high=high, medium=medium) if chosen else "info"
            detail += " Refusals in 'rejected' are often intended; in 'chosen' they teach the model to refuse."
        if sig == "pii":
            detail += " " + ", ".join(f"{k} {v:,}" for k, v in data["pii_kinds"].items() if v) + "."
        if sig == "secret":
            detail += " " + ", ".join(f"{k} {v:,}" for k, v in data["secret_kinds"].items()) + \
                      ". Remove and rotate them; they are masked in this report."
        found.append(Finding(sig, sev, f"{title}: {plural(info['rows'])}", detail, info["rows"], info["share"],
                             info["examples"], "signals"))
    cats = data.get("categories")
    if cats and cats["missing"]:
        found.append(Finding("category_missing", "low", f"{plural(cats['missing'])} without a category",
                             f"{cats['rows_with_category']:,} rows have one of {cats['distinct']} categories.",
                             cats["missing"], share(cats["missing"], rows), cats["missing_examples"], "signals"))
    return found


_SECRET_RE = re.compile(SECRET_PY)


def redact(text: str) -> str:
    """Mask secret-shaped strings (keep 4 characters so a person can find them)."""
    return _SECRET_RE.sub(lambda m: m.group(0)[:4] + "…[redacted]", text)
