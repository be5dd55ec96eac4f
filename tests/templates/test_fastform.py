"""fastform: a source whose only logic is `if` compiles to parts that give Jinja's text for every row."""

from __future__ import annotations

import itertools

import pytest

from dataforge.templates.fastform import simple_form
from dataforge.templates.pack import find_pack, pack_dirs
from dataforge.templates.render import environment

ROW = ("instruction", "context", "output", "system", "id", "category")
CONSTANTS = ("intro", "header", "eos_token")
CONST_VALUES = {"intro": "Intro {with} braces", "header": "### {0}:", "eos_token": "</s>"}
# each value is tried empty and with text that a template engine or str.format would act on
VALUES = ["", "{{ intro }} {% if x %}y{% endif %} {0} {} %s \\ 中文 😀"]

COMPILED = [
    "{{ instruction }}{{ eos_token }}",
    "{% if system %}{{ system }}{% elif context %}{{ header }}{% else %}{{ intro }}{% endif %}\n{{ instruction }}",
    "{{ system or intro }}\n\n{% if context %}\n{{ header }}\n{{ context }}\n{% endif %}\n{{ output }}",
    "{% if not context and system %}A{% endif %}{{ context and header }}{{ 'x' if output else 'y' }}",
    "{{ header + ' ' + instruction }} {{ id ~ '/' ~ category }}{% if intro %}{{ intro }}{% endif %}",
    "  {%- if context -%}  {{ context }}  {%- endif %}  \n",  # whitespace control as Jinja strips it
    "{{ '{literal}' }}",
]

NOT_COMPILED = [
    "{% for m in instruction %}{{ m }}{% endfor %}",  # loop
    "{{ instruction | upper }}",  # filter
    "{{ instruction.strip() }}",  # call
    "{% set x = instruction %}{{ x }}",  # assignment
    "{{ unknown_name }}",  # undefined: Jinja's error names it
    "{{ 'a' if context }}",  # prints an undefined value when false
    "{% if context == 'x' %}y{% endif %}",  # comparison
    "{{ raise_exception('no') }}",
]


def _jinja(source: str, values: dict) -> str:
    return environment().from_string(source).render(values)


@pytest.mark.parametrize("source", COMPILED)
def test_parts_render_what_jinja_renders(source):
    form = simple_form(environment(), source, ROW, CONSTANTS)
    assert form is not None
    checked = 0
    for combo in itertools.product(VALUES, repeat=len(ROW)):
        row = dict(zip(ROW, combo))
        truth = tuple(row[n] != "" for n in form.tests)
        parts = form.parts(CONST_VALUES, truth)
        text = "".join(p if type(p) is str else combo[p] for p in parts)
        assert text == _jinja(source, {**CONST_VALUES, **row})
        checked += 1
    assert checked == 2 ** len(ROW)


def test_tested_fields_are_the_row_fields_the_source_tests():
    form = simple_form(environment(), COMPILED[1], ROW, CONSTANTS)
    assert form.tests == ("system", "context")
    assert form.parts(CONST_VALUES, (False, True)) == ["### {0}:", 0]  # header, then the instruction (trim_blocks ate the newline)


@pytest.mark.parametrize("source", NOT_COMPILED)
def test_anything_else_keeps_jinja(source):
    assert simple_form(environment(), source, ROW, CONSTANTS) is None


@pytest.mark.parametrize("name", ["alpaca", "dolly", "qa", "completion"])
def test_builtin_prompt_packs_compile(name):
    pack = find_pack(name, pack_dirs(None))
    names = tuple(pack.strings) + ("lang", "eos_token", "bos_token")
    for source in ("prompt", "completion"):
        assert simple_form(environment(), pack.sources[source].text, ROW, names) is not None


def test_chat_sources_keep_jinja():
    pack = find_pack("chatml", pack_dirs(None))
    names = ("messages", "add_generation_prompt", "eos_token", "bos_token")
    assert simple_form(environment(), pack.sources["chat"].text, ROW, names) is None
