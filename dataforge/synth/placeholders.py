"""Replies that repeat the prompt instead of answering it: its example, its placeholders, its text.

A prompt that shows the reply's form (`[{"question": "...", "answer": "..."}]`,
`Instruction: <the instruction>`) invites a weak model, or a server that echoes
its input, to send that form back unfilled, and a parser then reads "..." as a
question. `Shown.of(templates, name, variables)` finds what a prompt template
shows, from the template itself: its text with every string variable (the
passage, the document, the instruction) taken out is run through the method's
own parser, and its quoted strings and `<...>` placeholders are collected.
`Shown.problem(value)` says why a parsed value repeats any of that, or looks
like a placeholder of any prompt ("...", "<the instruction>"), or holds the
prompt's instruction lines; the engine turns that into a ParseError, so the
request is asked again once and then rejected with the reason.
"""

from __future__ import annotations

import re

from dataforge.llm.types import ParseError

_CUT = "\x1f"  # stands for each string variable while a template's own text is rendered
_QUOTED = re.compile(r'"([^"\n]{1,200})"|“([^”\n]{1,200})”')
_ANGLED = re.compile(r"<[A-Za-z][^<>=\"/\n]{0,80}>")
# "...", "…", "___", "- -": nothing but dots and dashes; <the instruction>, [your answer]: words in brackets
_ONLY_DOTS = re.compile(r"[.…\-_*?\s]+")
_BRACKETED = re.compile(r"<[A-Za-z][A-Za-z' _-]*\s[A-Za-z' _-]*>|\[[A-Za-z][A-Za-z' _-]*\s[A-Za-z' _-]*\]"
                        r"|\{\{?\s*[A-Za-z_]+\s*\}?\}")
_LONG_LINE_WORDS = 6


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold().strip("\"'“”` ")


def placeholder(text: str) -> bool:
    """True for a value that only holds a placeholder: "...", "<the instruction>", "[your answer]", "{x}"."""
    text = text.strip().strip("\"'“”`").strip()
    return bool(text) and bool(_ONLY_DOTS.fullmatch(text) or _BRACKETED.fullmatch(text))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


class Shown:
    """What one prompt template shows the model (examples and instruction lines), to compare replies with."""

    def __init__(self, examples=(), lines=()):
        self.examples = {n for n in map(_norm, examples) if n}
        self.lines = [n for n in map(_norm, lines) if len(n.split()) >= _LONG_LINE_WORDS]

    @classmethod
    def of(cls, templates, name: str, variables: dict, parser=None) -> "Shown":
        blank = {k: (_CUT if isinstance(v, str) else [] if isinstance(v, (list, tuple)) else v)
                 for k, v in variables.items()}
        try:
            rendered = "\n".join(m["content"] for m in templates.messages(name, **blank))
        except Exception:  # a template that needs real values (e.g. demos[0]): nothing to compare with
            return cls()
        own = rendered.replace(_CUT, "\n")  # the template's own text, each variable a line break
        examples = [a or b for a, b in _QUOTED.findall(own)] + _ANGLED.findall(own)
        if parser is not None:
            try:
                examples += list(_strings(parser(own, None)))
            except Exception:  # the template's text holds no example in the reply's form
                pass
        return cls(examples, own.splitlines())

    def problem(self, value) -> str | None:
        """Why `value` (a parsed reply) repeats the prompt or is a placeholder; None when it does not."""
        for text in _strings(value):
            norm = _norm(text)
            if norm in self.examples:
                return f"the reply repeats the prompt's example {text.strip()[:60]!r} instead of filling it in"
            if placeholder(text):
                return f"the reply holds a placeholder {text.strip()[:60]!r} instead of content"
            held = [line for line in self.lines if line in norm]
            if held and (len(held) >= 2 or len(held) == len(self.lines)):
                return "the reply repeats the prompt's own instructions"
        return None


def guarded(validate, shown_for):
    """`validate` (or the raw text) checked by the Shown of each request (`shown_for(request)`)."""
    def check(text: str, request):
        value = validate(text, request) if validate is not None else text
        shown = shown_for(request)
        why = (shown or _ANY).problem(value)
        if why is not None:
            raise ParseError(why)
        return value

    return check


_ANY = Shown()
