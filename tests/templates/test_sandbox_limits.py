"""The bounded sandbox: every way a template can make a huge value or loop forever hits a named limit.

Each case would allocate gigabytes or run for hours without the limits; with them it fails at once with
TemplateLimitError naming the limit. Ordinary templates render exactly as in plain Jinja.
"""

from __future__ import annotations

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dataforge.templates.limits import TemplateLimitError
from dataforge.templates.sandbox import BoundedSandbox

ENV = BoundedSandbox(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

HOSTILE = {
    "str_repeat": ("{{ 'a' * 10**10 }}", "MAX_OUTPUT"),
    "list_repeat_of_big_item": ("{% set s = 'x' * 9000000 %}{{ [s] * 1000 }}", "MAX_OUTPUT"),
    "printf_width": ("{{ '%0999999999d' % 1 }}", "MAX_OUTPUT"),
    "printf_star": ("{{ '%*d' % (999999999, 1) }}", "MAX_OUTPUT"),
    "format_width": ("{{ '{:>999999999}'.format(1) }}", "MAX_OUTPUT"),
    "format_nested_width": ("{{ '{:>{w}}'.format(1, w=999999999) }}", "MAX_OUTPUT"),
    "format_map": ("{{ '{a:>999999999}'.format_map({'a': 1}) }}", "MAX_OUTPUT"),
    "format_filter": ("{{ '%0999999999d' | format(1) }}", "MAX_OUTPUT"),
    "center_method": ("{{ 'a'.center(10**10) }}", "MAX_OUTPUT"),
    "ljust_method": ("{{ 'a'.ljust(10**10) }}", "MAX_OUTPUT"),
    "zfill_method": ("{{ '1'.zfill(10**10) }}", "MAX_OUTPUT"),
    "expandtabs": ("{{ ('\\t' * 1000).expandtabs(10**7) }}", "MAX_OUTPUT"),
    "replace_method": ("{{ ('a' * 1000).replace('a', 'b' * 100000) }}", "MAX_OUTPUT"),
    "translate": ("{{ ('a' * 10000).translate({97: 'b' * 100000}) }}", "MAX_OUTPUT"),
    "join_method": ("{% set s = 'x' * 6000000 %}{{ ''.join([s, s]) }}", "MAX_OUTPUT"),
    "center_filter": ("{{ 'a' | center(10**10) }}", "MAX_OUTPUT"),
    "indent_filter": ("{{ ('a\\n' * 1000) | indent(100000) }}", "MAX_OUTPUT"),
    "wordwrap_filter": ("{{ ('a ' * 1000) | wordwrap(1, wrapstring='b' * 100000) }}", "MAX_OUTPUT"),
    "replace_filter": ("{{ ('a' * 1000) | replace('a', 'b' * 100000) }}", "MAX_OUTPUT"),
    "join_filter": ("{% set s = 'x' * 6000000 %}{{ [s, s] | join }}", "MAX_OUTPUT"),
    "string_of_big_list": ("{% set l = ['x' * 1000000] * 9 %}{{ (l + l) | string }}", "MAX_OUTPUT"),
    "tojson_indent": ("{{ [1] | tojson(indent=10**9) }}", "MAX_OUTPUT"),
    "concat_doubling": ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                        "{% endfor %}{{ ns.s }}", "MAX_OUTPUT"),
    "plus_doubling": ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
                      "{% endfor %}{{ ns.s }}", "MAX_OUTPUT"),
    "set_block": ("{% set s %}{% for i in range(100000) %}{{ 'a' * 1000 }}{% endfor %}{% endset %}{{ s }}",
                  "MAX_OUTPUT"),
    "macro_output": ("{% macro m() %}{% for i in range(100000) %}{{ 'a' * 1000 }}{% endfor %}{% endmacro %}"
                     "{{ m() | length }}", "MAX_OUTPUT"),
    "output_stream": ("{% for i in range(100000) %}{{ 'a' * 1000 }}{% endfor %}", "MAX_OUTPUT"),
    "lipsum": ("{{ lipsum(10**6) }}", "MAX_OUTPUT"),
    "range": ("{{ range(10**9) | list }}", "MAX_RANGE"),
    "batch_fill": ("{{ [1] | batch(10**9, fill_with=0) | list }}", "MAX_RANGE"),
    "nested_loops": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                     "MAX_LOOP"),
    "loop_over_big_string": ("{% set s = 'x' * 5000000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
                             "MAX_LOOP"),
    "power": ("{{ 10 ** (10 ** 10) }}", "numbers"),
    "squaring": ("{% set ns = namespace(x=7) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}"
                 "{{ ns.x > 1 }}", "numbers"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_template_hits_the_named_limit(case):
    source, limit = HOSTILE[case]
    with pytest.raises(TemplateLimitError) as err:
        ENV.from_string(source).render()
    assert err.value.limit == (limit if limit == "numbers" else f"DATAFORGE_TEMPLATE_{limit}")
    assert "over the template limit" in str(err.value)


def test_timeout_stops_a_slow_render(monkeypatch):
    monkeypatch.setenv("DATAFORGE_TEMPLATE_TIMEOUT", "0.2")
    monkeypatch.setenv("DATAFORGE_TEMPLATE_MAX_LOOP", "10000000000")
    with pytest.raises(TemplateLimitError) as err:
        ENV.from_string(HOSTILE["nested_loops"][0]).render()
    assert err.value.limit == "DATAFORGE_TEMPLATE_TIMEOUT"


def test_limits_come_from_the_environment(monkeypatch):
    template = ENV.from_string("{{ 'a' * 2000 }}")
    monkeypatch.setenv("DATAFORGE_TEMPLATE_MAX_OUTPUT", "1000")
    with pytest.raises(TemplateLimitError, match="DATAFORGE_TEMPLATE_MAX_OUTPUT=1,000"):
        template.render()
    monkeypatch.setenv("DATAFORGE_TEMPLATE_MAX_OUTPUT", "3000")
    assert template.render() == "a" * 2000


ORDINARY = [
    "{% for m in messages %}{{ loop.index }}:{{ m['role'] }}={{ m['content'] | trim }}{% if not loop.last %}, "
    "{% endif %}{% endfor %}",
    "{{ '%5.2f|%-4s|%d' % (3.14159, 'ab', 7) }} {{ '{:>6}|{}'.format('x', [1, 2]) }} {{ 'a b'.split() | join('-') }}",
    "{% set ns = namespace(n=0) %}{% for i in range(10) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}",
    "{% macro box(t) %}[{{ t ~ '!' }}]{% endmacro %}{{ box('hi') }}{{ 'x' | center(5) }}{{ [1, 2] | tojson }}",
    "{% for x in tree recursive %}{{ x.n }}{% if x.kids %}({{ loop(x.kids) }}){% endif %}{% endfor %}",
    "{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ [0] * 3 }} {{ 'a\\nb' | indent(2, first=True) }} {{ lipsum(1, html=False)|length > 0 }}",
]


@pytest.mark.parametrize("source", ORDINARY)
def test_ordinary_templates_render_as_in_plain_jinja(source):
    plain = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    variables = {"messages": [{"role": "user", "content": " hi "}, {"role": "assistant", "content": "yo"}],
                 "tree": [{"n": 1, "kids": [{"n": 2, "kids": []}]}, {"n": 3, "kids": []}]}
    if "lipsum" in source:  # random text: compare the rest
        assert ENV.from_string(source).render(**variables).endswith("True")
        return
    assert ENV.from_string(source).render(**variables) == plain.from_string(source).render(**variables)


def test_a_pack_row_over_a_limit_is_rejected_not_fatal(tmp_path):
    from dataforge.formatting import format_record
    from dataforge.formatting.api import RowRejected
    from dataforge.records import InstructionRecord

    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "template.yaml").write_text("type: prompt\nprompt: \"{% if instruction == 'big' %}{{ 'a' * 10**10 }}"
                                        "{% endif %}{{ instruction }}\"\ncompletion: '{{ output }}'\n")
    ok = format_record(InstructionRecord(instruction="small", output="o"), "p", template_dir=tmp_path)
    assert ok["prompt"] == "small"
    with pytest.raises(RowRejected) as err:
        format_record(InstructionRecord(instruction="big", output="o"), "p", template_dir=tmp_path)
    assert err.value.reason.startswith("over the template limit DATAFORGE_TEMPLATE_MAX_OUTPUT=10,000,000:")
