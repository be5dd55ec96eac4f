"""The one Jinja environment every template in dataforge renders in: sandboxed and bounded.

`BoundedSandbox(**options)` is an ImmutableSandboxedEnvironment that also
enforces the limits in `limits.py` on every render:

- output: the render stream is joined with a running count; every buffer
  (macro bodies, `{% set %}` blocks) and every `~` concatenation is sized
  before it is joined;
- operations that multiply their input (`*`, `%`, `**`, `+`, str.format,
  center/ljust/replace/expandtabs/translate/join, the center/indent/wordwrap/
  format/replace/join/tojson filters, lipsum) are sized before they run;
- loops: every `for` iterates through a counter (all loops of a render share
  one budget), `range()` is capped, and the clock is checked in loops, calls
  and filters.

A limit hit raises TemplateLimitError (a jinja2.TemplateError) naming the
limit and the environment variable that raises it.
"""

from __future__ import annotations

import functools
import types

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, optimizeconst
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg, generate_lorem_ipsum

from dataforge.templates.limits import (
    _BUDGET,
    INT_BITS,
    Budget,
    TemplateLimitError,
    budget,
    current_limits,
    format_size,
    printf_size,
    str_method_size,
    too_big,
    weight,
)

_TEXT = (str, bytes, bytearray)
_SIZED = (list, tuple, range, str, dict)
# Filters whose result is never bigger than a text they are given (no checks needed on text).
_SHRINKING_ON_TEXT = {"trim", "lower", "upper", "title", "capitalize", "striptags", "length", "count", "wordcount",
                      "first", "last", "string", "safe", "int", "float", "truncate", "reverse", "list", "unique"}
_SMALL = 4096  # values up to this size skip the per-operation check (the output limit still applies)
_SEQ = (str, bytes, bytearray, list, tuple)
# Filters that never turn their input into one string (they count, pick, or pass items on).
_NO_STR_FILTERS = {"length", "count", "first", "last", "list", "map", "select", "reject", "selectattr",
                   "rejectattr", "sort", "unique", "reverse", "groupby", "batch", "slice", "default", "d",
                   "attr", "dictsort", "items", "min", "max", "sum", "random", "abs", "int", "float", "round",
                   "filesizeformat", "wordcount", "safe"}


def _cap() -> int:
    return budget().max_output


def _post_check(what: str, value) -> None:
    """A value made by a call or filter: refuse it when it is over the output limit."""
    if isinstance(value, _TEXT):
        too_big(what, len(value), _cap())
    elif isinstance(value, (list, tuple, dict, set, frozenset)):
        cap = _cap()
        too_big(what, weight(value, cap), cap)


class _Counted:
    """An iterable whose every item counts against the render's loop budget."""

    __slots__ = ("_src", "_it", "_budget")

    def __init__(self, iterable, bud: Budget):
        self._src, self._it, self._budget = iterable, iter(iterable), bud

    def __iter__(self):
        return self

    def __next__(self):
        self._budget.step()
        return next(self._it)

    def __len__(self):
        return len(self._src)  # TypeError for a generator: LoopContext then counts it itself


class _CodeGenerator(CodeGenerator):
    """Routes every `for` through environment.df_iter and every `~` through environment.df_join."""

    def visit_For(self, node: nodes.For, frame) -> None:
        if not _is_counted(node.iter):
            node.iter = nodes.Call(nodes.EnvironmentAttribute("df_iter"), [node.iter], [], None, None,
                                   lineno=node.lineno)
        super().visit_For(node, frame)

    def visit_Call(self, node: nodes.Call, frame, forward_caller: bool = False) -> None:
        if _is_counted(node):  # a direct call: not through the sandbox's call(), once per loop
            self.write("environment.df_iter(")
            self.visit(node.args[0], frame)
            self.write(")")
            return
        super().visit_Call(node, frame, forward_caller=forward_caller)

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame) -> None:
        self.write("environment.df_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _is_counted(node) -> bool:
    return isinstance(node, nodes.Call) and isinstance(node.node, nodes.EnvironmentAttribute) \
        and node.node.name == "df_iter"


class BoundedTemplate(jinja2.Template):
    """`render()` runs under a fresh budget; `render_scaled(n, ...)` allows n renders' worth of loops."""

    def render(self, *args, **kwargs) -> str:
        return self.render_scaled(1, *args, **kwargs)

    def render_scaled(self, scale: int, *args, **kwargs) -> str:
        bud = Budget(current_limits(), scale)
        token = _BUDGET.set(bud)
        try:
            ctx = self.new_context(dict(*args, **kwargs))
            try:
                return _join_stream(self.root_render_func(ctx), bud)
            except Exception:  # noqa: BLE001 - jinja rewrites the traceback to template lines
                self.environment.handle_exception()
        finally:
            _BUDGET.reset(token)


def _join_stream(stream, bud: Budget) -> str:
    parts, total, cap = [], 0, bud.max_output
    append = parts.append
    for chunk in stream:  # counted as it comes: a runaway output stops at the limit, not at the end
        total += len(chunk)
        if total > cap:
            raise TemplateLimitError(f"the output is longer than {cap:,} characters", "MAX_OUTPUT", cap)
        append(chunk)
    bud.tick()
    return "".join(parts)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _CodeGenerator
    template_class = BoundedTemplate
    intercepted_binops = frozenset({"*", "%", "**", "+"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.globals["range"] = _range
        self.globals["lipsum"] = _lipsum
        self.filters = {name: _bounded_filter(name, func) for name, func in self.filters.items()}
        self.finalize = self._df_finalize  # Environment.__init__ sets the attribute; ours sizes containers

    # -- hooks the compiled template calls --------------------------------------------
    def df_iter(self, iterable):
        bud = budget()
        if type(iterable) in _SIZED:  # counted in one go: the loop runs at Python speed
            bud.charge(len(iterable))
            return iterable
        return _Counted(iterable, bud)

    def df_join(self, values) -> str:
        """`a ~ b ~ c`: each part sized before anything is joined."""
        cap = _cap()
        total = 0
        for v in values:
            total += weight(v, cap)
            too_big("'~' concatenation", total, cap)
        return "".join(map(str, values))

    def concat(self, parts) -> str:  # buffers of macros, {% set %}/{% filter %}/{% call %} blocks
        if isinstance(parts, list):
            cap = _cap()
            too_big("a block's output", sum(map(len, parts)), cap)
            return "".join(parts)
        return _join_stream(parts, budget())

    def _df_finalize(self, value):  # `{{ value }}` turns value into text: size containers first
        if type(value) is not str and isinstance(value, (list, tuple, dict, set, frozenset)):
            cap = _cap()
            too_big("printing a collection", weight(value, cap), cap)
        return value

    # -- sandbox overrides ---------------------------------------------------------------
    def call_binop(self, context, operator: str, left, right):
        if operator == "+" and type(left) is str and type(right) is str:  # the hot path of chat templates
            size = len(left) + len(right)
            if size > _SMALL:
                too_big("'+'", size, _cap())
            return left + right
        cap = _cap()
        if operator == "*":
            _check_repeat(left, right, cap)
        elif operator == "%" and isinstance(left, str):
            too_big("'%' formatting", printf_size(left, right, cap), cap)
        elif operator == "**" and type(left) is int and type(right) is int and abs(left) > 1 and right > 0:
            if right * left.bit_length() > INT_BITS:
                raise TemplateLimitError(f"'**' would make a number of about {right * left.bit_length():,} bits")
        elif operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            too_big("'+'", weight(left, cap) + weight(right, cap), cap)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - jinja's own signature
        budget().tick()
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's loop(children)
            args = (__self.df_iter(args[0]),) + args[1:]
        elif isinstance(__obj, (types.BuiltinMethodType, types.MethodType)) and \
                isinstance(getattr(__obj, "__self__", None), _TEXT):
            args = _check_text_method(__obj.__self__, __obj.__name__, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        _post_check(f"calling {getattr(__obj, '__name__', 'a function')}()", result)
        return result

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text, is_map = value.__self__, value.__name__ == "format_map"

        @functools.wraps(wrapped)
        def bounded(*args, **kwargs):
            cap = _cap()
            if is_map and args and isinstance(args[0], dict):
                too_big("str.format_map()", format_size(text, (), args[0], cap), cap)
            else:
                too_big("str.format()", format_size(text, args, kwargs, cap), cap)
            return wrapped(*args, **kwargs)
        return bounded


def _check_repeat(left, right, cap: int) -> None:
    if isinstance(left, int) and isinstance(right, _SEQ):
        left, right = right, left
    if isinstance(left, _SEQ) and isinstance(right, int):
        too_big("'*' repetition", weight(left, cap) * max(right, 0), cap)
    elif type(left) is int and type(right) is int and left.bit_length() + right.bit_length() > INT_BITS:
        raise TemplateLimitError(f"'*' would make a number of about {left.bit_length() + right.bit_length():,} bits")


def _check_text_method(text, name: str, args: tuple, kwargs: dict) -> tuple:
    cap = _cap()
    if name == "join" and args:
        items = list(_Counted(args[0], budget()))
        total = len(text) * max(len(items) - 1, 0) + sum(len(i) for i in items if isinstance(i, _TEXT))
        too_big("str.join()", total, cap)
        return (items,) + args[1:]
    size = str_method_size(text, name, args, kwargs, cap)
    if size is not None:
        too_big(f"str.{name}()", size, cap)
    return args


def _range(*args):
    rng = range(*args)
    lim = budget().limits.max_range
    if len(rng) > lim:
        raise TemplateLimitError(f"range() of {len(rng):,} items", "MAX_RANGE", lim)
    return rng


def _lipsum(n=5, html=True, min=20, max=100):  # noqa: A002 - jinja's parameter names
    longest = max
    if not all(isinstance(v, int) for v in (n, min, longest)):
        raise TypeError("lipsum() takes whole numbers")
    too_big("lipsum()", n * (longest if longest > 1 else 1) * 12, _cap())
    return generate_lorem_ipsum(n, html, min, longest)


# ----- filters ------------------------------------------------------------------------------
def _filter_checks(name: str, value, args: tuple, kwargs: dict) -> None:
    cap = _cap()
    if name not in _NO_STR_FILTERS and isinstance(value, (list, tuple, dict, set, frozenset)):
        too_big(f"the {name} filter", weight(value, cap), cap)  # before str(value) below
    if name == "center":
        width = args[0] if args else kwargs.get("width", 80)
        too_big("center", max(weight(value, cap), width if isinstance(width, int) else 0), cap)
    elif name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        pad = width if isinstance(width, int) else len(str(width))
        text = str(value)
        too_big("indent", len(text) + (text.count("\n") + 1) * max(pad, 0), cap)
    elif name == "wordwrap":
        width = args[0] if args else kwargs.get("width", 79)
        wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring") or "\n"
        text = str(value)
        lines = len(text) // max(width, 1) + text.count("\n") + 1 if isinstance(width, int) else len(text)
        too_big("wordwrap", len(text) + lines * len(str(wrap)), cap)
    elif name == "format" and isinstance(value, str):
        too_big("format", printf_size(value, kwargs or args, cap), cap)
    elif name == "replace" and len(args) >= 2:
        size = str_method_size(str(value), "replace", (str(args[0]), str(args[1])) + args[2:3], {}, cap)
        too_big("replace", size or 0, cap)
    elif name == "join":
        sep = args[0] if args else kwargs.get("d", "")
        items = value if isinstance(value, (list, tuple)) else None
        if items is not None:
            too_big("join", sum(weight(i, cap) for i in items) + len(str(sep)) * len(items), cap)
    elif name in ("batch", "slice"):
        count = args[0] if args else 0
        if isinstance(count, int) and count > budget().limits.max_range:
            raise TemplateLimitError(f"{name}({count:,})", "MAX_RANGE", budget().limits.max_range)
    elif name in ("tojson", "pprint"):
        indent = args[0] if args else kwargs.get("indent")
        if isinstance(indent, int) and indent > 64 or isinstance(indent, str) and len(indent) > 64:
            raise TemplateLimitError(f"{name} indent of {indent if isinstance(indent, int) else len(indent)}",
                                     "MAX_OUTPUT", cap)


def _bounded_filter(name: str, func):
    skip = 1 if _PassArg.from_obj(func) is not None else 0
    shrinks = name in _SHRINKING_ON_TEXT

    @functools.wraps(func)
    def bounded(*args, **kwargs):
        if shrinks and len(args) > skip and type(args[skip]) is str:  # the hot path: trim, lower, ...
            return func(*args, **kwargs)
        budget().tick()
        if len(args) > skip:
            _filter_checks(name, args[skip], args[skip + 1:], kwargs)
        result = func(*args, **kwargs)
        _post_check(f"the {name} filter", result)
        return result
    bounded.df_bounded = True
    return bounded


def bound_filter(env: BoundedSandbox, name: str, func) -> None:
    """Add a filter of your own (e.g. transformers' tojson) with the same checks as the built-in ones."""
    env.filters[name] = _bounded_filter(name, func)
