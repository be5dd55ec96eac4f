"""The prepare pass over batches of columns: key texts, normalisation and exact hashes as column expressions.

`prepare` hands each batch the columnar reader (`dataforge.io.columnar`)
took whole to `add_batch`, which records for it what the per-row loop
records for each row: the row written back in its shape, the normalised
whole-example key and prompt, their 64-bit hashes, the exact-duplicate group
and (for near dedup) the key text of each new group. The texts are built
and normalised by polars for ASCII rows (lower case, folded punctuation,
collapsed whitespace: what `text.normalize` does to ASCII); rows with other
characters go through `normalize` itself (NFKC and casefold), so every hash
equals the row path's.

Taken only where the row path's result is known to be the same: Dolly or
Alpaca rows written back as they came, `--keep first`, the whole-example
(`auto`/`all`) or `prompt` key, no `--against` (see `usable`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import xxhash

from dataforge.dedup.keys import _ANS, _SEP
from dataforge.dedup.text import normalize
from dataforge.io.arrow_text import map_bytes

# text.normalize on ASCII: lower case, then each run of _FOLD's ASCII punctuation and str.split()'s ASCII
# whitespace becomes one space (trimmed at the ends). Runs already one space are left alone (far fewer
# replacements; the result is the same).
_RUN = r"""[.,;:!?"'`\t\n\x0b\x0c\r\x1c-\x1f ]"""
_CHANGE = _RUN + r"{2,}|" + r"""[.,;:!?"'`\t\n\x0b\x0c\r\x1c-\x1f]"""
_NON_ASCII = r"[^\x00-\x7f]"


def usable(target: str, shape: str, key, keep, evals) -> bool:
    preset = key.resolved("instruction").preset
    return (evals is None and keep.name == "first" and preset in ("all", "prompt")
            and shape in ("dolly", "alpaca") and target == shape)


def _clean(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all("[\x01\x02]", " ")  # keys._clean: the field marks stay unambiguous


def _prompt() -> pl.Expr:
    return (pl.when(pl.col("context") != "")
            .then(pl.concat_str([pl.col("instruction"), pl.lit("\n\n"), pl.col("context")]))
            .otherwise(pl.col("instruction")))


def _whole() -> pl.Expr:
    """keys.whole_text of an instruction record: [system], prompt, then the answer after its mark."""
    system = pl.when(pl.col("system") != "").then(
        pl.concat_str([_clean(pl.col("system")), pl.lit(_SEP)])).otherwise(pl.lit(""))
    return pl.concat_str([system, _clean(_prompt()), pl.lit(_ANS), _clean(pl.col("output"))])


def _normalized(texts: pl.Series) -> pl.Series:
    """text.normalize of each text: by columns for ASCII texts, by `normalize` for the others."""
    ascii_form = texts.str.to_lowercase().str.replace_all(_CHANGE, " ").str.strip_chars(" ")
    other = texts.str.len_bytes() != texts.str.len_chars()
    if not other.any():
        return ascii_form
    idx = other.arg_true().to_list()
    values = ascii_form.to_list()
    originals = texts.gather(idx).to_list()
    for i, text in zip(idx, originals):
        values[i] = normalize(text)
    return pl.Series(values, dtype=pl.String)


def _whole_normalized(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """(normalize(whole_text), normalize(prompt_text)) per row, each text normalised once: the field marks
    stand alone between spaces, so the whole key's normal form is its parts' normal forms around them."""
    marked = frame.select(pl.any_horizontal([pl.col(c).str.contains("[\x01\x02]") for c in
                                             ("instruction", "context", "output", "system")]).any()).item()
    if marked:  # _clean changes these texts: the prompt key and the whole key differ in more than the marks
        return _normalized(frame.select(_whole()).to_series()), _normalized(frame.select(_prompt()).to_series())
    prompt = _normalized(frame.select(_prompt()).to_series())
    parts = frame.select(prompt.alias("p"), _normalized(frame["output"]).alias("o"), pl.col("system"))
    has_system = (parts["system"] != "").any()
    if has_system:
        parts = parts.with_columns(_normalized(parts["system"]).alias("s"))
    p, o = pl.col("p"), pl.col("o")
    pieces = [pl.when(p != "").then(p + " ").otherwise(pl.lit("")), pl.lit("\x02"),
              pl.when(o != "").then(" " + o).otherwise(pl.lit(""))]
    if has_system:
        s = pl.col("s")
        system = pl.when(pl.col("system") != "").then(
            pl.concat_str([pl.when(s != "").then(s + " ").otherwise(pl.lit("")), pl.lit("\x01 ")]))
        pieces.insert(0, system.otherwise(pl.lit("")))
    return parts.select(pl.concat_str(pieces)).to_series(), prompt


def _hashes(series: pl.Series) -> list[int]:
    """text.exact_hash of each (already normalised) text, read in place from the Arrow buffer."""
    return map_bytes(series, xxhash.xxh3_64_intdigest)


def _json(expr: pl.Expr) -> pl.Expr:
    return pl.struct(expr.alias("v")).struct.json_encode().str.slice(5).str.head(-1)


def _row_lines(frame: pl.DataFrame, target: str) -> bytes:
    """The rows as `to_shape(record, target)` gives them, as the JSON lines orjson writes."""
    def field(name: str, expr: pl.Expr, first: bool = False) -> list[pl.Expr]:
        return [pl.lit(("{" if first else ",") + f'"{name}":'), _json(expr)]

    c = pl.col
    if target == "dolly":
        parts = [*field("id", c("id"), True), *field("instruction", c("instruction")), *field("context", c("context")),
                 *field("response", c("output")), *field("category", c("category")), *field("lang", c("lang")),
                 pl.lit(',"meta":{}}\n')]
    else:  # alpaca: the system prompt has its own column, so meta is empty
        parts = [*field("id", c("id"), True), *field("instruction", c("instruction")), *field("input", c("context")),
                 *field("output", c("output")), *field("system", c("system")), pl.lit(',"history":[]'),
                 *field("category", c("category")), *field("lang", c("lang")), pl.lit(',"meta":{}}\n')]
    arr = frame.select(pl.concat_str(parts)).to_series().to_arrow()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    return memoryview(arr.buffers()[2])[int(offsets[arr.offset]):int(offsets[arr.offset + len(arr)])]


def add_batch(frame: pl.DataFrame, name: str, first_line: int, st: Any) -> None:
    """Record a batch as prepare's loop records its rows; `st` holds that loop's arrays, maps and files."""
    n = frame.height
    gid0 = len(st.ids)
    st.rows_fh.write(_row_lines(frame, st.target))
    st.ids.extend(frame["id"].to_list())
    st.file_idx.extend([st.files.setdefault(name, len(st.files))] * n)
    st.lines.extend(range(first_line, first_line + n))
    st.lengths.extend([0] * n)
    st.scores.extend([math.nan] * n)
    if st.key_preset == "all":
        norms, p_norms = _whole_normalized(frame)
    else:
        norms = p_norms = _normalized(frame.select(_prompt()).to_series())
    hashes = _hashes(norms)
    empty = (norms == "").to_list()
    if st.track_prompts:
        p_empty = (p_norms == "").to_list()
        setdefault = st.first_prompt.setdefault
        st.prompt_group.extend([-1 if e else setdefault(h, gid0 + i)
                                for i, (h, e) in enumerate(zip(_hashes(p_norms), p_empty))])
    first, groups, new = st.first, [], []
    for i, (h, e) in enumerate(zip(hashes, empty)):
        if e:
            st.empty_key += 1
            groups.append(-1)
            continue
        rep = first.get(h)
        if rep is None:
            first[h] = rep = gid0 + i
            new.append(i)
        groups.append(rep)
    st.group.extend(groups)
    if st.near and new:
        texts = frame[new].select(_whole() if st.key_preset == "all" else _prompt()).to_series()  # KeySpec.text
        for i, text in zip(new, texts.to_list()):
            shard = st.reps % st.shards
            st.shard_fhs[shard].write(orjson.dumps(text) + b"\n")
            st.shard_rows[shard].append(gid0 + i)
            st.reps += 1
