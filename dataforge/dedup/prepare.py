"""The prepare pass: read every input once, streaming, and keep only what dedup needs.

For each readable row it records, in small arrays: the row's id, file and
line, its length and keep score, and the 64-bit hash of its normalised key.
Rows with the same hash form an exact-duplicate group; the first row of each
group writes its key text to a shard for the MinHash stages (the other rows
of a group have the same key, so one signature per group is enough).
Rows that overlap an evaluation set are set aside before any of that, so the
keep rule only ever chooses among clean rows. When the key is more than the
prompt, the hash of the normalised prompt groups rows too, so the rows that
only share a prompt can be reported ("same prompt as X").

The rows themselves go, already in the output shape, to `rows.jsonl` in the
work folder; the final pass copies the survivors from there, so the inputs
are read once whatever the executor.
"""

from __future__ import annotations

import os
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from dataforge.dedup.decont import record_texts
from dataforge.dedup.keys import KeepRule, KeySpec, record_length
from dataforge.dedup.text import exact_hash, normalize
from dataforge.errors import InputError
from dataforge.io import RejectSink, RowError, check_target, read_dataset, to_shape
from dataforge.io.rejects import Reject
from dataforge.progress import progress_bar

# The input's shape -> the `to_shape` target that writes rows back the same way.
SAME_SHAPE = {"dolly": "dolly", "alpaca": "alpaca", "openai": "openai", "sharegpt": "sharegpt",
              "instruction": "instruction", "preference": "preference"}
_DUMP = orjson.OPT_SERIALIZE_NUMPY  # the options of dataforge's JSONL writer: lines can be copied as they are


@dataclass
class Prepared:
    """What the prepare pass knows about the rows; row number = position in rows.jsonl."""

    kind: str
    shape: str
    target: str
    read: int  # rows seen in the inputs
    files: list[str]
    ids: list[str]
    file_idx: np.ndarray
    lines: np.ndarray
    lengths: np.ndarray
    scores: np.ndarray
    group: np.ndarray  # row number of the group's first row; -1: not compared (empty key, contaminated)
    shard_rows: list[np.ndarray]  # per shard: row numbers of its key texts, in order
    contaminated: dict[int, dict] = field(default_factory=dict)
    empty_key: int = 0
    # row number of the first row with the same prompt; -1: empty prompt, contaminated. Empty: not tracked.
    prompt_group: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def rows(self) -> int:
        return len(self.ids)

    def where(self, row: int) -> tuple[str, int | None]:
        line = int(self.lines[row])
        return self.files[int(self.file_idx[row])], (line if line > 0 else None)

    def save(self, folder: Path) -> None:
        np.savez(folder / "state.npz", file_idx=self.file_idx, lines=self.lines, lengths=self.lengths,
                 scores=self.scores, group=self.group, prompt_group=self.prompt_group,
                 **{f"shard_{i}": s for i, s in enumerate(self.shard_rows)})
        meta = {"kind": self.kind, "shape": self.shape, "target": self.target, "read": self.read,
                "files": self.files, "ids": self.ids, "shards": len(self.shard_rows),
                "contaminated": {str(k): v for k, v in self.contaminated.items()}, "empty_key": self.empty_key}
        (folder / "state.json").write_bytes(orjson.dumps(meta))

    @classmethod
    def load(cls, folder: Path) -> "Prepared":
        meta = orjson.loads((folder / "state.json").read_bytes())
        arrays = np.load(folder / "state.npz")
        return cls(kind=meta["kind"], shape=meta["shape"], target=meta["target"], read=meta["read"],
                   files=meta["files"], ids=meta["ids"], file_idx=arrays["file_idx"], lines=arrays["lines"],
                   lengths=arrays["lengths"], scores=arrays["scores"], group=arrays["group"],
                   shard_rows=[arrays[f"shard_{i}"] for i in range(meta["shards"])],
                   contaminated={int(k): v for k, v in meta["contaminated"].items()},
                   empty_key=meta["empty_key"], prompt_group=arrays["prompt_group"])


def default_target(ds) -> str:
    if ds.shape in SAME_SHAPE:
        return SAME_SHAPE[ds.shape]
    if ds.kind in ("preference", "kto", "text"):  # dataforge's own rows of that kind
        return ds.kind
    return "openai" if any(s in ("openai", "sharegpt") for s in ds.shapes.values()) else "instruction"


def decont_texts(record) -> list[str]:
    """The texts of a training row checked against evaluation data (every kind of record)."""
    return [text for text, _ in record_texts(record)]


def prepare(data, work: Path, *, key: KeySpec, keep: KeepRule, to: str | None, mapping, fmt,
            strict: bool, near: bool, shards: int, evals=None) -> Prepared:
    """Read `data` once; write rows.jsonl, the key shards and the state files into `work`."""
    shard_dir = work / "shards"
    shard_dir.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    files: dict[str, int] = {}
    file_idx, lines, lengths = array("i"), array("q"), array("q")
    scores, group, prompt_group = array("d"), array("q"), array("q")
    shard_rows = [array("q") for _ in range(shards)]
    contaminated: dict[int, dict] = {}
    first: dict[int, int] = {}
    first_prompt: dict[int, int] = {}
    prompt_key = KeySpec("prompt")
    empty_key = reps = 0
    want_length = keep.name == "longest"
    sink = RejectSink(work / "prepare.rejects.jsonl", strict=strict)
    with sink, progress_bar("dedup: read", unit="rows") as bar:
        ds = read_dataset(data, mapping=mapping, fmt=fmt, rejects=sink, progress=bar)
        key.check(ds.kind)
        track_prompts = key.resolved(ds.kind).preset not in ("prompt", "instruction")
        target = to or default_target(ds)
        check_target(target, ds.kind)
        shard_fhs = [open(shard_dir / f"{i:05d}.jsonl", "wb") for i in range(shards)] if near else []
        try:
            with open(work / "rows.jsonl", "wb") as rows_fh:
                source, frames, st = _columnar(ds, target, key, keep, evals, locals())
                for record in source:
                    if type(record) is frames:  # a batch of plain rows in columns (dedup/exact_columnar.py)
                        st.empty_key, st.reps = empty_key, reps
                        st.add_batch(record, ds.where[0], ds.where[1] - record.height + 1, st)
                        empty_key, reps = st.empty_key, st.reps
                        continue
                    name, line = getattr(ds, "where", ("", 0))
                    try:
                        row = to_shape(record, target)
                    except RowError as exc:
                        sink.add(Reject(exc.reason, file=name, line=line or None, field=exc.field, id=record.id,
                                        row=record.to_dict()))
                        continue
                    gid = len(ids)
                    rows_fh.write(orjson.dumps(row, default=str, option=_DUMP) + b"\n")
                    ids.append(record.id)
                    file_idx.append(files.setdefault(name, len(files)))
                    lines.append(line or 0)
                    lengths.append(record_length(record) if want_length else 0)
                    scores.append(keep.score(record))
                    if evals is not None:
                        hit = evals.match(decont_texts(record))
                        if hit is not None:
                            contaminated[gid] = hit.to_dict()
                            group.append(-1)
                            prompt_group.append(-1)
                            continue
                    if track_prompts:
                        p_norm = normalize(prompt_key.text(record))
                        prompt_group.append(first_prompt.setdefault(exact_hash(p_norm), gid) if p_norm else -1)
                    text = key.text(record)
                    norm = normalize(text)
                    if not norm:
                        empty_key += 1
                        group.append(-1)
                        continue
                    h = exact_hash(norm)
                    rep = first.get(h)
                    if rep is None:
                        first[h] = rep = gid
                        if near:
                            shard = reps % shards
                            shard_fhs[shard].write(orjson.dumps(text) + b"\n")
                            shard_rows[shard].append(gid)
                            reps += 1
                    group.append(rep)
        finally:
            for fh in shard_fhs:
                fh.close()
    if ds.stats.read == 0:
        raise InputError(f"{', '.join(map(str, data))}: no rows to deduplicate (the input is empty)",
                         "check that you passed the right file")
    compared = len(ids) - len(contaminated)
    if compared and empty_key == compared:
        raise InputError(f"--key {key.describe()} is empty in every row, so nothing can be compared",
                         "pick fields that hold text: --key prompt, instruction, all, or FIELD,FIELD")
    return Prepared(kind=ds.kind, shape=ds.shape, target=target, read=ds.stats.read,
                    files=[os.fspath(f) for f in files], ids=ids,
                    file_idx=_np(file_idx, np.int32), lines=_np(lines, np.int64),
                    lengths=_np(lengths, np.int64), scores=_np(scores, np.float64), group=_np(group, np.int64),
                    shard_rows=[_np(s, np.int64) for s in shard_rows],
                    contaminated=contaminated, empty_key=empty_key, prompt_group=_np(prompt_group, np.int64))


def _columnar(ds, target: str, key: KeySpec, keep: KeepRule, evals, state: dict):
    """(what to iterate, the type of a batch of columns, the state a batch updates): batches of columns
    where they give the same result as the row loop, else the records alone."""
    from dataforge.io.columnar import enabled as columnar_enabled

    if not columnar_enabled() or ds.track_columns:
        return ds, None, None
    from dataforge.dedup import exact_columnar
    from dataforge.io import columnar

    if not (len(set(ds.shapes.values())) == 1 and exact_columnar.usable(target, ds.shape, key, keep, evals)
            and any(columnar.usable(ds, f) for f in ds.files)):
        return ds, None, None
    from types import SimpleNamespace

    names = ("ids", "files", "file_idx", "lines", "lengths", "scores", "group", "prompt_group", "first",
             "first_prompt", "rows_fh", "shard_fhs", "shard_rows", "near", "shards", "track_prompts", "target")
    st = SimpleNamespace(**{n: state[n] for n in names}, key_preset=key.resolved(ds.kind).preset,
                         add_batch=exact_columnar.add_batch, empty_key=0, reps=0)
    return columnar.batches(ds), columnar.pl.DataFrame, st


def _np(values: array, dtype) -> np.ndarray:
    return np.frombuffer(values, dtype=dtype).copy() if len(values) else np.empty(0, dtype=dtype)
