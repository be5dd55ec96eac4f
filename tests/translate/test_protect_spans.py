"""Protected spans at their edges: where a URL in parentheses ends, how a fence is found, the pieces of a
masked text, and the exact reason a broken reply is refused (a long span shortened to 40 characters).

Hand-written cases for faults `make mutation AREA=translate` planted in dataforge/translate/protect.py
that no test noticed.
"""

from __future__ import annotations

import pytest

from dataforge.translate.protect import ProtectionError, find_spans, mask, restore


def test_a_url_keeps_its_own_closing_paren_but_not_the_sentences():
    text = "(see https://en.wikipedia.org/wiki/Python_(language)) now"
    assert [(text[s:e], k) for s, e, k in find_spans(text)] == [
        ("https://en.wikipedia.org/wiki/Python_(language)", "URL")]
    text = "(see https://example.org/page) now"
    assert [text[s:e] for s, e, _ in find_spans(text)] == ["https://example.org/page"]
    text = "go to https://x.org/a_(b and on"  # an unclosed paren: the URL ends where the regex ends it
    assert [text[s:e] for s, e, _ in find_spans(text)] == ["https://x.org/a_(b"]


def test_fenced_blocks_closed_or_running_to_the_end():
    assert find_spans("```\nx = 1\n```\nafter") == [(0, 13, "code block")]
    assert find_spans("~~~\nopen fence") == [(0, 14, "code block")]  # unclosed: to the end, as Markdown
    assert find_spans("Say:\n````py\na\n````\n") == [(5, 18, "code block")]


def test_pieces_split_prose_and_span_indexes():
    assert mask("Run `a` then {b}.").pieces() == ["Run ", 0, " then ", 1, "."]
    assert mask("`a` x {y}").pieces() == [0, " x ", 1]  # no empty prose before the first or after the last
    assert mask("plain words").pieces() == ["plain words"]


def _reason(reply: str, source: str) -> str:
    with pytest.raises(ProtectionError) as info:
        restore(reply, mask(source))
    assert str(info.value) == info.value.reason  # the message a user sees is the reason
    return info.value.reason


def test_refusal_reasons_name_the_span_shortened_to_forty_characters():
    forty = "`" + "x" * 38 + "`"
    assert _reason("nothing", f"Run {forty}") == f"lost protected inline code '{forty}'"
    forty_one = "`" + "x" * 39 + "`"
    assert _reason("nothing", f"Run {forty_one}") == "lost protected inline code '`" + "x" * 38 + "…'"
    assert _reason("nothing", "Run:\n```\na\nb\n```\n") == "lost protected code block '```⏎a⏎b⏎```'"
    assert _reason("⟦1⟧ ⟦1⟧", "Call `f()` now") == "repeated protected inline code '`f()`' (2 times)"
    assert _reason("⟦1⟧ ⟦2⟧", "Call `f()` now") == "unknown token in the reply: ⟦2⟧"
