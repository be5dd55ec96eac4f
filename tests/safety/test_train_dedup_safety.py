"""Safety of train, merge, the hosted backend and dedup: nothing outside the output changes, no orphans, no leftovers.

Each test runs the real command (a subprocess, real signals where it is about signals) and asserts the file
system afterwards: the input's hash and the neighbouring folder's listing, temp files, exit code, error line.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safety_helpers import ROOT, run_cli, snapshot, temp_leftovers

LINUX = sys.platform.startswith("linux")


def _rows(n: int, seed: int = 0) -> list[dict]:
    """Dolly rows with 60-word random texts; every 10th repeats an earlier one (so dedup has work)."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(3000)]
    texts = [" ".join(rng.choice(words) for _ in range(60)) for _ in range(n)]
    rows = [{"id": f"r{i}", "instruction": texts[i - 5] if i % 10 == 9 else texts[i], "context": "",
             "response": "answer", "category": "qa"} for i in range(n)]
    return rows


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# -- processes: /proc, so a PID reused by another process is never taken for the one recorded --

def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a live process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def _descendants(root: int) -> dict[int, int]:
    """pid -> start time of every process below `root` (children, grandchildren, ...)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            parents[int(entry)] = st
    found, frontier = {}, {root}
    while frontier:
        kids = {pid for pid, (_, ppid, _) in parents.items() if ppid in frontier and pid not in found}
        found.update({pid: parents[pid][2] for pid in kids})
        frontier = kids
    return found


def _still_running(recorded: dict[int, int]) -> list[int]:
    alive = []
    for pid, start in recorded.items():
        st = _stat(pid)
        if st is not None and st[2] == start and st[0] not in ("Z", "X"):
            alive.append(pid)
    return alive


# -- dedup --

def _dedup_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["dedup", str(data), "-o", str(out), "--near", "--workers", "2", "--buckets", "8",
            "--hashes-per-bucket", "4", *extra]


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_killed_dedup_leaves_no_worker_processes_and_a_rerun_completes(tmp_path):
    data = _write(tmp_path / "data.jsonl", _rows(1500))
    digest = snapshot(tmp_path)["data.jsonl"]
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "dataforge", "-q", *_dedup_args(data, out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    recorded: dict[int, int] = {}
    deadline = time.monotonic() + 60
    try:
        # wait until the stage's worker pool runs (the forkserver and its 2 workers, plus the manager)
        while time.monotonic() < deadline and proc.poll() is None:
            recorded.update(_descendants(proc.pid))
            if len(_still_running(recorded)) >= 4:
                break
            time.sleep(0.02)
        assert proc.poll() is None and len(_still_running(recorded)) >= 4, "dedup never started its workers"
        recorded.update(_descendants(proc.pid))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        gone_by = time.monotonic() + 5
        while _still_running(recorded) and time.monotonic() < gone_by:
            time.sleep(0.05)
        orphans = _still_running(recorded)
    finally:
        for pid in _still_running(recorded):  # never leave them behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
    assert orphans == [], f"still running after the parent was killed: {orphans}"

    work = tmp_path / "out.jsonl.dedup-work"
    assert work.is_dir() and not out.exists()  # the resumable work folder, and no half-written output
    rerun = run_cli("-q", *_dedup_args(data, out), cwd=ROOT)
    assert rerun.code == 0, rerun.err
    kept = out.read_text().splitlines()
    assert len(kept) == 1500 - 150  # the 150 repeated prompts are gone, nothing else
    assert not work.exists() and temp_leftovers(tmp_path) == []
    assert snapshot(tmp_path)["data.jsonl"] == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl", "out.jsonl", "out.jsonl.rejects.jsonl"]


def _top_level_leftovers(folder: Path, work: Path) -> list[str]:
    """Temp files anywhere under `folder` except inside the resumable work folder."""
    return [p for p in temp_leftovers(folder) if not (folder / p).resolve().is_relative_to(work.resolve())]


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_sigterm_during_dedup_keeps_only_the_work_folder_and_says_where_it_is(tmp_path):
    data = _write(tmp_path / "data.jsonl", _rows(1500, seed=1))
    digest = snapshot(tmp_path)["data.jsonl"]
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "dataforge", "-q", *_dedup_args(data, out)], cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    recorded: dict[int, int] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and len(_still_running(recorded)) < 4:
        recorded.update(_descendants(proc.pid))
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    time.sleep(0.5)
    leftover_processes = _still_running(recorded)
    for pid in leftover_processes:
        os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 143, err
    assert leftover_processes == []
    work = tmp_path / "out.jsonl.dedup-work"
    hints = [ln for ln in err.splitlines() if ln.startswith("hint:")]
    assert len(hints) == 1 and str(work) in hints[0] and "B)" in hints[0] and "resume" in hints[0], err
    assert "Traceback" not in err
    assert work.is_dir() and not out.exists() and _top_level_leftovers(tmp_path, work) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl", "out.jsonl.dedup-work"]
    assert snapshot(tmp_path)["data.jsonl"] == digest
    rerun = run_cli("-q", *_dedup_args(data, out), cwd=ROOT)
    assert rerun.code == 0, rerun.err
    assert len(out.read_text().splitlines()) == 1350 and not work.exists()


_FULL_DISK = """
import contextlib, errno, sys
import dataforge.dedup.finalize as fin

real = fin._output

@contextlib.contextmanager
def full_disk(out):  # the disk fills up after 100 rows of the output
    with real(out) as write:
        written = [0]

        def limited(line):
            written[0] += 1
            if written[0] > 100:
                raise OSError(errno.ENOSPC, "No space left on device", out)
            return write(line)

        yield limited

fin._output = full_disk
from dataforge.cli.main import cli
cli(prog_name="dataforge")
"""


def test_full_disk_during_dedup_is_one_error_with_the_work_folder_and_no_temp_files(tmp_path):
    data = _write(tmp_path / "data.jsonl", _rows(500, seed=2))
    digest = snapshot(tmp_path)["data.jsonl"]
    out = tmp_path / "out.jsonl"
    args = ["dedup", str(data), "-o", str(out), "--exact"]
    proc = subprocess.run([sys.executable, "-c", _FULL_DISK, "-q", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    work = tmp_path / "out.jsonl.dedup-work"
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    hints = [ln for ln in proc.stderr.splitlines() if ln.startswith("hint:")]
    assert proc.returncode == 1, proc.stderr
    assert len(errors) == 1 and "no space left on the device" in errors[0] and "Traceback" not in proc.stderr
    assert len(hints) == 1 and str(work) in hints[0] and "resume" in hints[0]
    # the half-written output and rejects file were removed; only the resumable work folder stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl", "out.jsonl.dedup-work"]
    assert _top_level_leftovers(tmp_path, work) == [] and snapshot(tmp_path)["data.jsonl"] == digest
    rerun = run_cli("-q", *args, cwd=ROOT)
    assert rerun.code == 0, rerun.err
    assert len(out.read_text().splitlines()) == 450 and not work.exists()


# -- the hosted fine-tuning backend: ids from the server never become paths --

def test_hostile_result_file_id_from_the_server_stays_inside_the_output_folder(tmp_path):
    from dataforge_openai_finetune.loopback import FineTuneServer, JobScript

    rows = [{"instruction": f"What is {i}+{i}?", "context": "", "response": str(2 * i), "category": "math"}
            for i in range(12)]
    data = _write(tmp_path / "sums.jsonl", rows)
    before = snapshot(tmp_path)
    out = tmp_path / "runs" / "ft"
    hostile = ("x/../../../escaped", "../../../../escaped2", "/tmp/escaped3")
    with FineTuneServer(JobScript(extra_result_ids=hostile), api_key="sk-loopback-test").start() as srv:
        r = run_cli("train", "-b", "openai", "-m", "gpt-4o-mini-2024-07-18", "-d", data, "-o", out,
                    "--set", "poll_interval=0.01", cwd=tmp_path,
                    env={"OPENAI_API_KEY": "sk-loopback-test", "OPENAI_BASE_URL": srv.url})
        assert all(any(f"/files/{fid.replace('/', '%2F')}/content" in q for q in srv.log.requests) for fid in hostile)
    assert r.code == 0, r.err
    after = snapshot(tmp_path)
    outside = {p for p in set(after) - set(before) if not p.startswith("runs")}
    assert outside == set() and not Path("/tmp/escaped3.csv").exists()
    assert {p for p in after if p.startswith("runs/") and p.count("/") > 2} == set()  # no sub-folders made
    results = sorted(p.name for p in out.glob("results*.csv"))
    assert len(results) == 4 and "results.csv" in results
    assert all(n.startswith("results-") and n.endswith(".csv") for n in results if n != "results.csv")  # plain names
    assert json.loads((out / ".dataforge-output").read_text())["written_by"] == "dataforge"
    assert {k: v for k, v in after.items() if k in before} == before and temp_leftovers(tmp_path) == []


# -- training outputs: only folders dataforge wrote are ever replaced --

def _user_folder(path: Path) -> Path:
    (path / "src").mkdir(parents=True)
    (path / "src" / "main.py").write_text("print('mine')\n")
    (path / "notes.txt").write_text("my notes\n")
    return path


@pytest.mark.parametrize("resume", [False, True])
def test_train_into_an_existing_user_folder_is_refused_and_leaves_it_untouched(resume, tiny_model_dir, tmp_path):
    data = _write(tmp_path / "facts.jsonl", [{"instruction": "Say hello.", "context": "", "response": "Hello!",
                                               "category": "qa"}] * 4)
    mine = _user_folder(tmp_path / "project")
    if resume:  # a folder of the user's that happens to be called checkpoints
        (mine / "checkpoints" / "checkpoint-2").mkdir(parents=True)
        (mine / "checkpoints" / "checkpoint-2" / "weights.bin").write_bytes(b"\0" * 64)
    before = snapshot(tmp_path)
    r = run_cli("train", "-b", "lora", "-m", tiny_model_dir, "-d", data, "-o", mine, "--set", "max_steps=1",
                *(["--resume"] if resume else []), cwd=tmp_path)
    assert r.code == 1, r.err
    assert str(mine) in r.error_line and ("already holds files" in r.error_line
                                          or "not a folder dataforge trained into" in r.error_line), r.err
    assert "Traceback" not in r.err
    assert snapshot(tmp_path) == before and temp_leftovers(tmp_path) == []
    assert not (mine / ".dataforge-output").exists()


class _FakeTrainer:
    """save_model writes what a trainer writes: files and (here) a sub-folder."""

    def save_model(self, path):
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "model.safetensors").write_bytes(b"new weights")
        (Path(path) / "extra").mkdir()
        (Path(path) / "extra" / "part.bin").write_bytes(b"new part")


class _FakeTokenizer:
    def save_pretrained(self, path):
        (Path(path) / "tokenizer.json").write_text("{}")


def _job(out: Path):
    from types import SimpleNamespace

    return SimpleNamespace(output_dir=out, is_main=True, tokenizer=_FakeTokenizer(), backend="lora")


def test_the_trainer_output_step_replaces_only_folders_dataforge_wrote(tmp_path):
    from dataforge_hf_trainers.trainers import _save

    from dataforge.errors import DataforgeError
    from dataforge.io.safety import write_marker

    out = tmp_path / "run"
    (out / "extra").mkdir(parents=True)
    (out / "extra" / "thesis.tex").write_text("a user's file where the trainer writes a folder")
    before = snapshot(tmp_path)
    with pytest.raises(DataforgeError, match="not a dataforge output folder"):  # the folder is not dataforge's
        _save(_FakeTrainer(), _job(out))
    assert snapshot(tmp_path) == before

    write_marker(out, "train")  # dataforge's folder, but the sub-folder is still the user's
    before = snapshot(tmp_path)
    with pytest.raises(DataforgeError, match="extra is a folder dataforge did not write"):
        _save(_FakeTrainer(), _job(out))
    assert snapshot(tmp_path) == before  # nothing moved in, nothing deleted, no .final-tmp left

    (out / "extra" / "thesis.tex").unlink()  # an empty folder, or one dataforge wrote, is replaced
    assert sorted(_save(_FakeTrainer(), _job(out))) == ["extra", "model.safetensors", "tokenizer.json"]
    assert (out / "extra" / "part.bin").read_bytes() == b"new part" and (out / "extra" / ".dataforge-output").is_file()
    assert sorted(_save(_FakeTrainer(), _job(out))) == ["extra", "model.safetensors", "tokenizer.json"]
    assert not (out / ".final-tmp").exists()


def test_half_written_checkpoints_are_cleared_only_in_dataforge_checkpoint_folders(tmp_path):
    from dataforge.io.safety import write_marker
    from dataforge.train import checkpoints

    mine = tmp_path / "mine" / "checkpoints" / "checkpoint-7"
    mine.mkdir(parents=True)
    (mine / "weights.bin").write_bytes(b"a user's checkpoint from another tool")
    _, broken = checkpoints.scan(mine.parent)
    assert broken == [mine]
    assert checkpoints.discard(broken) == [] and (mine / "weights.bin").is_file()

    ours = tmp_path / "run" / "checkpoints" / "checkpoint-5"
    ours.mkdir(parents=True)
    write_marker(tmp_path / "run", "train")
    assert checkpoints.discard(checkpoints.scan(ours.parent)[1]) == [ours] and not ours.exists()


def test_merge_with_force_never_replaces_a_folder_dataforge_did_not_write(tiny_model_dir, tmp_path):
    from dataforge.errors import ConfigError
    from dataforge.progress import set_quiet
    from dataforge.train import merge_adapter, train

    set_quiet(True)
    data = _write(tmp_path / "facts.jsonl", [{"instruction": "Say hello.", "context": "", "response": "Hello!",
                                               "category": "qa"}] * 4)
    train("lora", tiny_model_dir, data, tmp_path / "adapter", sets=["max_steps=1", "r=4"])
    mine = _user_folder(tmp_path / "project")
    before = snapshot(tmp_path)
    with pytest.raises(ConfigError, match="was not written by dataforge"):
        merge_adapter(tiny_model_dir, tmp_path / "adapter", mine, force=True)
    assert snapshot(tmp_path) == before and temp_leftovers(tmp_path) == []
    merged = merge_adapter(tiny_model_dir, tmp_path / "adapter", tmp_path / "merged")
    assert (tmp_path / "merged" / ".dataforge-output").is_file() and merged.rel_diff <= merged.tolerance
    again = merge_adapter(tiny_model_dir, tmp_path / "adapter", tmp_path / "merged", force=True)  # its own: replaced
    assert again.output == str(tmp_path / "merged") and temp_leftovers(tmp_path) == []
