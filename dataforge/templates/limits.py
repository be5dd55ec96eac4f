"""Limits on what one template render may do, and cheap upper bounds on what an operation will make.

A template is code someone else wrote (a pack, a `--prompts` file, a model's
chat template). Rendering one must not be able to take the machine down, so
every render runs under these limits (raise them with environment variables):

    DATAFORGE_TEMPLATE_MAX_OUTPUT   characters in the output, and in any value made on the way (10,000,000)
    DATAFORGE_TEMPLATE_MAX_RANGE    items in one range() (100,000)
    DATAFORGE_TEMPLATE_MAX_LOOP     loop iterations in one render, all loops together (1,000,000)
    DATAFORGE_TEMPLATE_TIMEOUT      seconds one render may take (10)

Sizes are estimated *before* an operation that can multiply its inputs
(`'a' * n`, `'%09999d' % x`, `'{:>9999}'.format(x)`, `s.center(n)`, joins),
so the memory is never allocated; the estimates are upper bounds.
"""

from __future__ import annotations

import os
import re
import string
import time
from contextvars import ContextVar
from dataclasses import dataclass

import jinja2

DEFAULTS = {"MAX_OUTPUT": 10_000_000, "MAX_RANGE": 100_000, "MAX_LOOP": 1_000_000, "TIMEOUT": 10.0}
ENV = "DATAFORGE_TEMPLATE_"
INT_BITS = 65_536  # a number that big has ~20,000 digits: more than any template prints
PER_FIELD = 400  # what one formatted number may add beyond its width/precision (a float's digits)


class TemplateLimitError(jinja2.TemplateError):
    """A render went over one of the limits; the message names the limit and its variable."""

    def __init__(self, what: str, name: str = "", value=None):
        self.what = what
        if not name:  # a fixed limit (numbers): no template needs more
            self.limit, raise_it = "numbers", ""
            self.headline = f"over the template limit on numbers ({INT_BITS:,} bits)"
        else:
            shown = f"{value:,}" if isinstance(value, int) else f"{value:g}s"
            self.limit, self.headline = ENV + name, f"over the template limit {ENV}{name}={shown}"
            raise_it = " (raise it with that environment variable if the template really needs more)"
        super().__init__(f"{what}: {self.headline}{raise_it}")

    def row_reason(self, where: str) -> str:
        """The reason a row is rejected for: the limit first, so the run's summary groups rows by it."""
        raise_it = "; raise it with that environment variable if the template really needs more" \
            if self.limit != "numbers" else ""
        return f"{self.headline}: {self.what} ({where}){raise_it}"


@dataclass(frozen=True)
class Limits:
    max_output: int
    max_range: int
    max_loop: int
    timeout: float


def current_limits() -> Limits:
    """The limits from the environment (read at every render, so a test or a user can change them)."""
    values = {}
    for key, default in DEFAULTS.items():
        raw = os.environ.get(ENV + key)
        try:
            value = type(default)(raw) if raw not in (None, "") else default
        except ValueError:
            from dataforge.errors import ConfigError

            raise ConfigError(f"{ENV}{key}={raw!r} is not a number", f"unset it or give a number like {default}") \
                from None
        values[key] = value if value > 0 else default
    return Limits(values["MAX_OUTPUT"], values["MAX_RANGE"], values["MAX_LOOP"], values["TIMEOUT"])


class Budget:
    """What one render has used so far: loop iterations, and the clock."""

    __slots__ = ("limits", "scale", "loops", "deadline", "max_output")

    def __init__(self, limits: Limits, scale: int = 1):
        self.limits, self.scale, self.loops = limits, max(scale, 1), 0
        self.deadline = time.monotonic() + limits.timeout
        self.max_output = limits.max_output

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError("rendering took too long", "TIMEOUT", self.limits.timeout)

    def step(self) -> None:
        self.loops += 1
        if self.loops > self.limits.max_loop * self.scale:
            self._over()
        if not self.loops & 255:
            self.tick()

    def charge(self, n: int) -> None:
        """A loop over n items (a sized collection): counted when it starts."""
        self.loops += n
        if self.loops > self.limits.max_loop * self.scale:
            self._over()
        self.tick()

    def _over(self):
        raise TemplateLimitError(f"more than {self.limits.max_loop * self.scale:,} loop iterations",
                                 "MAX_LOOP", self.limits.max_loop)


_BUDGET: ContextVar[Budget | None] = ContextVar("dataforge_template_budget", default=None)


def budget() -> Budget:
    """The running render's budget (a fresh one when called outside a render, e.g. constant folding)."""
    found = _BUDGET.get()
    return found if found is not None else Budget(current_limits())


def too_big(what: str, size: int, cap: int) -> None:
    if size > cap:
        raise TemplateLimitError(f"{what} would make about {size:,} characters", "MAX_OUTPUT", cap)


# ----- size estimates ---------------------------------------------------------------
_CONTAINERS = (list, tuple, set, frozenset, dict)


def weight(value, cap: int) -> int:
    """About how many characters str(value) has; stops counting once past `cap`."""
    if isinstance(value, (str, bytes, bytearray)):
        return len(value)
    if not isinstance(value, _CONTAINERS):
        return 24
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, bytes, bytearray)):
            total += len(item) + 4  # quotes and separator in a repr
        elif isinstance(item, dict):
            total += 2
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            total += 2
            stack.extend(item)
        else:
            total += 24
        if total > cap:
            return total
    return total


def _ints(values) -> int:
    return max((abs(v) for v in values if isinstance(v, int)), default=0)


def _arg_values(args) -> list:
    if isinstance(args, dict):
        return list(args.values())
    return list(args) if isinstance(args, tuple) else [args]


_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?[diouxXeEfFgGcrsa%]")


def printf_size(fmt: str, args, cap: int) -> int:
    """Upper bound of len(fmt % args)."""
    values = _arg_values(args)
    each = max((weight(v, cap) for v in values), default=0)
    star = _ints(values)
    total = len(fmt)
    for m in _PRINTF.finditer(fmt):
        width, precision = m.group(1), m.group(2)
        total += each + PER_FIELD
        for part in (width, precision):
            if part == "*":
                total += star
            elif part:
                total += int(part)
        if total > cap:
            break
    return total


_DIGITS = re.compile(r"\d+")


def format_size(fmt: str, args: tuple, kwargs: dict, cap: int) -> int:
    """Upper bound of len(fmt.format(*args, **kwargs)); nested fields in a spec count as the biggest int."""
    values = list(args) + list(kwargs.values())
    each = max((weight(v, cap) for v in values), default=0)
    nested = _ints(values)
    total = len(fmt)
    for _literal, field, spec, _conv in string.Formatter().parse(fmt):
        if field is None:
            continue
        total += each + PER_FIELD + sum(int(d) for d in _DIGITS.findall(spec or ""))
        if spec and "{" in spec:
            total += nested * spec.count("{")
        if total > cap:
            break
    return total


def str_method_size(text, name: str, args: tuple, kwargs: dict, cap: int) -> int | None:
    """Upper bound of the result of text.<name>(...) for the str/bytes methods that can grow; None: cannot."""
    n = len(text)
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        return max(n, width) if isinstance(width, int) else n
    if name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        tabs = text.count("\t" if isinstance(text, str) else b"\t")
        return n + tabs * size if isinstance(size, int) else n
    if name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        if not hasattr(old, "__len__") or not hasattr(new, "__len__"):
            return n
        hits = text.count(old) if len(old) else n + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        return n + hits * max(len(new) - len(old), 0)
    if name == "translate" and args:
        table = args[0]
        longest = max((len(v) for v in table.values() if isinstance(v, (str, bytes))), default=1) \
            if isinstance(table, dict) else 1
        return n * max(longest, 1)
    return None
