"""Batches of row dicts into one Parquet file whose schema may grow as rows arrive.

Column types come from the values (pyarrow's own inference), so text stays
text, numbers stay numbers and chat columns (`messages`, `conversations`,
TRL `prompt`/`completion`) stay lists of {role, content} structs that
`datasets` and TRL read as conversations. Dict values such as `meta` have
keys that differ from row to row, so they are stored as JSON text.

The schema is never trusted from the first batch: a column that first
appears later, or a type that widens (null -> text, list<null> -> list of
pairs, int -> float), rewrites what was written so far under the wider
schema. A value no common type can hold (text in one row, a list in
another), and objects nested more than three structs deep (tool schemas,
tool-call arguments as objects), turn that column into JSON text. Rewrites happen at most a few
times per column, so the cost stays linear in practice.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

MIN_ROW_GROUP = 4096  # rows: smaller tables wait to be written together
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError,
                 OverflowError, ValueError)


def _json_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if type(value) is dict and not value:  # most rows' meta: skip the encoder
        return "{}"
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS,
                        default=str).decode()


def _as_text(values: list) -> pa.Array:
    return pa.array([_json_text(v) for v in values], type=pa.string())


def to_arrow(values: list, want: pa.DataType | None = None) -> pa.Array:
    """One column of Python values as an Arrow array, in `want`'s type when the values fit it."""
    if want is not None:
        if want == pa.string() and isinstance(next((v for v in values if v is not None), None), (dict, list)):
            return _as_text(values)  # e.g. meta: known to be JSON text, skip the failing typed attempt
        try:
            return pa.array(values, type=want)
        except _ARROW_ERRORS:
            pass
    try:
        arr = pa.array(values)
    except _ARROW_ERRORS:
        return _as_text(values)
    if pa.types.is_struct(arr.type) or isinstance(arr, pa.ChunkedArray) or _struct_depth(arr.type) > 3:
        # dicts (meta), and JSON objects nested deep in lists (tool schemas, tool-call arguments): their keys
        # vary by row, and one struct type would give every row every key, filled with nulls
        return _as_text(values)
    return arr


def _struct_depth(t: pa.DataType) -> int:
    """Structs nested in a type (messages: 1; a tool call's function: 3; its arguments as an object: 4)."""
    if pa.types.is_struct(t):
        return 1 + max((_struct_depth(t.field(i).type) for i in range(t.num_fields)), default=0)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _struct_depth(t.value_type)
    return 0


def conform(arr: pa.Array, want: pa.DataType) -> pa.Array:
    """`arr` cast to `want`; values Arrow cannot cast (a list into text) become JSON text."""
    if arr.type == want:
        return arr
    try:
        return arr.cast(want)
    except _ARROW_ERRORS:
        if want == pa.string():
            return _as_text(arr.to_pylist())
        raise


def widen(old: pa.DataType, new: pa.DataType) -> pa.DataType:
    """The narrowest type holding both; text when nothing else can."""
    if old == new:
        return old
    try:
        merged = pa.unify_schemas([pa.schema([("c", old)]), pa.schema([("c", new)])],
                                  promote_options="permissive").field("c").type
    except _ARROW_ERRORS:
        return pa.string()
    if pa.types.is_large_string(merged) or pa.types.is_string_view(merged):
        return pa.string()
    return merged


class ParquetStage:
    """Append row-dict batches to `path`; `close()` finishes the file (an empty table if no rows).

    The caller's thread turns each batch into an Arrow table (and decides the
    schema); one background thread does the file work. Compression runs there
    without the GIL, overlapping with the parsing of the next batch. At most two
    tables wait in the queue, so memory stays flat. An error in the thread is
    raised by the next `write` or by `close`.
    """

    def __init__(self, path: str | os.PathLike, compression: str = "zstd", threaded: bool = True):
        self.path = Path(path)
        self.compression = compression
        self.schema: pa.Schema | None = None  # the schema of the file being written
        self._writer: pq.ParquetWriter | None = None
        self._error: BaseException | None = None
        self._queue = self._thread = None
        self._pending: list[pa.Table] = []  # tables not yet handed to the file, in order
        self._pending_rows = 0
        if threaded:
            import queue
            import threading

            self._queue = queue.Queue(maxsize=2)
            self._thread = threading.Thread(target=self._work, name="parquet-writer", daemon=True)
            self._thread.start()

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        self._raise()
        known = self.schema.names if self.schema is not None else []
        names = list(dict.fromkeys([*known, *(k for r in rows for k in r)]))
        arrays = []
        for name in names:
            want = self.schema.field(name).type if name in known else None
            arrays.append(to_arrow([r.get(name) for r in rows], want))
        self._append(names, arrays)

    def write_table(self, table: pa.Table) -> None:
        """A batch already in columns (the columnar path), under the same schema rules as `write`."""
        if not table.num_rows:
            return
        self._raise()
        known = self.schema.names if self.schema is not None else []
        names = list(dict.fromkeys([*known, *table.column_names]))
        arrays = [table.column(n).combine_chunks() if n in table.column_names
                  else pa.nulls(table.num_rows, self.schema.field(n).type) for n in names]
        self._append(names, arrays)

    def _append(self, names: list[str], arrays: list[pa.Array]) -> None:
        known = self.schema.names if self.schema is not None else []
        if self.schema is None:
            self.schema = pa.schema([(n, a.type) for n, a in zip(names, arrays)])
            self._do(self._open, self.schema)
        else:
            grown = pa.schema([(n, widen(self.schema.field(n).type, a.type) if n in known else a.type)
                               for n, a in zip(names, arrays)])
            if grown != self.schema:
                self._flush_pending()  # what waits goes into the file first, under the old schema
                self.schema = grown
                self._do(self._rewrite, grown)
        table = pa.Table.from_arrays([conform(a, f.type) for a, f in zip(arrays, self.schema)], schema=self.schema)
        # Small tables (columnar runs between odd rows) wait and go out together: one row group per few
        # thousand rows, not per run
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= MIN_ROW_GROUP:
            self._flush_pending()

    def _flush_pending(self) -> None:
        if self._pending:
            table = self._pending[0] if len(self._pending) == 1 else pa.concat_tables(self._pending)
            self._do(self._write_table, table)
            self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        """Finish the file; raises what the background thread hit, if anything."""
        self._flush_pending()
        if self.schema is None:
            self.schema = pa.schema([])
            self._do(pq.write_table, pa.table({}), self.path)
        self._do(self._close_writer)
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise()

    # ---- file work: in the background thread when threaded -------------------

    def _do(self, func, *args) -> None:
        if self._queue is None:
            func(*args)
        else:
            self._queue.put((func, args))

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self._error is None:
                try:
                    job[0](*job[1])
                except BaseException as exc:  # handed over to the caller's thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _open(self, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(self.path, schema, compression=self.compression)

    def _write_table(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _rewrite(self, schema: pa.Schema) -> None:
        """Copy what is written so far into a new file under the wider `schema`."""
        self._writer.close()
        old = self.path.with_name(self.path.name + ".widen")
        os.replace(self.path, old)
        try:
            self._open(schema)
            for batch in pq.ParquetFile(old).iter_batches(batch_size=8192):
                columns = []
                for field in schema:
                    if field.name in batch.schema.names:
                        columns.append(conform(batch.column(field.name), field.type))
                    else:
                        columns.append(pa.nulls(batch.num_rows, field.type))
                self._writer.write_table(pa.Table.from_arrays(columns, schema=schema))
        finally:
            old.unlink(missing_ok=True)
