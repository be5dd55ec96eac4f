"""Templates whose only logic is `if` on variables, compiled to fixed parts (`str.format` strings).

Most prompt packs (alpaca, dolly, qa, completion) only print variables and
constant text, choosing sections with `{% if context %}` / `{{ system or intro }}`.
For such a source, what it writes is fixed once three things are known: the
language's wrapper strings (constants per language), the EOS token, and which
of the row's tested fields are non-empty. So each combination of those
compiles to one list of parts (texts and row values), used as one format
string (dataforge.formatting.fastpath) or one polars concat_str, e.g.

    "Below is an instruction ...\\n\\n### Instruction:\\n{0}\\n\\n### Response:\\n"

and rendering a row is `fmt.format(*values)`: the values are arguments, never
part of the format string, so braces or Jinja-looking text in the data are
written as they are.

Only this subset is compiled (anything else, e.g. a loop, a filter, a call, a
`{% set %}`, an unknown name, makes `simple_form` return None and the pack
keeps its Jinja render): TemplateData, `{{ name }}`, text constants, `a or b`,
`a and b`, `not a`, `a if c else b`, `a + b`, `a ~ b`, and `if/elif/else` over
those. The values must be `str` (the caller checks), which is what Jinja's
`{{ }}` and `if` see too: `str(v)` is `v` and a text is true when non-empty.
"""

from __future__ import annotations

import jinja2
from jinja2 import nodes

MAX_TESTS = 6  # tested row fields; 2**6 format strings at most per language


class Unsupported(Exception):
    """The source uses something outside the compiled subset."""


class SimpleForm:
    """One Jinja source as a tree of the supported nodes, specialised on demand.

    `row_names`: the per-row variables, in the order of the values passed to
    `format`; every other name must be a constant given to `formats()`.
    """

    def __init__(self, tree: nodes.Template, row_names: tuple[str, ...]):
        self.tree = tree
        self.row_names = row_names
        tested: list[str] = []
        _collect_tests(tree.body, tested, in_test=False)
        self.tests = tuple(dict.fromkeys(n for n in tested if n in row_names))  # row fields whose truth matters
        if len(self.tests) > MAX_TESTS:
            raise Unsupported("too many tested fields")
        self.test_index = tuple(row_names.index(n) for n in self.tests)

    def parts(self, constants: dict[str, str], truth: tuple[bool, ...]) -> list:
        """What the source writes for these constants when the tested row fields have this truth:
        texts (adjacent ones merged, none empty) and indexes of row values."""
        env: dict[str, object] = dict(constants)
        for i, name in enumerate(self.row_names):
            env[name] = i
        parts: list = []
        _body(self.tree.body, env, dict(zip(self.tests, truth)), parts)
        out: list = []
        for part in parts:
            if type(part) is str and out and type(out[-1]) is str:
                out[-1] += part
            elif part != "":
                out.append(part)
        return out


def simple_form(env: jinja2.Environment, source: str, row_names: tuple[str, ...],
                constant_names: tuple[str, ...]) -> SimpleForm | None:
    """A SimpleForm for `source`, or None when it needs Jinja (or names something undefined)."""
    try:
        tree = env.parse(source)
        form = SimpleForm(tree, row_names)
        _check_names(tree, set(row_names) | set(constant_names))
        # every combination must specialise (e.g. no undefined `else` of a conditional expression)
        constants = {n: "" for n in constant_names}
        for bits in range(1 << len(form.tests)):
            form.parts(constants, tuple(bool(bits >> i & 1) for i in range(len(form.tests))))
        return form
    except (Unsupported, jinja2.TemplateError):
        return None


_TEST_NODES = (nodes.Name, nodes.Const, nodes.Not, nodes.Or, nodes.And)


def _collect_tests(body, out: list, in_test: bool) -> None:
    """Names whose truth decides what is written (tests, and the operands of or/and)."""
    for node in body if isinstance(body, list) else [body]:
        if isinstance(node, nodes.If):
            _collect_tests(node.test, out, True)
            _collect_tests(node.body, out, False)
            for elif_ in node.elif_:
                _collect_tests(elif_, out, False)
            _collect_tests(node.else_, out, False)
        elif isinstance(node, nodes.Output):
            _collect_tests(node.nodes, out, False)
        elif isinstance(node, nodes.CondExpr):
            _collect_tests(node.test, out, True)
            _collect_tests(node.expr1, out, False)
            if node.expr2 is not None:
                _collect_tests(node.expr2, out, False)
        elif isinstance(node, (nodes.Or, nodes.And)):
            _collect_tests(node.left, out, True)
            _collect_tests(node.right, out, True)
        elif isinstance(node, nodes.Not):
            _collect_tests(node.node, out, True)
        elif isinstance(node, (nodes.Add, nodes.Concat)):
            for child in ([node.left, node.right] if isinstance(node, nodes.Add) else node.nodes):
                _collect_tests(child, out, in_test)
        elif isinstance(node, nodes.Name):
            if in_test:
                out.append(node.name)
        elif not isinstance(node, (nodes.TemplateData, nodes.Const)):
            raise Unsupported(type(node).__name__)


def _check_names(tree: nodes.Template, allowed: set[str]) -> None:
    for name in tree.find_all(nodes.Name):
        if name.ctx != "load" or name.name not in allowed:
            raise Unsupported(f"name {name.name}")  # undefined: Jinja gives the error


def _truth(node, env: dict, known: dict) -> bool:
    if isinstance(node, nodes.Name):
        value = env[node.name]
        return known[node.name] if type(value) is int else bool(value)
    if isinstance(node, nodes.Const):
        return bool(node.value)
    if isinstance(node, nodes.Not):
        return not _truth(node.node, env, known)
    if isinstance(node, nodes.Or):
        return _truth(node.left, env, known) or _truth(node.right, env, known)
    if isinstance(node, nodes.And):
        return _truth(node.left, env, known) and _truth(node.right, env, known)
    raise Unsupported(f"test {type(node).__name__}")


def _value(node, env: dict, known: dict) -> list:
    """The parts (text, or the index of a row value) an expression prints."""
    if isinstance(node, nodes.Name):
        return [env[node.name]]
    if isinstance(node, nodes.Const):
        if type(node.value) is not str:
            raise Unsupported("non-text constant")
        return [node.value]
    if isinstance(node, nodes.Or):
        return _value(node.left if _truth(node.left, env, known) else node.right, env, known)
    if isinstance(node, nodes.And):
        return _value(node.right if _truth(node.left, env, known) else node.left, env, known)
    if isinstance(node, nodes.CondExpr):
        if _truth(node.test, env, known):
            return _value(node.expr1, env, known)
        if node.expr2 is None:
            raise Unsupported("conditional without else")  # prints an undefined value
        return _value(node.expr2, env, known)
    if isinstance(node, nodes.Add):
        return _value(node.left, env, known) + _value(node.right, env, known)
    if isinstance(node, nodes.Concat):
        return [p for child in node.nodes for p in _value(child, env, known)]
    raise Unsupported(type(node).__name__)


def _body(body: list, env: dict, known: dict, parts: list) -> None:
    for node in body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    parts.append(child.data)
                else:
                    parts += _value(child, env, known)
        elif isinstance(node, nodes.If):
            branch = node.else_
            for test in [node, *node.elif_]:
                if _truth(test.test, env, known):
                    branch = test.body
                    break
            _body(branch, env, known, parts)
        else:
            raise Unsupported(type(node).__name__)
