"""`dedup()`: exact and near duplicates and evaluation overlap out of one or more datasets.

    >>> from dataforge.dedup import dedup
    >>> s = dedup(["train.jsonl", "valid.jsonl"], "clean.jsonl", against=["eval.jsonl"])  # doctest: +SKIP
    >>> s.rows_in == s.rows_out + s.rejected                                            # doctest: +SKIP
    True

Steps, each resumable through the work folder (`<out>.dedup-work/` unless
`work_dir` is given): prepare (read once: decontaminate, exact hashes, key
shards) -> MinHash stages 1-3 on the chosen executor -> finalize (keep
rules, similarity check, write). A run started again with the same inputs
and options picks up where the last one stopped; changed inputs or options
start over. The work folder is removed after a successful local or Ray run
unless `keep_work=True`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from dataforge.dedup.bands import Bands, bands_for, check_threshold
from dataforge.dedup.executors import ExecutorOptions, run_stages
from dataforge.dedup.finalize import FinalizeConfig, FinalizeStep, finalize
from dataforge.dedup.keys import NGRAM, THRESHOLD, KeepRule, KeySpec
from dataforge.dedup.prepare import Prepared, prepare
from dataforge.dedup.workdir import explains_failures, work_path
from dataforge.errors import ConfigError, DataforgeError, InputError
from dataforge.io import parse_mapping, resolve
from dataforge.io.safety import check_outputs

FORMAT_VERSION = 2  # 2: whole-example keys with answer marks, prompt groups


@dataclass
class DedupSummary:
    """rows_in == rows_out + rejected. On Slurm (`submitted`), the counts come when the jobs finish."""

    rows_in: int = 0
    rows_out: int = 0
    rejected: int = 0
    rejected_on_read: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    contaminated: int = 0
    empty_key: int = 0
    same_prompt: int = 0  # kept rows whose prompt repeats an earlier kept row's (answers differ)
    other_question: int = 0  # kept rows alike to a kept row but asking another question (same passage)
    output: str = ""
    rejects_path: str | None = None
    clusters_path: str | None = None
    clusters: int = 0
    bands: Bands | None = None
    work_dir: str = ""
    submitted: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.submitted:
            return (f"submitted Slurm jobs {', '.join(self.submitted)}; the output appears at {self.output}"
                    f" when the last one finishes (summary: {self.work_dir}/summary.json)")
        return (f"read {self.rows_in:,} rows: {self.exact_duplicates:,} exact duplicates,"
                f" {self.near_duplicates:,} near duplicates, {self.contaminated:,} contaminated,"
                f" {self.rejected_on_read:,} unreadable; wrote {self.rows_out:,}"
                + (f"; kept {self.same_prompt:,} with the same prompt as an earlier row (other answers)"
                   if self.same_prompt else "")
                + (f"; kept {self.other_question:,} with the same passage as an earlier row but another question"
                   if self.other_question else ""))


def _files_fingerprint(paths) -> list:
    out = []
    for df in resolve(paths):
        st = os.stat(df.path)
        out.append([os.path.abspath(df.path), st.st_size, st.st_mtime_ns])
    return out


def _workdir(work: Path, fingerprint: dict) -> None:
    """Reuse `work` only when it was made by the same inputs and options; else start it afresh."""
    stamp = work / "fingerprint.json"
    blob = orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS)
    if work.exists() and (not stamp.exists() or stamp.read_bytes() != blob):
        if any(work.iterdir()) and not stamp.exists():
            raise ConfigError(f"{work} exists and was not made by dataforge dedup",
                              "pass another --work-dir or remove that folder")
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    stamp.write_bytes(blob)


def _plan(work: Path, opts: ExecutorOptions, keys: int) -> tuple[int, int]:
    """Signature tasks and concurrency, fixed on the first run so a restart reuses the markers."""
    plan = work / "plan.json"
    if plan.exists():
        tasks, concurrent = orjson.loads(plan.read_bytes())
        return tasks, (opts.plan(keys)[1] if opts.workers else concurrent)
    tasks, concurrent = opts.plan(keys)
    plan.write_bytes(orjson.dumps([tasks, concurrent]))
    return tasks, concurrent


@explains_failures
def dedup(data, out, *, exact: bool | None = None, near: bool | None = None, threshold: float = THRESHOLD,
          key: str | None = None, keep: str = "first", against=(), clusters: str | None = None,
          to: str | None = None, mapping=None, fmt: str | None = None, strict: bool = False,
          ngram: int = NGRAM, buckets: int | None = None, hashes_per_bucket: int | None = None,
          max_hashes: int = 128, decont_ngram: int = 13, executor: ExecutorOptions | str = "local",
          workers: int | None = None, work_dir: str | None = None, keep_work: bool = False) -> DedupSummary:
    """Deduplicate `data` (one or more paths, deduplicated together) into `out`.

    Neither `exact` nor `near` given: both. Removed rows go to `<out>.rejects.jsonl`
    with the reason ("near duplicate of 'ID' (estimated similarity 0.87)").
    """
    data = [os.fspath(p) for p in ([data] if isinstance(data, (str, os.PathLike)) else data)]
    against = [os.fspath(p) for p in ([against] if isinstance(against, (str, os.PathLike)) else against or [])]
    out = os.fspath(out)
    if not data:
        raise InputError("no input given", "pass one or more data files")
    if exact is None and near is None:
        exact = near = True
    exact, near = bool(exact), bool(near)
    if not exact and not near:
        raise ConfigError("nothing to do: both --exact and --near are off", "pass --exact, --near or neither")
    threshold = check_threshold(threshold)
    if ngram < 1:
        raise ConfigError(f"--ngram must be at least 1 (got {ngram})")
    keyspec, rule = KeySpec.parse(key), KeepRule.parse(keep)
    opts = executor if isinstance(executor, ExecutorOptions) else ExecutorOptions(kind=executor)
    if workers is not None:
        opts.workers = workers
    opts.check()
    bands = bands_for(threshold, buckets, hashes_per_bucket, max_hashes) if near else None
    resolve(data)  # a missing input fails here, before any work
    check_outputs([out, clusters], [data, against], labels=["-o", "--clusters"])  # io/safety.py: never destroy

    work = work_path(out, work_dir)
    shards = opts.shard_files()
    fingerprint = {
        "version": FORMAT_VERSION, "inputs": _files_fingerprint(data),
        "against": _files_fingerprint(against) if against else [], "exact": exact, "near": near,
        "threshold": threshold, "key": keyspec.describe(), "keep": rule.describe(), "to": to,
        "mapping": parse_mapping(mapping), "fmt": fmt, "ngram": ngram, "decont_ngram": decont_ngram,
        "bands": [bands.buckets, bands.hashes_per_bucket] if bands else None, "shards": shards,
    }
    _workdir(work, fingerprint)

    if (work / "prepare.done").exists():
        prep = Prepared.load(work)
    else:
        try:
            evals = None
            if against:
                from dataforge.dedup.decont import EvalIndex

                evals = EvalIndex(against, n=decont_ngram, mapping=mapping)
            prep = prepare(data, work, key=keyspec, keep=rule, to=to, mapping=mapping, fmt=fmt, strict=strict,
                           near=near, shards=shards, evals=evals)
        except DataforgeError:
            shutil.rmtree(work, ignore_errors=True)  # bad input: nothing worth resuming
            raise
        prep.save(work)
        (work / "prepare.done").touch()

    keys = sum(s.size for s in prep.shard_rows)
    tasks, concurrent = _plan(work, opts, keys)
    cfg = FinalizeConfig(work=str(work.resolve()), out=os.path.abspath(out),
                         clusters_path=os.path.abspath(clusters) if clusters else None, threshold=threshold,
                         keep=rule.describe(), exact=exact, near=near, ngram=ngram, tasks=tasks)
    if near and keys >= 2:
        from dataforge.dedup.minhash import StageFolders, minhash_config, stage_pipelines

        folders = StageFolders(*(str((work / name).resolve()) for name in
                                 ("shards", "signatures", "buckets", "clusters")))
        config = minhash_config(ngram, bands.buckets, bands.hashes_per_bucket)
        stages = stage_pipelines(folders, config, shards, tasks)
        logs = opts.logging_dir or str((work / "logs").resolve())
        job_ids = run_stages(stages, opts, concurrent, logs, finalize_step=FinalizeStep(cfg))
        if opts.kind == "slurm":
            return DedupSummary(output=cfg.out, bands=bands, work_dir=str(work), submitted=job_ids)
    summary = finalize(cfg)
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return DedupSummary(
        rows_in=summary["rows_in"], rows_out=summary["rows_out"], rejected=summary["rejected"],
        rejected_on_read=summary["rejected_on_read"], exact_duplicates=summary["exact_duplicates"],
        near_duplicates=summary["near_duplicates"], contaminated=summary["contaminated"],
        empty_key=summary["empty_key"], same_prompt=summary.get("same_prompt", 0),
        other_question=summary.get("other_question", 0), output=cfg.out,
        rejects_path=summary["rejects_path"],
        clusters_path=cfg.clusters_path, clusters=summary["clusters"], bands=bands, work_dir=str(work))
