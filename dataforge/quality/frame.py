"""A dataset as one polars frame for the report: one row per record, one column per text field.

Rows are read with `read_dataset(require_text=False)`, so an empty output is
measured (and reported) rather than rejected; rows that cannot become a record
at all go to the rejects sink and are listed in the report.

A multi-turn conversation becomes one row: its user turns joined as the
instruction and its assistant turns joined as the output (`turns` keeps the
count), so lengths and signals cover every turn.

What `dataforge dedup` compares for each record (its default key and the
prompt, from `dataforge.dedup.keys`, turn order included; None for a row that
dedup's reader would reject) goes, block by block, to a
`dedup.find.DuplicateFinder`, which keeps hashes and spills the key texts to a
temporary file: the frame holds the text fields once, and the duplicates
section counts exactly what dedup would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dataforge.dedup.find import DuplicateFinder
from dataforge.dedup.keys import row_keys
from dataforge.errors import InputError
from dataforge.io import Reject, RejectSink, RowError, read_dataset
from dataforge.io.rowmap import check_text
from dataforge.progress import progress_bar

TEXT_FIELDS = {
    "instruction": ("instruction", "context", "output"),
    "preference": ("instruction", "context", "chosen", "rejected"),
    "kto": ("instruction", "context", "completion"),
}
ANSWER_FIELDS = {"instruction": ("output",), "preference": ("chosen", "rejected"), "kto": ("completion",)}
REJECT_EXAMPLES = 20
OFFER_ROWS = 50_000  # rows per block: handed to `on_rows`, then turned into a polars frame


@dataclass
class Loaded:
    frame: pl.DataFrame
    kind: str  # "instruction" | "preference"
    shape: str
    files: list[dict]
    read: int
    rejected: int
    rejects: dict = field(default_factory=dict)
    duplicates: DuplicateFinder | None = None  # fed with every row's dedup key and prompt

    @property
    def text_fields(self) -> tuple[str, ...]:
        return TEXT_FIELDS[self.kind]

    @property
    def answer_fields(self) -> tuple[str, ...]:
        return ANSWER_FIELDS[self.kind]


SLICE_ROWS = 50_000  # rows per pass of per-row column expressions (`with_sliced_columns`)


def with_sliced_columns(frame: pl.DataFrame, exprs: list[pl.Expr]) -> pl.DataFrame:
    """`frame.with_columns(exprs)` for per-row expressions, evaluated SLICE_ROWS rows at a time.

    String expressions work on copies of their column (stripped, lower-cased, or
    Python lists for `map_batches`): over a whole 1M-row frame those copies were
    gigabytes. Per slice they are bounded, and per-row results are the same.
    """
    if frame.height <= SLICE_ROWS:
        return frame.with_columns(exprs)
    new = pl.concat([frame.slice(start, SLICE_ROWS).select(exprs) for start in range(0, frame.height, SLICE_ROWS)])
    return frame.with_columns(new.get_columns())


def estimate_rows(ds) -> int | None:
    """About how many rows DATA holds, without reading it; None when that cannot be cheap.

    Parquet says exactly; uncompressed JSONL/CSV is estimated from the file size and
    the mean line length of its first megabyte (exact for smaller files).
    """
    total = 0
    for f in ds.files:
        if f.type == "parquet":
            import pyarrow.parquet as pq

            try:
                total += pq.ParquetFile(f.path).metadata.num_rows
            except Exception:  # unreadable: the reader will say so
                return None
        elif f.type in ("jsonl", "csv") and f.compression is None:
            size = f.path.stat().st_size
            with open(f.path, "rb") as fh:
                head = fh.read(1 << 20)
            lines = head.count(b"\n") + (not head.endswith(b"\n") and bool(head))
            if not lines:
                continue
            total += lines if len(head) >= size else int(size / (len(head) / lines))
        else:
            return None
    return total


def load_frame(data, *, mapping=None, fmt: str | None = None, rejects_path=None,
               strict: bool = False, on_open=None) -> Loaded:
    """Read DATA (any shape read_dataset knows) into a Loaded frame plus its rejects.

    `on_open(dataset)` is called before reading starts and may return a callback
    `on_rows(start, {field: [texts]})`, called every few thousand rows as they are read.
    """
    sink = RejectSink(rejects_path, strict=strict, keep_examples=REJECT_EXAMPLES)
    with sink, progress_bar("reading", unit="rows") as bar:
        ds = read_dataset(data, fmt=fmt, mapping=mapping, rejects=sink, require_text=False,
                          progress=bar)
        if ds.kind not in TEXT_FIELDS:  # plain text has no prompt or answer to measure
            raise InputError(f"{_name(data)}: the report measures prompts and answers; this is {ds.kind} data",
                             "inspect and dedup read it; the report does not cover plain text yet")
        on_rows = on_open(ds) if on_open else None
        fields = TEXT_FIELDS[ds.kind]
        names = ("id", "file", "line", *fields, "category", "lang", "system", "turns")
        files = {str(f.path): i for i, f in enumerate(ds.files)}
        finder = DuplicateFinder()
        try:
            parts = _fill(ds, fields, names, files, on_rows, finder)
        except BaseException:
            finder.close()
            raise
    if ds.stats.read == 0:
        finder.close()
        raise InputError(f"{_name(data)}: no rows to report on (the input is empty)",
                         "check that you passed the right file")
    frame = pl.concat(parts, rechunk=False) if parts else pl.DataFrame(schema=_schema(names))
    frame = frame.with_row_index("row")
    release_freed_memory()
    return Loaded(
        frame=frame, kind=ds.kind, shape=ds.shape,
        files=[{"path": str(f.path), "type": f.type, "shape": ds.shapes[f]} for f in ds.files],
        read=ds.stats.read, rejected=sink.count, rejects=_rejects_summary(sink), duplicates=finder,
    )


def release_freed_memory() -> None:
    """Hand freed heap pages back to the OS (glibc keeps them: each block's Python lists of texts
    are freed after the block, yet the process kept ~100 MB per 200k rows it no longer used)."""
    import ctypes
    import sys

    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to trim
            pass


def _schema(names) -> dict:
    schema = {name: pl.String for name in names}
    schema.update(file=pl.UInt16, line=pl.Int64, turns=pl.UInt16)
    return schema


def _fill(ds, fields: tuple[str, ...], names, files: dict[str, int], on_rows,
          finder: DuplicateFinder) -> list[pl.DataFrame]:
    """The records as frames of OFFER_ROWS rows each: Python lists never hold more than that."""
    parts: list[pl.DataFrame] = []
    schema = _schema(names)
    cols: dict[str, list] = {name: [] for name in names}
    keys: list[str | None] = []
    prompts: list[str | None] = []

    def flush() -> None:
        if not cols["id"]:
            return
        if on_rows is not None:
            on_rows(OFFER_ROWS * len(parts), {name: cols[name] for name in fields})
        finder.add(keys, prompts)
        parts.append(pl.DataFrame(cols, schema=schema))
        for values in (*cols.values(), keys, prompts):
            values.clear()

    # Appending to plain lists and building a frame per block is the fastest way from records to polars.
    id_, file_, line_ = cols["id"].append, cols["file"].append, cols["line"].append
    cat_, lang_, sys_, turns_ = (cols[n].append for n in ("category", "lang", "system", "turns"))
    key_, prompt_ = keys.append, prompts.append
    text_cols = [(name, cols[name].append) for name in fields]
    ids = cols["id"]
    for record in ds:
        where, line = ds.where
        file_(files.get(where, 0))
        line_(line)
        id_(record.id)
        lang_(record.lang)
        if record.kind == "conversation":
            texts = _conversation_texts(record)
            turns_(sum(1 for m in record.messages if m["role"] != "system"))
            cat_("")
        else:
            texts = record
            turns_(2)
            cat_(getattr(record, "category", ""))
        sys_(record.meta.get("system", "") if isinstance(record.meta, dict) else "")
        key, prompt = dedup_keys(record)
        key_(key)
        prompt_(prompt)
        for name, add in text_cols:
            add(getattr(texts, name))
        if len(ids) == OFFER_ROWS:
            flush()
    flush()
    return parts


def dedup_keys(record) -> tuple[str | None, str | None]:
    """dedup's key and prompt texts of a record; (None, None) when dedup would reject the row."""
    try:
        check_text(record)
    except RowError:
        return None, None
    return row_keys(record)


class _Joined:
    __slots__ = ("instruction", "context", "output")

    def __init__(self, instruction: str, output: str):
        self.instruction, self.context, self.output = instruction, "", output


def _conversation_texts(record) -> _Joined:
    users = [m["content"] for m in record.messages if m["role"] == "user"]
    answers = [m["content"] for m in record.messages if m["role"] == "assistant"]
    system = next((m["content"] for m in record.messages if m["role"] == "system"), "")
    if system and isinstance(record.meta, dict):
        record.meta.setdefault("system", system)
    return _Joined("\n\n".join(users), "\n\n".join(answers))


def _rejects_summary(sink: RejectSink) -> dict:
    return {
        "count": sink.count,
        "by_reason": dict(sink.by_reason.most_common()),
        "file": str(sink.path) if sink.path and sink.count else None,
        "examples": [_reject_example(r) for r in sink.examples],
    }


def _reject_example(r: Reject) -> dict:
    return {"where": r.location(), "file": r.file, "line": r.line, "field": r.field,
            "reason": r.reason, "id": r.id}


def _name(data) -> str:
    if isinstance(data, (list, tuple)):
        return ", ".join(str(Path(d)) for d in data)
    return str(data)
