"""`format` over column batches: a polars frame of record columns in, JSON lines out.

The columnar reader (`dataforge.io.columnar.batches`) hands over runs of plain
Dolly/Alpaca rows as frames of `id, instruction, context, output, lang,
category, system`. With a compiled pack (`fastpath.FastPack`) and one language
for every row (`--lang xx`), each frame renders as one polars expression: per
truth of the tested fields (`{% if context %}`...) a `concat_str` of the pack's
texts and the columns, and each line is `{"id","text"}` (or `prompt` and
`completion`) encoded by polars, which escapes exactly as orjson does.

A frame that needs anything else comes back as records with their places
(`records`), for the row path: a special token in a text (rejected or escaped
per row), a text over the template output limit (Jinja names the limit).
"""

from __future__ import annotations

import re
import sys

import polars as pl
from jinja2 import nodes

from dataforge.formatting.fastpath import ROW, FastPack
from dataforge.records import InstructionRecord
from dataforge.templates.limits import current_limits

# str.isspace() exactly, as a character class (a regex \s differs: \x1c-\x1f are Python whitespace):
# a blank context gets no header
_BLANK = "^[" + "".join(re.escape(chr(c)) for c in range(sys.maxunicode + 1) if chr(c).isspace()) + "]*$"


def columns_available() -> bool:
    """May batches come as frames? Not when DATAFORGE_ROW_PATH asks for the row path everywhere."""
    from dataforge.io.columnar import enabled

    return enabled()


def frame_lines(fast: FastPack, lang: str, strings: tuple, style: str, frame: pl.DataFrame) -> memoryview | None:
    """The frame's rows as JSON lines (each ending in \\n), or None when a row needs the row path."""
    ctx = pl.when(pl.col("context").str.contains(_BLANK)).then(pl.lit("", dtype=pl.String)) \
        .otherwise(pl.col("context"))
    values = {"instruction": pl.col("instruction"), "context": ctx, "output": pl.col("output"),
              "system": pl.col("system"), "id": pl.col("id"), "category": pl.col("category")}
    frame = frame.select(*(values[name].alias(name) for name in ROW))
    texts = [pl.col(n) for n in ("instruction", "context", "output", "system")]
    if fast.specials and frame.select(pl.any_horizontal(
            [c.str.contains(s, literal=True) for c in texts for s in fast.specials]).any()).item():
        return None
    constants = fast.constants(lang, strings)
    prompt, completion = _expression(fast.prompt, constants), _expression(fast.completion, constants)
    if style == "text":
        fields = [_cat(prompt + completion).alias("text")]
    else:
        fields = [_cat(prompt).alias("prompt"), _cat(completion).alias("completion")]
    out = frame.select(pl.col("id"), *fields)
    cap = current_limits().max_output
    names = ("prompt", "completion") if style != "text" else ()
    names = names or ("text",)
    longest = out.select(*(pl.col(n).str.len_bytes().max() for n in names)).row(0)  # no scan: >= chars
    if any(n is not None and n > cap for n in longest):
        longest = out.select(*(pl.col(n).str.len_chars().max() for n in names)).row(0)
    if any(n is not None and n > cap for n in longest):
        return None  # over the limit: the row path says which render and why
    line = out.select(pl.concat_str([pl.struct(pl.all()).struct.json_encode(), pl.lit("\n")]))
    return _buffer(line.to_series())


def _expression(form, constants: dict[str, str]) -> list:
    """The source as a list of texts and polars expressions, `if`s as when/then on the tested columns
    (tests on constants decided here): concatenated, it is what `fastform.SimpleForm.parts` gives row by row."""
    env: dict[str, object] = dict(constants)
    for name in ROW:
        env[name] = pl.col(name)
    return _seq(form.tree.body, env)


def _cat(items: list) -> pl.Expr:
    merged: list = []
    for item in items:
        if type(item) is str and merged and type(merged[-1]) is str:
            merged[-1] += item
        elif not (type(item) is str and item == ""):
            merged.append(item)
    exprs = [pl.lit(i, dtype=pl.String) if type(i) is str else i for i in merged]
    if not exprs:
        return pl.lit("", dtype=pl.String)
    return exprs[0] if len(exprs) == 1 else pl.concat_str(exprs)


def _seq(body: list, env: dict) -> list:
    out: list = []
    for node in body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                out += [child.data] if isinstance(child, nodes.TemplateData) else _value(child, env)
        else:  # If (SimpleForm admits nothing else)
            out += _choose([(t.test, t.body) for t in (node, *node.elif_)], node.else_, env, _seq)
    return out


def _choose(branches: list, otherwise, env: dict, render) -> list:
    """if/elif/else: tests on constants are decided now, tests on columns become when/then."""
    result = render(otherwise, env) if otherwise is not None else None
    for test, body in reversed(branches):
        truth = _test(test, env)
        if truth is True:
            result = render(body, env)
        elif truth is not False:
            result = [pl.when(truth).then(_cat(render(body, env))).otherwise(_cat(result))]
    return result


def _test(node, env: dict):
    """True / False for a test on constants, else a boolean expression."""
    if isinstance(node, nodes.Name):
        value = env[node.name]
        return bool(value) if type(value) is str else value != ""
    if isinstance(node, nodes.Const):
        return bool(node.value)
    if isinstance(node, nodes.Not):
        inner = _test(node.node, env)
        return (not inner) if type(inner) is bool else ~inner
    left, right = _test(node.left, env), _test(node.right, env)
    if isinstance(node, nodes.Or):
        if type(left) is bool:
            return True if left else right
        return left if right is False else (True if right is True else left | right)
    if type(left) is bool:  # And
        return right if left else False
    return left if right is True else (False if right is False else left & right)


def _value(node, env: dict) -> list:
    if isinstance(node, nodes.Name):
        return [env[node.name]]
    if isinstance(node, nodes.Const):
        return [node.value]
    if isinstance(node, nodes.Or):  # the left value when it is true, else the right one
        return _choose([(node.left, node.left)], node.right, env, _value)
    if isinstance(node, nodes.And):  # the right value when the left one is true, else the left one
        return _choose([(node.left, node.right)], node.left, env, _value)
    if isinstance(node, nodes.CondExpr):
        return _choose([(node.test, node.expr1)], node.expr2, env, _value)
    if isinstance(node, nodes.Add):
        return _value(node.left, env) + _value(node.right, env)
    return [p for child in node.nodes for p in _value(child, env)]  # Concat


def _buffer(series: pl.Series) -> memoryview:
    """The text of all rows back to back, read in place from the Arrow buffer."""
    from dataforge.io.arrow_text import joined_bytes

    return joined_bytes(series)


def records(frame: pl.DataFrame, where: tuple[str, int]) -> list[tuple[InstructionRecord, tuple[str, int]]]:
    """The frame as the records the row path would have read, with (file, line) each; `where` is the
    place of its last row (its rows are consecutive lines)."""
    name, last = where
    first = last - frame.height + 1
    out = []
    for k, (rid, ins, ctx, output, lang, cat, system) in enumerate(
            frame.select("id", "instruction", "context", "output", "lang", "category", "system").iter_rows()):
        out.append((InstructionRecord(ins, output, ctx, rid, lang, cat, {"system": system} if system else {}),
                    (name, first + k)))
    return out
