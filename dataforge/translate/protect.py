"""Protection: hide what must not be translated behind numbered tokens, then put it back.

Code, URLs, e-mail addresses, template placeholders and markup tags are cut
out of the text before it is sent and replaced by tokens `⟦1⟧`, `⟦2⟧`, ...;
the translator sees only the prose around them. `restore` puts every span
back and *verifies* the reply: each token must come back exactly once, no
unknown token may appear, and the reply may not invent a placeholder of its
own (a `{nombre}` where the source had `{name}`).

    >>> m = mask("Run `make test`, then open {url}.")
    >>> m.text
    'Run ⟦1⟧, then open ⟦2⟧.'
    >>> restore("Ejecuta ⟦1⟧ y abre ⟦2⟧.", m)
    'Ejecuta `make test` y abre {url}.'
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field

# One alternative per protected kind; at one start position the first listed wins,
# so a URL inside a fenced block belongs to the block.
_KINDS: list[tuple[str, str]] = [
    # ``` or ~~~ fence to its closing fence (or the end of the text, as Markdown does)
    ("code block", r"^[ \t]*(?P<fq>`{3,}|~{3,})[^\n]*\n(?s:.*?)(?:^[ \t]*(?P=fq)[`~]*[ \t]*$|\Z)"),
    ("markup comment", r"<!--(?s:.*?)-->"),
    ("inline code", r"```[^\n]+?```|``[^\n]+?``|`[^`\n]+`"),
    ("URL", r"\b(?:https?|ftp)://[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}]|\bwww\.[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}]"),
    ("e-mail", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    ("placeholder", r"\{\{[^\n]*?\}\}|\{%[^\n]*?%\}|\{#[^\n]*?#\}|#\{[^}\n]*\}"),
    ("placeholder", r"\{(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\w+\])*|\d+)?(?:![rsa])?(?::[^{}\n]*)?\}"),
    ("placeholder", r"(?<!%)%(?:\([A-Za-z_]\w*\))?[-+#0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[sdifuxXoeEgGcr](?![A-Za-z])"),
    ("placeholder", r"\$\{[^}\n]+\}|\$[A-Za-z_]\w*"),
    ("markup tag", r"</?[A-Za-z][\w:.-]*(?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'<>=`]+))*\s*/?>"),
]
_PATTERN = re.compile("|".join(f"(?P<k{i}>{rx})" for i, (_, rx) in enumerate(_KINDS)), re.MULTILINE)
_GROUP_KIND = {f"k{i}": kind for i, (kind, _) in enumerate(_KINDS)}

TOKEN_OPEN, TOKEN_CLOSE = "⟦", "⟧"
_TOKEN = re.compile(r"⟦\s*(\d+)\s*⟧")
TOKEN_PATTERN = _TOKEN  # what a ⟦n⟧ token looks like in a reply (spaces inside are forgiven)
_BRACKETS = re.compile("[⟦⟧]")
_WORD = re.compile(r"(?<![\\\w])[^\W\d_]{2,}")
# Kinds whose invention by the translator means it rewrote something it should have kept.
_STRICT_KINDS = {"placeholder", "inline code", "code block", "markup tag"}


class ProtectionError(ValueError):
    """A reply lost, duplicated or invented a protected span; `reason` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Span:
    kind: str
    text: str


@dataclass(slots=True)
class Masked:
    """The text with tokens in place of protected spans; spans[i] is token ⟦i+1⟧."""

    source: str
    text: str
    spans: list[Span] = field(default_factory=list)

    @property
    def has_prose(self) -> bool:
        """True when a word (two letters or more, not a regex escape like \\d) is left outside the spans."""
        return _WORD.search(_TOKEN.sub(" ", self.text)) is not None

    def pieces(self) -> list[str | int]:
        """The masked text split into prose strings and span indexes (for segment mode)."""
        out: list[str | int] = []
        pos = 0
        for m in _TOKEN.finditer(self.text):
            if m.start() > pos:
                out.append(self.text[pos:m.start()])
            out.append(int(m.group(1)) - 1)
            pos = m.end()
        if pos < len(self.text):
            out.append(self.text[pos:])
        return out


def token(i: int) -> str:
    """The token standing for span index i (0-based)."""
    return f"{TOKEN_OPEN}{i + 1}{TOKEN_CLOSE}"


def find_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every protected span, left to right, never overlapping."""
    out = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _PATTERN.search(text, pos)
        if m is None:
            break
        start, end = m.span()
        kind = _GROUP_KIND[m.lastgroup] if m.lastgroup in _GROUP_KIND else _kind_of(m)
        if kind == "URL":
            end = _balance_paren(text, start, end)
        if end == start:  # never loop on an empty match
            pos += 1
            continue
        out.append((start, end, kind))
        pos = end
    return out


def _kind_of(m: re.Match) -> str:
    # lastgroup is the innermost closed group (e.g. the fence's `fq`); find the outer one.
    for name, kind in _GROUP_KIND.items():
        if m.group(name) is not None:
            return kind
    raise AssertionError("a match with no kind")


def _balance_paren(text: str, start: int, end: int) -> int:
    # Wikipedia-style URLs end in ')': keep it when the URL opened one itself.
    url = text[start:end]
    while end < len(text) and text[end] == ")" and url.count("(") > url.count(")"):
        end += 1
        url = text[start:end]
    return end


def mask(text: str) -> Masked:
    """Replace every protected span with a numbered token (source tokens are escaped as spans too)."""
    spans: list[Span] = []
    parts: list[str] = []
    pos = 0
    for start, end, kind in _with_stray_brackets(text, find_spans(text)):
        parts.append(text[pos:start])
        parts.append(token(len(spans)))
        spans.append(Span(kind, text[start:end]))
        pos = end
    parts.append(text[pos:])
    return Masked(text, "".join(parts), spans)


def _with_stray_brackets(text: str, spans: list[tuple[int, int, str]]):
    # A source that itself contains ⟦ or ⟧ would confuse restore: protect those characters too.
    if TOKEN_OPEN not in text and TOKEN_CLOSE not in text:
        return spans
    covered = [(s, e) for s, e, _ in spans]
    extra = [(m.start(), m.end(), "bracket") for m in _BRACKETS.finditer(text)
             if not any(s <= m.start() < e for s, e in covered)]
    return sorted(spans + extra)


def restore(translated: str, masked: Masked) -> str:
    """Put the spans back into a translated masked text; raise ProtectionError if any was broken."""
    counts = collections.Counter(int(i) for i in _TOKEN.findall(translated))
    n = len(masked.spans)
    for i in range(1, n + 1):
        if counts[i] == 0:
            raise ProtectionError(f"lost protected {_describe(masked.spans[i - 1])}")
        if counts[i] > 1:
            raise ProtectionError(f"repeated protected {_describe(masked.spans[i - 1])} ({counts[i]} times)")
    unknown = sorted(i for i in counts if not 1 <= i <= n)
    if unknown:
        raise ProtectionError(f"unknown token in the reply: {token(unknown[0] - 1)}")
    prose = _TOKEN.split(translated)[::2]  # split() also yields the captured numbers: skip them
    if not any(s.kind == "bracket" for s in masked.spans) and any(_BRACKETS.search(p) for p in prose):
        raise ProtectionError("broken token: a protected-span token came back damaged")
    _check_invented(prose, masked)
    return _TOKEN.sub(lambda m: _put_back(m, masked), translated)


def _put_back(m: re.Match, masked: Masked) -> str:
    span = masked.spans[int(m.group(1)) - 1]
    if span.kind != "code block":
        return span.text
    # A fence only works on lines of its own; a model may have put the token mid-sentence.
    text, start, end = m.string, m.start(), m.end()
    before = "" if start == 0 or text[start - 1] == "\n" else "\n"
    after = "" if end == len(text) or text[end] == "\n" else "\n"
    return before + span.text + after


def _check_invented(prose: list[str], masked: Masked) -> None:
    # A placeholder, code or tag in the reply's own text (outside the tokens) that the source
    # never had was rewritten from a protected span: `{nombre}` for `{name}`.
    for piece in prose:
        for start, end, kind in find_spans(piece):
            found = piece[start:end]
            if kind in _STRICT_KINDS and found not in masked.source:
                raise ProtectionError(f"invented {kind} {_short(found)} that the source does not have"
                                      " (a protected span was altered)")


def _describe(span: Span) -> str:
    return f"{span.kind} {_short(span.text)}"


def _short(text: str, limit: int = 40) -> str:
    text = text.replace("\n", "⏎")
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")

