"""`dataforge convert`: any supported shape to any other that can hold it.

    >>> summary = convert("in.jsonl", "out.parquet", to="openai")   # doctest: +SKIP
    >>> summary.read == summary.written + summary.rejected          # doctest: +SKIP
    True

`--to llamafactory-alpaca|llamafactory-sharegpt` also writes the matching
entry into dataset_info.json beside OUT (created, or updated keeping its
other entries), so LLaMA-Factory reads the file as `--dataset OUT_STEM`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dataforge.errors import InputError
from dataforge.io import (
    DEFAULT_TARGET,
    RejectSink,
    RowError,
    check_target,
    open_writer,
    read_dataset,
    rejects_path_for,
    to_shape,
)
from dataforge.io.outcome import check_not_empty
from dataforge.io.rejects import Reject
from dataforge.io.safety import check_outputs
from dataforge.io.tuning import fewer_gc_passes
from dataforge.progress import progress_bar


@dataclass
class Summary:
    """Rows in = written + rejected; `rejects_path` is None when nothing was rejected."""

    read: int
    written: int
    rejected: int
    shape: str
    target: str
    output: str
    rejects_path: str | None
    reasons: dict
    renamed: int = 0  # rows kept under a derived id (ID-2, ...) because their id repeated
    dataset_info: str | None = None  # the dataset_info.json written beside a LLaMA-Factory output
    dataset_name: str | None = None

    def line(self) -> str:
        text = (f"read {self.read:,} rows ({self.shape}), wrote {self.written:,} ({self.target}),"
                f" rejected {self.rejected:,}")
        if self.renamed:
            text += f"; {self.renamed:,} repeated ids kept as ID-2, ID-3, ... (original in meta.original_id)"
        return text


def convert(data, out: str | os.PathLike, *, to: str | None = None, mapping=None, fmt: str | None = None,
            shape: str | None = None, strict: bool = False, allow_empty: bool = False) -> Summary:
    """Rows of `data` (any shape) to `out` in shape `to`. Reading rows but writing none raises
    EmptyOutput (the previous output, if any, is kept) unless `allow_empty`."""
    out = str(out)
    outputs, labels = [out], ["-o"]
    if to in ("llamafactory-alpaca", "llamafactory-sharegpt"):
        from dataforge.io.llamafactory import info_path

        outputs.append(str(info_path(out)))
        labels.append("its dataset_info.json")
    check_outputs(outputs, data, labels=labels)
    if len(outputs) > 1:  # refuse a dataset_info.json we may not edit before the data file is written
        from dataforge.io.llamafactory import check_info

        check_info(out)
    try:
        return _convert(data, out, to=to, mapping=mapping, fmt=fmt, shape=shape, strict=strict,
                        allow_empty=allow_empty)
    except OSError as exc:  # disk full, permission denied, ...: the path and the reason, no traceback
        where = exc.filename or out
        raise InputError(f"{where}: {exc.strerror or exc}",
                         "check free disk space and permissions; the old output (if any) is unchanged") from exc


def _convert(data, out: str, *, to, mapping, fmt, shape, strict, allow_empty) -> Summary:
    rejects = RejectSink(rejects_path_for(out), strict=strict)
    with rejects:
        # open (resolve, detect) and check before the bar starts, so an error is all the user sees
        ds = read_dataset(data, fmt=fmt, mapping=mapping, shape=shape, rejects=rejects)
        target = to or DEFAULT_TARGET[ds.kind]
        check_target(target, ds.kind)
        with progress_bar("convert") as bar, fewer_gc_passes():
            ds.progress = bar
            writer = open_writer(out)
            columns: set[str] = set()  # what the rows hold, for a dataset_info.json entry
            track = target.startswith("llamafactory-")
            source, frames, write_frame = _source(ds, target, out)
            try:
                for record in source:
                    if type(record) is frames:  # a batch of plain rows, already in columns
                        write_frame(record, target, writer)
                        continue
                    try:
                        row = to_shape(record, target)
                        writer.write(row)
                        if track:
                            columns.update(row)
                    except RowError as exc:
                        where, line = ds.where
                        rejects.add(Reject(exc.reason, file=where, line=line, field=exc.field, id=record.id,
                                           row=record.to_dict()))
                if ds.stats.read == 0:
                    names = ", ".join(str(p) for p in (data if isinstance(data, (list, tuple)) else [data]))
                    raise InputError(f"{names}: no rows to convert (the input is empty)",
                                     "check that you passed the right file")
            except BaseException as exc:
                writer.abort(exc)
                raise
            empty = writer.count == 0 and not allow_empty
            if empty:
                writer.abort()  # an empty file must not replace an earlier output; the rejects file is kept
            else:
                writer.close()
    summary = _summary(ds, writer, rejects, target, out)
    if not empty and target in ("llamafactory-alpaca", "llamafactory-sharegpt"):
        from dataforge.io.llamafactory import write_entry

        path, name = write_entry(out, target, ds.kind, columns)
        summary.dataset_info, summary.dataset_name = str(path), name
    if empty:
        check_not_empty(summary.read, summary.written, reasons=summary.reasons, rejects_path=summary.rejects_path,
                        output=out)
    return summary


def _source(ds, target: str, out: str):
    """What to iterate: the records, or (when the target and files allow) batches of columns between them;
    with the type of a batch and its writer (`dataforge.io.columnar`: same rows, ids and rejects either way)."""
    if target not in ("instruction", "openai"):
        return ds, None, None
    from dataforge.io import columnar, columnar_out  # polars: imported only when it can help

    if (not columnar.enabled() or not columnar_out.supports(target, out)
            or not any(columnar.usable(ds, f) for f in ds.files)):
        return ds, None, None
    return columnar.batches(ds), columnar.pl.DataFrame, columnar_out.write_frame


def _summary(ds, writer, rejects, target, out) -> Summary:
    written = writer.count
    return Summary(read=ds.stats.read, written=written, rejected=rejects.count, shape=ds.shape,
                   target=target, output=out, rejects_path=str(rejects.path) if rejects.count else None,
                   reasons=dict(rejects.by_reason), renamed=ds.stats.renamed)
