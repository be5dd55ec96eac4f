"""Protection: every kind of span is hidden from the translator, comes back exactly once, unchanged."""

from __future__ import annotations

import pytest

from dataforge.translate.protect import ProtectionError, mask, restore, token

CASES = [
    ("code block", "Run this:\n```python\ndef f(x):\n    return {x} + 1\n```\nThen stop.",
     "```python\ndef f(x):\n    return {x} + 1\n```"),
    ("code block", "Shell:\n~~~\nls -la $HOME\n~~~\nDone.", "~~~\nls -la $HOME\n~~~"),
    ("inline code", "Call `print(x)` to show it.", "`print(x)`"),
    ("URL", "See https://en.wikipedia.org/wiki/Python_(language). Thanks!",
     "https://en.wikipedia.org/wiki/Python_(language)"),
    ("URL", "Docs at www.example.org/guide, then go on.", "www.example.org/guide"),
    ("e-mail", "Write to jane.doe+ml@example.co.uk today.", "jane.doe+ml@example.co.uk"),
    ("placeholder", "Hello {name}, welcome back.", "{name}"),
    ("placeholder", "Item {0} of {count:>3}.", "{count:>3}"),
    ("placeholder", "Dear {{ user.first_name }}, thanks.", "{{ user.first_name }}"),
    ("placeholder", "{% if admin %}Hi boss{% endif %}", "{% if admin %}"),
    ("placeholder", "Loaded %s files in %.2f seconds.", "%.2f"),
    ("placeholder", "User %(user)s logged in.", "%(user)s"),
    ("placeholder", "Set $HOME and ${PATH_EXTRA} first.", "${PATH_EXTRA}"),
    ("markup tag", 'Click <a href="https://x.org/a">here</a> now.', '<a href="https://x.org/a">'),
    ("markup tag", "Line one<br/>line two.", "<br/>"),
    ("markup comment", "Keep <!-- do not translate --> this.", "<!-- do not translate -->"),
]


@pytest.mark.parametrize("kind,text,span", CASES, ids=[f"{k}:{s[:18]}" for k, _, s in CASES])
def test_each_kind_is_masked_and_restored(kind, text, span):
    m = mask(text)
    assert span not in m.text, "the span must be hidden from the translator"
    assert any(s.kind == kind and s.text == span for s in m.spans)
    assert restore(m.text, m) == text
    # a translator moves the tokens around and rewrites the prose: spans come back verbatim
    moved = "Traducción: " + " ".join(token(i) for i in reversed(range(len(m.spans)))) + " fin."
    out = restore(moved, m)
    for s in m.spans:
        assert out.count(s.text) == text.count(s.text)


def test_prose_that_only_looks_special_is_not_masked():
    for text in ["Sales grew 50% in 2020 and 100% of staff stayed.", "If a < b and c > d then stop.",
                 'The JSON {"a": 1} is an object.', "It costs $5 or 5 dollars.", "Email me at the office."]:
        assert mask(text).spans == [], text


def test_url_inside_a_code_block_belongs_to_the_block():
    m = mask("```\ncurl https://api.example.com/v1 -H 'X: {key}'\n```")
    assert [s.kind for s in m.spans] == ["code block"]


@pytest.mark.parametrize("reply,reason", [
    ("Ejecuta ⟦1⟧ y abre.", "lost protected placeholder '{url}'"),
    ("Ejecuta ⟦1⟧ y abre ⟦2⟧ ⟦2⟧.", "repeated protected placeholder '{url}' (2 times)"),
    ("Ejecuta ⟦1⟧ y abre ⟦2⟧ y ⟦3⟧.", "unknown token in the reply: ⟦3⟧"),
    ("Ejecuta ⟦1⟧ y abre {nombre}.", "lost protected placeholder '{url}'"),
    ("Ejecuta ⟦1⟧ y abre ⟦2⟧ con {nombre}.", "invented placeholder '{nombre}'"),
    ("Ejecuta ⟦1⟧ y abre ⟦2⟧ <b>ya</b>.", "invented markup tag '<b>'"),
    ("Ejecuta `hacer prueba` y abre ⟦2⟧.", "lost protected inline code '`make test`'"),
    ("Ejecuta ⟦1⟧ y abre ⟦2⟧ ⟦3.", "broken token"),
])
def test_replies_that_drop_repeat_or_alter_spans_are_caught(reply, reason):
    m = mask("Run `make test`, then open {url}.")
    with pytest.raises(ProtectionError) as err:
        restore(reply, m)
    assert reason in err.value.reason


def test_tokens_with_spaces_inside_still_count():
    m = mask("Open {url} now.")
    assert restore("Abre ⟦ 1 ⟧ ahora.", m) == "Abre {url} ahora."


def test_source_that_contains_the_token_brackets_round_trips():
    text = "Brackets ⟦like these⟧ and {x}."
    m = mask(text)
    assert "⟦like" not in m.text
    assert restore(m.text, m) == text


def test_code_only_text_has_no_prose():
    assert not mask("```\nprint(1)\n```").has_prose
    assert not mask("`x` {y} https://a.io").has_prose
    assert mask("Print `x` please").has_prose
