"""The final pass: decide every row, write the survivors, the rejects and the clusters file.

It runs in the calling process for the local and Ray executors, and as the
last Slurm job (`FinalizeStep`) on Slurm. Either way it reads only the work
folder (never the inputs again) and ends by writing `summary.json` there.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import orjson
from datatrove.pipeline.base import PipelineStep

from dataforge.dedup.keys import KeepRule
from dataforge.dedup.minhash import hash_func, read_clusters
from dataforge.dedup.prepare import Prepared
from dataforge.dedup.resolve import CONTAMINATED, EXACT, NEAR, clusters_rows, load_shingles, resolve, same_prompt
from dataforge.io import RejectSink, atomic_path, open_writer, output_type, rejects_path_for
from dataforge.io.rejects import Reject
from dataforge.io.safety import keeps_earlier_outputs
from dataforge.progress import progress_bar


@dataclass
class FinalizeConfig:
    work: str
    out: str
    clusters_path: str | None
    threshold: float
    keep: str
    exact: bool
    near: bool
    ngram: int
    tasks: int = 1  # signature tasks (how stage 3's file numbers map back to rows)


def reason(dec, prep: Prepared, row: int) -> str:
    """What the rejects file says about a removed row."""
    status = dec.status[row]
    if status == CONTAMINATED:
        m = prep.contaminated[row]
        span = m["overlap"] if len(m["overlap"]) <= 120 else m["overlap"][:117] + "..."
        return (f"contaminated: overlaps evaluation row '{m['eval_id']}' ({m['where']}) on {m['tokens']}"
                f" tokens: \"{span}\"")
    other = prep.ids[int(dec.dup_of[row])]
    if status == EXACT:
        return f"exact duplicate of '{other}'"
    return f"near duplicate of '{other}' (estimated similarity {dec.similarity[row]:.2f})"


class _KeepEarlier(Exception):
    """Raised inside the atomic write to discard an empty result (see io.safety.keeping_earlier_outputs)."""


@contextlib.contextmanager
def _output(out: str):
    """A function taking one rows.jsonl line; plain JSONL output gets the bytes as they are."""
    if output_type(out) == "jsonl" and out.lower().endswith((".jsonl", ".ndjson")):
        # rows.jsonl lines are already what the JSONL writer would write: copy, don't re-encode
        written = [0]
        try:
            with atomic_path(out) as tmp, open(tmp, "wb", buffering=1 << 20) as fh:
                def write(line: bytes) -> None:
                    written[0] += 1
                    fh.write(line)

                def bulk(lines: bytes, count: int) -> None:  # several lines in one write
                    written[0] += count
                    fh.write(lines)

                write.bulk = bulk
                yield write
                if not written[0] and keeps_earlier_outputs() and os.path.lexists(out):
                    raise _KeepEarlier  # the run will fail: leave the earlier output as it was
        except _KeepEarlier:
            pass
        return
    with open_writer(out) as writer:
        yield lambda line: writer.write(orjson.loads(line))


def _runs(rows, status: np.ndarray, bulk, block: int = 16 << 20):
    """(row number, line) for each row of rows.jsonl; with `bulk` (the output takes bytes as they are),
    runs of kept rows go to it in one write each and come back as (count, None)."""
    if bulk is None:
        yield from enumerate(rows)
        return
    gid, rest = 0, b""
    while True:
        block_data = rows.read(block)
        data = rest + block_data
        if not data:
            return
        cut = data.rfind(b"\n") + 1 if block_data else len(data)
        if cut == 0:
            rest = data
            continue
        data, rest = data[:cut], data[cut:]
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + 1
        if not data.endswith(b"\n"):  # a last line without its line end
            ends = np.append(ends, len(data))
        n = len(ends)
        starts = np.concatenate(([0], ends[:-1]))
        removed = np.flatnonzero(status[gid:gid + n] != 0)
        pos = 0  # the first row of the current run of kept rows
        for r in removed.tolist():
            if r > pos:
                bulk(data[starts[pos]:starts[r]], r - pos)
                yield r - pos, None
            yield gid + r, data[starts[r]:ends[r]]
            pos = r + 1
        if n > pos:
            bulk(data[starts[pos]:], n - pos)
            yield n - pos, None
        gid += n
        if not block_data:
            return


def finalize(cfg: FinalizeConfig) -> dict:
    work = Path(cfg.work)
    prep = Prepared.load(work)
    keep = KeepRule.parse(cfg.keep)
    clusters = read_clusters(work / "clusters", prep.shard_rows, cfg.tasks) if cfg.near else []
    shingles = {}
    if clusters:
        wanted = np.unique(np.concatenate(clusters))
        shingles = load_shingles(work / "shards", prep.shard_rows, wanted, cfg.ngram, hash_func(64))
    dec = resolve(prep, clusters, keep=keep, threshold=cfg.threshold, exact=cfg.exact, shingles=shingles)
    same = same_prompt(prep.prompt_group, dec.status)  # kept, but only the answer differs

    sink = RejectSink(rejects_path_for(cfg.out), strict=False)
    with sink:
        earlier = work / "prepare.rejects.jsonl"
        if earlier.exists():
            with open(earlier, "rb") as fh:
                for line in fh:
                    sink.add(Reject(**orjson.loads(line)))
        read_rejects = sink.count
        status = dec.status
        with _output(cfg.out) as write, open(work / "rows.jsonl", "rb") as rows, \
                progress_bar("dedup: write", total=prep.rows, unit="rows") as bar:
            for gid, line in _runs(rows, status, write.bulk if hasattr(write, "bulk") else None):
                if line is None:  # a run of kept rows already copied as it was
                    bar.advance(gid)
                elif status[gid] == 0:
                    write(line)
                    bar.advance(1)
                else:
                    file, lineno = prep.where(gid)
                    sink.add(Reject(reason(dec, prep, gid), file=file, line=lineno, id=prep.ids[gid],
                                    row=orjson.loads(line)))
                    bar.advance(1)
        written = int(np.count_nonzero(status == 0))
    clusters_written = 0
    if cfg.clusters_path:
        with atomic_path(cfg.clusters_path) as tmp, open(tmp, "wb") as fh:
            for item in clusters_rows(prep, dec, same):
                fh.write(orjson.dumps(item) + b"\n")
                clusters_written += 1
    summary = {
        "rows_in": prep.read, "rejected_on_read": read_rejects, "exact_duplicates": dec.count(EXACT),
        "near_duplicates": dec.count(NEAR), "contaminated": dec.count(CONTAMINATED), "rows_out": written,
        "empty_key": prep.empty_key, "same_prompt": int(np.count_nonzero(same >= 0)),
        "other_question": dec.other_question, "rejected": sink.count, "output": cfg.out,
        "rejects_path": str(sink.path) if sink.count else None, "clusters_path": cfg.clusters_path,
        "clusters": clusters_written, "target": prep.target, "config": asdict(cfg),
    }
    tmp = work / f".summary.json.tmp-{os.getpid()}"
    tmp.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    os.replace(tmp, work / "summary.json")
    return summary


class FinalizeStep(PipelineStep):
    """The final pass as a datatrove step, so Slurm can run it after the cluster stage."""

    type = "🫂 - DEDUP"
    name = "dataforge finalize (keep rules, write output)"

    def __init__(self, cfg: FinalizeConfig):
        super().__init__()
        self.cfg = cfg

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        with self.track_time():
            finalize(self.cfg)
        return
        yield  # a generator, like every datatrove step
