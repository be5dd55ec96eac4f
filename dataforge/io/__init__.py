"""Reading and writing datasets: every shape and file type, bad rows to a rejects file.

    read_dataset(paths, mapping=..., strict via RejectSink(strict=True)) -> Dataset of records
    open_writer(path) / write_rows(rows, path)    atomic, format chosen by the path
    to_shape(record, "openai")                     records out to other tools' shapes
"""

from dataforge.io.atomic import atomic_path, atomic_write_text
from dataforge.io.export import DEFAULT_TARGET, TARGETS, check_target, messages_of, targets_for, to_shape
from dataforge.io.files import DataFile, output_type, resolve
from dataforge.io.reader import Dataset, ReadStats, parse_mapping, read_dataset
from dataforge.io.rejects import Reject, RejectSink, rejects_path_for
from dataforge.io.shapes import SHAPES, RowError
from dataforge.io.writers import open_writer, write_rows

__all__ = [
    "atomic_path", "atomic_write_text", "DEFAULT_TARGET", "TARGETS", "check_target", "messages_of",
    "targets_for", "to_shape", "DataFile", "output_type", "resolve", "Dataset", "ReadStats", "parse_mapping",
    "read_dataset", "Reject", "RejectSink", "rejects_path_for", "SHAPES", "RowError", "open_writer",
    "write_rows", "write_records",
]


def write_records(records, path, *, target: str | None = None, rejects: RejectSink | None = None) -> int:
    """Write records in `target` shape (default: their own); rows a shape cannot hold are rejected."""
    count = 0
    with open_writer(path) as writer:
        for record in records:
            try:
                writer.write(record.to_dict() if target is None else to_shape(record, target))
                count += 1
            except RowError as exc:
                if rejects is None:
                    raise
                where, line = getattr(records, "where", ("", None))
                rejects.add(Reject(exc.reason, file=where, line=line or None, field=exc.field, id=record.id,
                                   row=record.to_dict()))
    return count
