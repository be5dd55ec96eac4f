"""The MinHash stages on datatrove's executors: restart after a failure, Slurm jobs, Ray."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from dedup_helpers import FAST, check_accounting, dolly, ids, make_text, read_jsonl, substitute, write_jsonl

from dataforge.dedup import ExecutorOptions, dedup
from dataforge.errors import ConfigError


def _dataset(tmp_path) -> Path:
    rows = []
    for i in range(30):
        text = make_text(500 + i)
        rows.append(dolly(f"r{i}", text))
        if i % 3 == 0:
            rows.append(dolly(f"r{i}-near", substitute(text, [30], seed=i)))
    return write_jsonl(tmp_path / "in.jsonl", rows)


EXPECTED_REMOVED = {f"r{i}-near" for i in range(0, 30, 3)}


def test_restart_after_a_failed_task_skips_the_finished_ones(tmp_path):
    src, out, work = _dataset(tmp_path), tmp_path / "out.jsonl", tmp_path / "work"
    opts = dict(near=True, work_dir=work, keep_work=True, executor=ExecutorOptions(tasks=2, workers=1), **FAST)
    s = dedup([src], out, **opts)
    first = read_jsonl(out)
    assert {r["id"] for r in check_accounting(s, out)[1]} == EXPECTED_REMOVED

    # Simulate a run that died in stage 1 task 1: its marker and every later one are gone,
    # and its input is broken so that it fails again.
    logs = work / "logs"
    (logs / "signatures" / "completions" / "00001").unlink()
    for stage in ("buckets", "clusters"):
        for marker in (logs / stage / "completions").iterdir():
            marker.unlink()
    out.unlink()
    rank0 = work / "signatures" / "bucket_000" / "00000.minhash.sig"
    rank0_mtime = rank0.stat().st_mtime_ns
    shard = work / "shards" / "00001.jsonl"
    good = shard.read_bytes()
    shard.write_bytes(b"{not json\n")
    with pytest.raises(ValueError):  # orjson.JSONDecodeError, raised by the task that reads the shard
        dedup([src], out, **opts)
    assert not out.exists()

    shard.write_bytes(good)  # fixed: run again, now with two worker processes
    s = dedup([src], out, **{**opts, "executor": ExecutorOptions(tasks=2, workers=2)})
    assert read_jsonl(out) == first and s.rows_out == len(first)
    assert rank0.stat().st_mtime_ns == rank0_mtime  # task 0 was skipped, never rerun
    assert (logs / "signatures" / "completions" / "00001").exists()


def test_changed_input_starts_the_work_folder_afresh(tmp_path):
    src, out, work = _dataset(tmp_path), tmp_path / "out.jsonl", tmp_path / "work"
    dedup([src], out, exact=True, work_dir=work, keep_work=True)
    rows = read_jsonl(src)
    write_jsonl(src, rows + [dolly("new", make_text(999))])
    s = dedup([src], out, exact=True, work_dir=work, keep_work=True)
    assert "new" in ids(read_jsonl(out)) and s.rows_in == len(rows) + 1
    (work / "fingerprint.json").unlink()
    (work / "mine.txt").write_text("user data")
    with pytest.raises(ConfigError, match="not made by dataforge dedup"):
        dedup([src], out, exact=True, work_dir=work)


FAKE_SBATCH = """#!/bin/sh
# Records what would be submitted and answers like sbatch does.
n=$(ls "$SBATCH_SPOOL" | wc -l)
id=$((1000 + n))
{ echo "ARGS: $*"; cat "$2" 2>/dev/null || true; for a in "$@"; do [ -f "$a" ] && cat "$a"; done; } \\
  > "$SBATCH_SPOOL/$id.sbatch"
echo "Submitted batch job $id"
"""


def _fake_slurm(tmp_path, monkeypatch) -> Path:
    bin_dir, spool = tmp_path / "bin", tmp_path / "spool"
    bin_dir.mkdir()
    spool.mkdir()
    (bin_dir / "sbatch").write_text(FAKE_SBATCH)
    (bin_dir / "scontrol").write_text("#!/bin/sh\necho localhost\n")  # `scontrol show hostnames`
    for tool in ("sbatch", "scontrol"):
        (bin_dir / tool).chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SBATCH_SPOOL", str(spool))
    return spool


def test_slurm_submits_chained_jobs_that_run_to_the_same_result(tmp_path, monkeypatch):
    import dill

    src = _dataset(tmp_path)
    local_out = tmp_path / "local.jsonl"
    dedup([src], local_out, near=True, **FAST)

    spool = _fake_slurm(tmp_path, monkeypatch)
    out, work = tmp_path / "slurm.jsonl", tmp_path / "swork"
    opts = ExecutorOptions(kind="slurm", partition="cpu", time="01:30:00", cpus_per_task=2, tasks=2,
                           env_command="source /shared/venv/bin/activate")
    s = dedup([src], out, near=True, work_dir=work, executor=opts, **FAST)
    assert len(s.submitted) == 4 and not out.exists()
    scripts = {p.stem: p.read_text() for p in spool.iterdir()}
    main = [scripts[j] for j in s.submitted]
    names = ["signatures", "buckets", "clusters", "finalize"]
    for job, name, array in zip(main, names, ["0-1", "0-7", "0-0", "0-0"]):
        assert f"#SBATCH --job-name=dataforge-dedup-{name}" in job
        assert "#SBATCH --partition=cpu" in job and "#SBATCH --time=01:30:00" in job
        assert "#SBATCH --cpus-per-task=2" in job and f"#SBATCH --array={array}" in job
        assert "source /shared/venv/bin/activate" in job and "launch_pickled_pipeline" in job
    for previous, job in zip(s.submitted, main[1:]):  # each stage waits for the one before
        assert re.search(rf"--dependency=afterok:{previous}\b", job)

    # Run the jobs the way the Slurm nodes would: each array task loads the pickled executor.
    for name, tasks in zip(names, [2, 8, 1, 1]):
        for task in range(tasks):
            monkeypatch.setenv("SLURM_ARRAY_TASK_ID", str(task))
            monkeypatch.setenv("SLURM_NODELIST", "localhost")
            with open(work / "logs" / name / "executor.pik", "rb") as fh:
                dill.load(fh).run()
    assert read_jsonl(out) == read_jsonl(local_out)
    assert (work / "summary.json").exists()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray's own placement_group deprecation, from datatrove
def test_ray_executor_runs_the_stages_on_a_local_ray(tmp_path):
    pytest.importorskip("ray")
    # Few tasks (1 signature shard, 2 buckets): every Ray task starts an actor, which costs seconds.
    rows = [dolly(f"r{i}", make_text(700 + i)) for i in range(9)]
    rows += [dolly(f"r{i}-near", make_text(700 + i) + " and one more") for i in (0, 4, 8)]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    small = {"near": True, "buckets": 2, "hashes_per_bucket": 2}
    out = tmp_path / "ray.jsonl"
    s = dedup([src], out, executor=ExecutorOptions(kind="ray", workers=2, tasks=1), **small)
    kept, rejects = check_accounting(s, out)
    assert {r["id"] for r in rejects} == {"r0-near", "r4-near", "r8-near"}
    dedup([src], tmp_path / "local.jsonl", executor=ExecutorOptions(tasks=1), **small)
    assert kept == read_jsonl(tmp_path / "local.jsonl")
