"""Atomic writes, checked on the file system after each kind of failure: the previous output is intact,
no temporary file is left, a folder dataforge did not write is never replaced, and what a killed process
left behind is cleaned up (or put back) on the next write.

Found by `make mutation AREA=io` (dataforge/io/atomic.py): faults there went unnoticed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import dataforge.io.atomic as atomic
from dataforge.io.atomic import atomic_path, atomic_write_text, remove_stale_temps, temp_prefix
from dataforge.io.safety import MARKER, UnsafeOutput


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_file_is_replaced_whole_with_the_usual_permissions(tmp_path, umask_022):
    out = tmp_path / "data.jsonl"
    out.write_text("old\n")
    atomic_write_text(out, "new\n")
    assert out.read_text() == "new\n" and listing(tmp_path) == ["data.jsonl"]
    assert os.stat(out).st_mode & 0o777 == 0o644  # not mkstemp's 0o600
    assert temp_prefix(out) == f".data.jsonl.tmp-{os.getpid()}-"


def test_a_failure_keeps_the_previous_file_and_leaves_nothing(tmp_path):
    out = tmp_path / "data.jsonl"
    out.write_text("old\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(out) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(temp_prefix(out))
            tmp.write_text("half")
            raise KeyboardInterrupt  # Ctrl-C mid-write
    assert out.read_text() == "old\n" and listing(tmp_path) == ["data.jsonl"]


def test_a_folder_is_written_with_its_marker_and_replaces_only_its_own(tmp_path, umask_022):
    out = tmp_path / "shards"
    with atomic_path(out, is_dir=True) as tmp:
        (tmp / "a.jsonl").write_text("1\n")
    assert listing(out) == sorted([MARKER, "a.jsonl"]) and os.stat(out).st_mode & 0o777 == 0o755
    with atomic_path(out, is_dir=True) as tmp:  # ours: replaced, the old one removed
        (tmp / "b.jsonl").write_text("2\n")
    assert listing(out) == sorted([MARKER, "b.jsonl"]) and listing(tmp_path) == ["shards"]

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("years of work")
    with pytest.raises(UnsafeOutput) as info:
        with atomic_path(foreign, is_dir=True) as tmp:
            (tmp / "x").write_text("x")
    assert info.value.message == (f"{foreign}: the folder exists and holds files dataforge did not write;"
                                  " it was left as it is")
    assert listing(foreign) == ["thesis.txt"] and listing(tmp_path) == ["mine", "shards"]


def test_a_pipe_is_never_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeOutput) as info:
        with atomic_path(fifo, is_dir=True) as tmp:
            (tmp / "x").write_text("x")
    assert info.value.message == f"{fifo}: is a device, pipe or socket; it was left as it is"
    assert listing(tmp_path) == ["pipe"]


def test_a_failed_folder_swap_puts_the_previous_output_back(tmp_path, monkeypatch):
    out = tmp_path / "shards"
    with atomic_path(out, is_dir=True) as tmp:
        (tmp / "a.jsonl").write_text("1\n")
    real = os.replace

    def replace(src, dst):
        if str(src).startswith(str(tmp_path / ".shards.tmp-")):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(OSError, match="No space left"):
        with atomic_path(out, is_dir=True) as tmp:
            (tmp / "b.jsonl").write_text("2\n")
    assert listing(out) == sorted([MARKER, "a.jsonl"]) and listing(tmp_path) == ["shards"]


def test_leftovers_of_dead_processes_are_removed_or_put_back(tmp_path):
    out = tmp_path / "data.jsonl"
    gone, me = dead_pid(), os.getpid()
    for name in (f".data.jsonl.tmp-{gone}-abc", f".data.jsonl.tmp-{gone}.x", f".data.jsonl.tmp-{me}-live",
                 ".data.jsonl.tmp-old-style", f".other.jsonl.tmp-{gone}-abc"):
        (tmp_path / name).write_text("partial")
    (tmp_path / f".data.jsonl.old-{gone}").mkdir()  # the previous output, moved aside by a killed run
    (tmp_path / f".data.jsonl.old-{gone}" / "kept").write_text("yes")
    removed = remove_stale_temps(out)
    assert sorted(removed) == sorted([f".data.jsonl.tmp-{gone}-abc", f".data.jsonl.tmp-{gone}.x"])
    # the output was missing, so the moved-aside one is put back; a running writer's and unknown names stay
    assert listing(tmp_path) == sorted([".data.jsonl.tmp-old-style", f".data.jsonl.tmp-{me}-live",
                                        f".other.jsonl.tmp-{gone}-abc", "data.jsonl"])
    assert (out / "kept").read_text() == "yes"

    (tmp_path / f".data.jsonl.old-{gone}").mkdir()  # now the output exists: a stale copy is removed
    assert remove_stale_temps(out) == [f".data.jsonl.old-{gone}"]
    assert remove_stale_temps(tmp_path / "missing-folder" / "x") == []


def test_the_pid_is_read_from_the_first_part_of_a_leftover_name():
    assert atomic._pid_of("123-abcd") == 123
    assert atomic._pid_of("123.a.b") == 123
    assert atomic._pid_of("old-style") is None
