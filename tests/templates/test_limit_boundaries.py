"""The template limits at their edges: exactly the cap passes, one over fails; size estimates on
hand-computed cases; the environment variables read as documented; the messages name the limit.

Found by `make mutation AREA=templates` (dataforge/templates/limits.py): faults there changed these
numbers and no test noticed.
"""

from __future__ import annotations

import pytest

from dataforge.errors import ConfigError
from dataforge.templates.limits import (
    DEFAULTS,
    INT_BITS,
    PER_FIELD,
    Budget,
    Limits,
    TemplateLimitError,
    current_limits,
    format_size,
    printf_size,
    str_method_size,
    too_big,
    weight,
)


def test_defaults_and_environment(monkeypatch):
    for key in DEFAULTS:
        monkeypatch.delenv(f"DATAFORGE_TEMPLATE_{key}", raising=False)
    assert current_limits() == Limits(10_000_000, 100_000, 1_000_000, 10.0)
    monkeypatch.setenv("DATAFORGE_TEMPLATE_MAX_LOOP", "7")
    monkeypatch.setenv("DATAFORGE_TEMPLATE_TIMEOUT", "2.5")
    monkeypatch.setenv("DATAFORGE_TEMPLATE_MAX_RANGE", "0")  # not above 0: the default
    monkeypatch.setenv("DATAFORGE_TEMPLATE_MAX_OUTPUT", "")  # empty: the default
    assert current_limits() == Limits(10_000_000, 100_000, 7, 2.5)
    monkeypatch.setenv("DATAFORGE_TEMPLATE_MAX_LOOP", "lots")
    with pytest.raises(ConfigError) as info:
        current_limits()
    assert info.value.message == "DATAFORGE_TEMPLATE_MAX_LOOP='lots' is not a number"
    assert info.value.hint == "unset it or give a number like 1000000"


def test_too_big_at_exactly_the_cap():
    too_big("x", 100, 100)  # exactly the cap: allowed
    with pytest.raises(TemplateLimitError) as info:
        too_big("'a' * n", 101, 100)
    assert str(info.value) == ("'a' * n would make about 101 characters: over the template limit"
                               " DATAFORGE_TEMPLATE_MAX_OUTPUT=100 (raise it with that environment variable if the"
                               " template really needs more)")
    assert info.value.limit == "DATAFORGE_TEMPLATE_MAX_OUTPUT"
    assert info.value.row_reason("row 3") == (
        "over the template limit DATAFORGE_TEMPLATE_MAX_OUTPUT=100: 'a' * n would make about 101 characters"
        " (row 3); raise it with that environment variable if the template really needs more")


def test_fixed_number_limit_and_timeout_messages():
    err = TemplateLimitError("2 ** 100000")
    assert err.limit == "numbers" and str(err) == f"2 ** 100000: over the template limit on numbers ({INT_BITS:,} bits)"
    assert err.row_reason("row 1") == f"over the template limit on numbers ({INT_BITS:,} bits): 2 ** 100000 (row 1)"
    slow = TemplateLimitError("rendering took too long", "TIMEOUT", 2.5)
    assert slow.headline == "over the template limit DATAFORGE_TEMPLATE_TIMEOUT=2.5s"


def test_loop_budget_exactly_at_the_limit(monkeypatch):
    b = Budget(Limits(100, 100, 3, 10.0))
    for _ in range(3):
        b.step()  # 3 iterations of a limit of 3: fine
    with pytest.raises(TemplateLimitError) as info:
        b.step()
    assert str(info.value).startswith("more than 3 loop iterations: over the template limit"
                                      " DATAFORGE_TEMPLATE_MAX_LOOP=3")
    scaled = Budget(Limits(100, 100, 3, 10.0), scale=2)  # a pack row's budget may be scaled
    scaled.charge(6)
    with pytest.raises(TemplateLimitError, match="more than 6 loop iterations"):
        scaled.charge(1)
    assert Budget(Limits(100, 100, 3, 10.0), scale=0).scale == 1


def test_the_clock_is_checked_every_256_steps_and_on_charge(monkeypatch):
    now = [0.0]
    monkeypatch.setattr("dataforge.templates.limits.time.monotonic", lambda: now[0])
    b = Budget(Limits(100, 100, 10_000, 5.0))
    assert b.deadline == 5.0
    now[0] = 5.0
    b.tick()  # exactly at the deadline: still fine
    now[0] = 5.5
    for _ in range(255):
        b.step()  # not a multiple of 256: the clock is not read
    with pytest.raises(TemplateLimitError, match="rendering took too long"):
        b.step()  # the 256th
    late = Budget(Limits(100, 100, 10_000, 5.0))  # deadline 10.5
    now[0] = 11.0
    with pytest.raises(TemplateLimitError, match="rendering took too long"):
        late.charge(1)  # a charge reads the clock every time


def test_weight_hand_computed():
    assert weight("abc", 100) == 3 and weight(b"ab", 100) == 2 and weight(7, 100) == 24
    assert weight(["ab", "c"], 100) == 2 + (2 + 4) + (1 + 4)
    assert weight({"k": 1}, 100) == 2 + (1 + 4) + 24
    assert weight((1, (2,)), 1000) == 2 + 24 + 2 + 24
    assert weight(["x" * 50, "y" * 50, "z" * 50], 60) == 2 + 54 + 54  # stops once past the cap


def test_printf_and_format_estimates_hand_computed():
    assert printf_size("%5d", 1, 10**9) == 3 + 24 + PER_FIELD + 5
    assert printf_size("%*.*f", (7, 3, 1.5), 10**9) == 5 + 24 + PER_FIELD + 7 + 7  # stars count as the biggest int
    assert printf_size("%s and %s", ("ab", "c"), 10**9) == 9 + 2 * (2 + PER_FIELD)
    assert printf_size("%(a)s", {"a": "xyz"}, 10**9) == 5 + 3 + PER_FIELD
    assert printf_size("no fields", (), 10**9) == 9
    assert format_size("{:>12}", (1,), {}, 10**9) == 6 + 24 + PER_FIELD + 12
    assert format_size("{a:>{w}}", (), {"a": "xy", "w": 40}, 10**9) == 8 + 24 + PER_FIELD + 40
    assert format_size("plain", (), {}, 10**9) == 5


def test_string_method_sizes():
    assert str_method_size("abc", "center", (10,), {}, 10**9) == 10
    assert str_method_size("abcdef", "ljust", (2,), {}, 10**9) == 6
    assert str_method_size("abc", "zfill", (), {"width": 5}, 10**9) == 5
    assert str_method_size("a\tb\t", "expandtabs", (), {}, 10**9) == 4 + 2 * 8
    assert str_method_size(b"a\t", "expandtabs", (4,), {}, 10**9) == 2 + 4
    assert str_method_size("aXaXa", "replace", ("X", "YYY"), {}, 10**9) == 5 + 2 * 2
    assert str_method_size("aXaXa", "replace", ("X", "YYY", 1), {}, 10**9) == 5 + 2
    assert str_method_size("abc", "replace", ("", "--"), {}, 10**9) == 3 + 4 * 2  # empty old: between every char
    assert str_method_size("aXa", "replace", ("X", ""), {}, 10**9) == 3  # shrinking never counts below n
    assert str_method_size("ab", "translate", ({97: "xyz"},), {}, 10**9) == 6
    assert str_method_size(b"ab", "translate", (bytes(range(256)),), {}, 10**9) == 2  # a bytes table: one for one
    assert str_method_size("ab", "upper", (), {}, 10**9) is None
