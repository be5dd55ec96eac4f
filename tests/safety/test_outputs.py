"""Outputs never destroy, exit codes tell the truth (issue 12).

Each test runs the real CLI in a subprocess (or, where a fault must be injected,
in-process) and then asserts the file system: the input's hash and the
neighbouring folder are unchanged, no hidden temporary file is left, and the
exit code and the one `error:` line are what a user relies on.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safety_helpers import ROOT, run_cli, snapshot, temp_leftovers

ROWS = [{"instruction": f"Name planet number {i}.", "context": "", "response": f"Planet {i}", "category": "qa"}
        for i in range(1, 6)]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path):
    """A user's folder: the input next to files dataforge must never touch."""
    write_jsonl(tmp_path / "in.jsonl", ROWS)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("print('mine')\n")
    (tmp_path / "notes.txt").write_text("my notes\n")
    return tmp_path


def assert_refused(res, folder: Path, before: dict, *words: str) -> None:
    """Exit 1 with one error line naming the problem; nothing changed, nothing left behind."""
    assert res.code == 1, (res.out, res.err)
    assert res.error_line, res.err
    for word in words:
        assert word in res.error_line, res.error_line
    assert "Traceback" not in res.err
    assert snapshot(folder) == before
    assert temp_leftovers(folder) == []


# --- 1. -o naming an existing folder, the current folder, a device ---------------------------------

@pytest.mark.parametrize("out", ["CWD", ".", ".."])
def test_output_naming_the_current_folder_is_refused(home, out):
    work = home / "src"
    before = snapshot(home)
    target = str(work) if out == "CWD" else out
    res = run_cli("convert", home / "in.jsonl", "-o", target, cwd=work)
    assert_refused(res, home, before, "current folder")


@pytest.mark.parametrize("extra", [[], ["--overwrite"]])
def test_output_naming_a_folder_of_user_files_is_refused_even_with_overwrite(home, extra):
    before = snapshot(home)
    res = run_cli("convert", "in.jsonl", "-o", "src", *extra, cwd=home)
    assert_refused(res, home, before, "src", "dataforge did not write")
    assert "--overwrite does not change that" in res.err


def test_output_naming_a_device_or_pipe_is_refused(home):
    # A private copy of /dev/null's device node: a regression must never be able to replace the
    # machine's real /dev/null (it did once, and every later test that wrote there hung).
    dev = home.parent / "null-device"
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    before = snapshot(home)
    res = run_cli("convert", "in.jsonl", "-o", str(dev), cwd=home)
    assert_refused(res, home, before, "null-device", "device")
    assert stat.S_ISCHR(os.stat(dev).st_mode)  # still the device, not a folder
    os.mkfifo(home / "pipe")
    before = snapshot(home)
    res = run_cli("convert", "in.jsonl", "-o", "pipe", cwd=home)
    assert_refused(res, home, before, "pipe", "device, pipe or socket")


def test_a_folder_output_replaces_only_an_empty_folder_or_its_own(home):
    (home / "empty").mkdir()
    assert run_cli("convert", "in.jsonl", "-o", "empty", cwd=home).code == 0
    marker = json.loads((home / "empty" / ".dataforge-output").read_text())
    assert marker["written_by"] == "dataforge" and marker["command"] == "convert"
    res = run_cli("convert", "in.jsonl", "-o", "empty", cwd=home)  # a rerun replaces its own output
    assert res.code == 0, res.err
    assert (home / "empty" / "dataset_info.json").exists() and temp_leftovers(home) == []


def test_overwrite_lets_a_folder_output_replace_a_file_only(home):
    (home / "out").write_text("a file without a suffix\n")
    before = snapshot(home)
    res = run_cli("convert", "in.jsonl", "-o", "out", cwd=home)
    assert_refused(res, home, before, "out", "a file of that name exists")
    res = run_cli("convert", "in.jsonl", "-o", "out", "--overwrite", cwd=home)
    assert res.code == 0, res.err
    assert (home / "out" / ".dataforge-output").is_file() and temp_leftovers(home) == []


def test_atomic_folder_replace_refuses_a_folder_it_did_not_write(home):
    from dataforge.io.atomic import atomic_path
    from dataforge.io.safety import UnsafeOutput

    before = snapshot(home)
    with pytest.raises(UnsafeOutput, match="dataforge did not write"):
        with atomic_path(home / "src", is_dir=True) as tmp:  # the last line of defence, without any check
            (tmp / "data.arrow").write_text("new")
    assert snapshot(home) == before and temp_leftovers(home) == []


def test_a_folder_written_into_may_exist_but_not_be_an_input_or_a_file(home):
    from dataforge.io.safety import UnsafeOutput, check_outputs

    (home / "run").mkdir()
    (home / "run" / "checkpoints").mkdir()
    check_outputs([home / "run"], [home / "in.jsonl"], kind="dir")  # train --resume, probe: the command decides
    with pytest.raises(UnsafeOutput, match="would overwrite the input"):
        check_outputs([home / "src"], [home / "src"], kind="dir")
    with pytest.raises(UnsafeOutput, match="a file of that name exists"):
        check_outputs([home / "notes.txt"], [home / "in.jsonl"], kind="dir")


# --- 2-5. outputs that are inputs: same name, link, rejects file, report --------------------------

@pytest.mark.parametrize("target", ["in.jsonl", "link.jsonl"])
def test_inspect_rejects_naming_the_input_is_refused(home, target):
    os.symlink("in.jsonl", home / "link.jsonl")
    before = snapshot(home)
    res = run_cli("inspect", "in.jsonl", "--rejects", target, cwd=home)
    assert_refused(res, home, before, "would overwrite the input")


def test_a_stale_rejects_file_is_removed_only_if_it_is_one(home):
    from dataforge.io import Reject, RejectSink

    with RejectSink(home / "notes.txt"):  # no rejects this time: "remove the stale file" must not hit notes
        pass
    assert (home / "notes.txt").read_text() == "my notes\n"
    with RejectSink(home / "old.rejects.jsonl") as sink:
        sink.add(Reject("bad", file="x.jsonl", line=1, row={}))
    with RejectSink(home / "old.rejects.jsonl"):
        pass
    assert not (home / "old.rejects.jsonl").exists()  # a real stale rejects file still goes


def test_convert_of_a_rejects_file_into_its_owner_is_refused(home):
    write_jsonl(home / "X.rejects.jsonl", ROWS)
    before = snapshot(home)
    res = run_cli("convert", "X.rejects.jsonl", "-o", "X", cwd=home)
    assert_refused(res, home, before, "X.rejects.jsonl", "rejects file")


@pytest.mark.parametrize("flag", ["-o", "--json"])
def test_report_output_naming_the_input_is_refused(home, flag):
    before = snapshot(home)
    res = run_cli("report", "in.jsonl", flag, "in.jsonl", cwd=home)
    assert_refused(res, home, before, "would overwrite the input")


@pytest.mark.parametrize("command", ["convert", "dedup", "format"])
@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_a_link_to_the_input_is_the_input(home, command, link):
    (os.symlink if link == "symlink" else os.link)(home / "in.jsonl", home / "alias.jsonl")
    before = snapshot(home)
    res = run_cli(command, "in.jsonl", "-o", "alias.jsonl", cwd=home)
    assert_refused(res, home, before, "alias.jsonl", "would overwrite the input", "through a link")


@pytest.mark.parametrize("args", [["report", "in.jsonl", "-o", "r.html", "--json", "r.html"],
                                  ["dedup", "in.jsonl", "-o", "d.jsonl", "--clusters", "d.jsonl"]])
def test_two_outputs_of_one_command_cannot_be_one_file(home, args):
    before = snapshot(home)
    res = run_cli(*args, cwd=home)
    assert_refused(res, home, before, "named as two outputs")


def test_an_output_folder_holding_the_input_is_refused(home):
    write_jsonl(home / "src" / "data.jsonl", ROWS)
    before = snapshot(home)
    res = run_cli("convert", "src/data.jsonl", "-o", "src", cwd=home)
    assert_refused(res, home, before, "holds the input")


@pytest.mark.parametrize("given", ["shards", "shards/*.jsonl"])
def test_an_input_found_through_a_folder_or_glob_is_an_input_too(home, given):
    (home / "shards").mkdir()
    write_jsonl(home / "shards" / "a.jsonl", ROWS[:2])
    write_jsonl(home / "shards" / "b.jsonl", ROWS[2:])
    before = snapshot(home)
    res = run_cli("convert", given, "-o", "shards/b.jsonl", cwd=home)
    assert_refused(res, home, before, "shards/b.jsonl", "would overwrite the input")


# --- 6. exit codes: rows read, none written ---------------------------------------------------------

BAD = '{"instruction": "", "output": "x"}\n{"instruction": "a", "output": "  "}\nnot json at all\n'


def test_a_run_that_writes_no_rows_fails_with_the_reasons_and_keeps_the_old_output(home):
    (home / "bad.jsonl").write_text(BAD)
    (home / "out.jsonl").write_text('{"old": "output"}\n')
    res = run_cli("convert", "bad.jsonl", "-o", "out.jsonl", cwd=home)
    assert res.code == 1
    assert res.error_line.startswith("error: read 3 rows but wrote none to out.jsonl")
    assert "field is empty" in res.error_line and "malformed JSON" in res.error_line
    assert "--allow-empty" in res.err
    assert (home / "out.jsonl").read_text() == '{"old": "output"}\n'  # not replaced by an empty file
    assert len((home / "out.jsonl.rejects.jsonl").read_text().splitlines()) == 3  # the reasons are kept
    assert temp_leftovers(home) == []
    res = run_cli("convert", "bad.jsonl", "-o", "out.jsonl", "--allow-empty", cwd=home)
    assert res.code == 0 and "wrote 0" in res.out
    assert (home / "out.jsonl").read_text() == ""


def test_a_run_that_writes_some_rows_succeeds_and_prints_the_counts(home):
    (home / "mixed.jsonl").write_text(BAD + json.dumps(ROWS[0]) + "\n")
    res = run_cli("convert", "mixed.jsonl", "-o", "out.jsonl", cwd=home)
    assert res.code == 0, res.err
    assert "read 4 rows (dolly), wrote 1 (instruction), rejected 3" in res.out


@pytest.mark.parametrize("args", [["dedup", "bad.jsonl", "-o", "out.jsonl", "--exact"],
                                  ["format", "bad.jsonl", "-o", "out.jsonl"],
                                  ["synth", "completion", "short.txt", "-o", "out.jsonl"]])
def test_every_writing_command_fails_when_it_writes_no_rows(home, args):
    (home / "bad.jsonl").write_text(BAD)
    (home / "short.txt").write_text("Too short.\n")
    (home / "out.jsonl").write_text('{"an earlier": "good output"}\n')
    res = run_cli(*args, cwd=home)
    assert res.code == 1, (res.out, res.err)
    assert "wrote no" in res.error_line or "but wrote none" in res.error_line, res.err
    assert temp_leftovers(home) == []
    # the failed run did not replace the earlier output with an empty file
    assert (home / "out.jsonl").read_text() == '{"an earlier": "good output"}\n'
    assert run_cli(*args, "--allow-empty", cwd=home).code == 0
    assert (home / "out.jsonl").read_text() == ""  # asked for: an empty result replaces it


# --- 7. tracebacks that must be error lines ---------------------------------------------------------

@pytest.fixture
def full_disk(tmp_path_factory):
    """A 2 MB tmpfs filled to the brim (we run as root); skipped where mounting is not allowed."""
    mnt = tmp_path_factory.mktemp("full")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        with open(mnt / "filler", "wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.parametrize("command", ["convert", "format", "report", "dedup"])
def test_disk_full_is_an_error_line_and_leaves_no_temp_files(home, full_disk, command):
    before, disk_before = snapshot(home), snapshot(full_disk)
    out = full_disk / ("out.html" if command == "report" else "out.jsonl")
    extra = ["--exact"] if command == "dedup" else []
    res = run_cli(command, "in.jsonl", "-o", out, *extra, cwd=home)
    assert res.code == 1, (res.out, res.err)
    assert "no space left" in res.error_line.lower(), res.err
    assert "Traceback" not in res.err
    assert snapshot(home) == before
    assert temp_leftovers(full_disk) == []
    assert not out.exists()
    new = set(snapshot(full_disk)) - set(disk_before)
    assert all(p.startswith("out.jsonl.dedup-work") for p in new), new  # dedup keeps its resumable work folder


def test_a_gzip_bomb_is_stopped_at_the_line_limit(home):
    with gzip.open(home / "bomb.jsonl.gz", "wb", compresslevel=9) as fh:
        for _ in range(64):
            fh.write(b"a" * (1 << 20))  # 64 MiB, no line end
    with gzip.open(home / "bomb.json.gz", "wb", compresslevel=9) as fh:
        fh.write(b"[" + b" " * (64 << 20) + b"]")
    before = snapshot(home)
    env = {"DATAFORGE_MAX_LINE_BYTES": str(4 << 20), "DATAFORGE_MAX_JSON_BYTES": str(4 << 20)}
    res = run_cli("convert", "bomb.jsonl.gz", "-o", "out.jsonl", cwd=home, env=env)
    assert_refused(res, home, before, "bomb.jsonl.gz:1", "a line longer than 4 MiB")
    res = run_cli("convert", "bomb.json.gz", "--format", "json", "-o", "out.jsonl", cwd=home, env=env)  # parsed whole
    assert_refused(res, home, before, "bomb.json.gz", "JSON array larger than 4 MiB")


def test_memory_error_is_an_error_line(home, monkeypatch):
    from click.testing import CliRunner

    import dataforge.convert
    from dataforge.cli.main import cli

    def exhausted(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(dataforge.convert, "_convert", exhausted)
    monkeypatch.chdir(home)
    result = CliRunner().invoke(cli, ["-q", "convert", "in.jsonl", "-o", "out.jsonl"])
    assert result.exit_code == 1 and "error: not enough memory" in result.output
    result = CliRunner().invoke(cli, ["--debug", "convert", "in.jsonl", "-o", "out.jsonl"])
    assert isinstance(result.exception, MemoryError)  # --debug keeps the traceback


def test_deep_nesting_is_an_error_line_or_a_rejected_row(home):
    depth = 100_000
    (home / "deep.json").write_text("[" * depth + "]" * depth)
    before = snapshot(home)
    res = run_cli("convert", "deep.json", "-o", "out.jsonl", cwd=home)
    assert_refused(res, home, before, "deep.json", "nested too deeply")
    row = json.dumps(ROWS[0])
    nested = '{"instruction": "a", "output": "b", "x": ' + "[" * 400 + "]" * 400 + "}"
    (home / "deep.jsonl").write_text(row + "\n" + "[" * 600 + "]" * 600 + "\n" + nested + "\n")
    res = run_cli("convert", "deep.jsonl", "-o", "out.jsonl", cwd=home)  # one bad row spoils nothing
    assert res.code == 0, res.err
    assert "wrote 1" in res.out and "rejected 2" in res.out


def test_non_ascii_keys_and_text_are_read_and_shown(home):
    write_jsonl(home / "zh.jsonl", [{"指令": "说出一颗行星。", "输出": "火星", "类别": "问答"}])
    res = run_cli("convert", "zh.jsonl", "-o", "out.jsonl", "--map", "instruction=指令", "--map", "output=输出",
                  cwd=home)
    assert res.code == 0, res.err
    row = json.loads((home / "out.jsonl").read_text(encoding="utf-8"))
    assert row["instruction"] == "说出一颗行星。" and row["meta"]["extra"] == {"类别": "问答"}
    res = run_cli("inspect", "out.jsonl", cwd=home, env={"PYTHONIOENCODING": "ascii"})  # a terminal without UTF-8
    assert res.code == 0 and "Traceback" not in res.err, res.err
    assert "\\u8bf4" in res.out


def test_a_non_ascii_api_key_is_an_error_line_and_never_printed(home):
    (home / "docs.txt").write_text("A passage about rivers and the sea that is long enough to be used here. " * 3)
    key = "sk-ключ-123"
    res = run_cli("synth", "qa", "docs.txt", "-o", "qa.jsonl", "-m", "m", "--base-url", "http://127.0.0.1:9/v1",
                  "--max-retries", "0", "--timeout", "5", cwd=home, env={"OPENAI_API_KEY": key}, timeout=120)
    assert res.code == 1, (res.out, res.err)
    assert res.error_line and "Traceback" not in res.err
    assert key not in res.out + res.err and "ключ" not in res.out + res.err


# --- 8. temp files after signals and kills ----------------------------------------------------------

def big_input(path: Path, rows: int = 150_000) -> Path:
    filler = "lorem ipsum dolor sit amet " * 8
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(rows):
            fh.write(json.dumps({"instruction": f"Question {i}: {filler}", "output": f"Answer {i}: {filler}"}) + "\n")
    return path


def start_and_wait_for_temp(folder: Path, *args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "dataforge", "-q", *args], cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while not temp_leftovers(folder):
        assert proc.poll() is None, f"finished before it could be interrupted: {proc.communicate()}"
        assert time.monotonic() < deadline, "no temporary file appeared"
        time.sleep(0.01)
    return proc


@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_mid_write_leaves_no_temp_files(tmp_path, sig, code, word):
    big_input(tmp_path / "big.jsonl")
    before = snapshot(tmp_path)
    proc = start_and_wait_for_temp(tmp_path, "convert", "big.jsonl", "-o", "out.parquet")
    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert word in err and "Traceback" not in err
    assert temp_leftovers(tmp_path) == []
    assert snapshot(tmp_path) == before  # no output, no partial file, the input untouched


def test_a_rerun_removes_the_temp_files_of_a_killed_run(tmp_path):
    big_input(tmp_path / "big.jsonl")
    proc = start_and_wait_for_temp(tmp_path, "convert", "big.jsonl", "-o", "out.jsonl")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    left = temp_leftovers(tmp_path)
    assert left and all(f".tmp-{proc.pid}-" in name for name in left)  # SIGKILL cannot clean up; the pid says whose
    write_jsonl(tmp_path / "small.jsonl", ROWS)
    res = run_cli("convert", "small.jsonl", "-o", "out.jsonl", cwd=tmp_path)
    assert res.code == 0, res.err
    assert temp_leftovers(tmp_path) == []
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == len(ROWS)


def test_stale_temp_cleanup_spares_running_processes(tmp_path):
    from dataforge.io.atomic import remove_stale_temps

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for pid in (dead.pid, alive.pid):
            (tmp_path / f".out.jsonl.tmp-{pid}-abcd").write_text("partial")
        (tmp_path / ".out.jsonl.tmp-legacyname").write_text("no pid: whose is it?")
        (tmp_path / f".other.jsonl.tmp-{dead.pid}-abcd").write_text("another target's")
        assert remove_stale_temps(tmp_path / "out.jsonl") == [f".out.jsonl.tmp-{dead.pid}-abcd"]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [f".out.jsonl.tmp-{alive.pid}-abcd", ".out.jsonl.tmp-legacyname", f".other.jsonl.tmp-{dead.pid}-abcd"])
    finally:
        alive.kill()
        alive.wait()


# --- 9. ids of repeated rows without ids: linear ----------------------------------------------------

def test_repeated_rows_without_ids_get_ids_in_linear_time(tmp_path):
    from dataforge.io import read_dataset

    n = 50_000
    (tmp_path / "same.jsonl").write_text('{"instruction": "Say hi.", "output": "hi"}\n' * n)
    start = time.monotonic()
    ds = read_dataset(tmp_path / "same.jsonl")
    ids = [record.id for record in ds]
    seconds = time.monotonic() - start
    assert len(set(ids)) == n and ids[-1] == f"{ids[0]}-{n}"
    assert ds.id_probes == n - 1  # one probe per repeat; the old search made n*n/2 (1.25 billion here)
    assert seconds < 30, seconds


def test_a_rerun_never_deletes_a_file_the_user_added_to_its_output_folder(home):
    assert run_cli("convert", "in.jsonl", "-o", "dsout", cwd=home).code == 0
    assert run_cli("convert", "in.jsonl", "-o", "dsout", cwd=home).code == 0  # its own folder: replaced
    (home / "dsout" / "user_note.txt").write_text("my notes\n")
    before = snapshot(home)
    res = run_cli("convert", "in.jsonl", "-o", "dsout", cwd=home)
    assert_refused(res, home, before, "dsout", "user_note.txt")
    assert (home / "dsout" / "user_note.txt").read_text() == "my notes\n"
