"""`dataforge inspect`: what a dataset is, before anything is done to it.

Shape and file type, row count, columns with fill rates, a few sample rows,
and a summary of the rows that could not be read (by reason, with examples).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dataforge.io import RejectSink, read_dataset
from dataforge.io.safety import check_outputs
from dataforge.io.tuning import fewer_gc_passes
from dataforge.progress import progress_bar


@dataclass
class Inspection:
    files: list[dict]
    shape: str
    kind: str
    rows: int
    good: int
    rejected: int
    columns: dict  # column -> {"present": share of rows, "filled": share non-empty}
    samples: list[dict]
    reject_reasons: dict
    reject_examples: list[dict] = field(default_factory=list)
    renamed: int = 0  # rows whose id repeated an earlier row's, kept under ID-2, ID-3, ...

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def inspect_dataset(data, *, mapping=None, fmt: str | None = None, samples: int = 3,
                    rejects_path=None) -> Inspection:
    if rejects_path is not None:
        check_outputs([rejects_path], data, kind="file", with_rejects=False, labels=["--rejects"])
    sink = RejectSink(rejects_path)
    with sink:
        ds = read_dataset(data, fmt=fmt, mapping=mapping, rejects=sink, track_columns=True)
        with progress_bar("inspect") as bar, fewer_gc_passes():
            ds.progress = bar
            picked = []
            for record in ds:
                if len(picked) < samples:
                    picked.append(record.to_dict())
    st = ds.stats
    usable = max(st.parsed, 1)  # rows that were objects at all; unreadable lines have no columns
    columns = {c: {"present": round(st.seen[c] / usable, 4), "filled": round(st.filled[c] / usable, 4)}
               for c in sorted(st.seen, key=lambda c: (-st.seen[c], c))}
    return Inspection(
        files=[{"path": str(f.path), "type": f.type, "shape": ds.shapes[f]} for f in ds.files],
        shape=ds.shape, kind=ds.kind, rows=st.read, good=st.ok, rejected=sink.count, columns=columns,
        samples=picked, reject_reasons=dict(sink.by_reason),
        reject_examples=[{"where": r.location(), "reason": r.reason} for r in sink.examples],
        renamed=st.renamed,
    )
