"""Record columns (from `dataforge.io.columnar`) out as the rows `export.to_shape` would write.

Two targets are built from columns: dataforge's own `instruction` rows and
`openai` chat rows, each to Parquet (an Arrow table with the row path's
column types) or JSON lines (each line the bytes orjson writes for that row:
polars' JSON encoder escapes the same characters the same way). Other
targets and formats take the record path.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from dataforge.io.arrow_text import joined_bytes
from dataforge.io.files import output_type

TARGETS = ("instruction", "openai")
_STR = pa.string()
_MESSAGES = pa.list_(pa.struct([("role", _STR), ("content", _STR)]))
_SCHEMAS = {
    "instruction": pa.schema([(n, _STR) for n in ("id", "instruction", "context", "output", "lang", "category",
                                                  "meta")]),
    "openai": pa.schema([("id", _STR), ("messages", _MESSAGES)]),
}


def supports(target: str, out) -> bool:
    """Can rows of `target` written to `out` be built from columns?"""
    return target in TARGETS and output_type(out) in ("parquet", "jsonl")


def _meta_json() -> pl.Expr:
    # records.meta is {} or {"system": ...} for the rows the columnar path takes
    return (pl.when(pl.col("system") != "").then(pl.struct(pl.col("system")).struct.json_encode())
            .otherwise(pl.lit("{}")))


def _messages() -> pl.Expr:
    user = pl.when(pl.col("context") != "").then(
        pl.concat_str([pl.col("instruction"), pl.lit("\n\n"), pl.col("context")])).otherwise(pl.col("instruction"))

    def turn(role: str, content: pl.Expr) -> pl.Expr:
        return pl.struct(pl.lit(role).alias("role"), content.alias("content"))

    two = pl.concat_list([turn("user", user), turn("assistant", pl.col("output"))])
    three = pl.concat_list([turn("system", pl.col("system")), turn("user", user), turn("assistant", pl.col("output"))])
    return pl.when(pl.col("system") != "").then(three).otherwise(two).alias("messages")


def table(frame: pl.DataFrame, target: str) -> pa.Table:
    """The rows as an Arrow table typed as the row path's Parquet writer types them."""
    if target == "instruction":
        out = frame.select("id", "instruction", "context", "output", "lang", "category", _meta_json().alias("meta"))
    else:
        out = frame.select("id", _messages())
    return out.to_arrow().cast(_SCHEMAS[target])


def _json(expr: pl.Expr) -> pl.Expr:
    """A text column as JSON string literals (quotes and escapes as orjson writes them)."""
    return pl.struct(expr.alias("v")).struct.json_encode().str.slice(5).str.head(-1)  # {"v":...} -> ...


def _openai_line() -> pl.Expr:
    # string pieces, not a list of structs: encoding nested lists is several times slower in polars
    user = pl.when(pl.col("context") != "").then(
        pl.concat_str([pl.col("instruction"), pl.lit("\n\n"), pl.col("context")])).otherwise(pl.col("instruction"))
    system = pl.when(pl.col("system") != "").then(
        pl.concat_str([pl.lit('{"role":"system","content":'), _json(pl.col("system")), pl.lit("},")])
    ).otherwise(pl.lit(""))
    return pl.concat_str([pl.lit('{"id":'), _json(pl.col("id")), pl.lit(',"messages":['), system,
                          pl.lit('{"role":"user","content":'), _json(user),
                          pl.lit('},{"role":"assistant","content":'), _json(pl.col("output")), pl.lit("}]}\n")])


def json_lines(frame: pl.DataFrame, target: str) -> memoryview:
    """The rows as JSON lines, each ending in \\n: one buffer, read in place."""
    if target == "instruction":
        parts = []
        for i, name in enumerate(("id", "instruction", "context", "output", "lang", "category")):
            parts += [pl.lit(("{" if not i else ",") + f'"{name}":'), _json(pl.col(name))]
        line = pl.concat_str([*parts, pl.lit(',"meta":'), _meta_json(), pl.lit("}\n")])
    else:
        line = _openai_line()
    return joined_bytes(frame.select(line).to_series())


def write_frame(frame: pl.DataFrame, target: str, writer) -> None:
    """Append the batch to an open Parquet or JSON lines writer (after any rows it still buffers)."""
    if output_type(writer.path) == "parquet":
        writer.write_table(table(frame, target))
    else:
        writer.write_bytes(json_lines(frame, target), frame.height)
