"""The LLM layer as a user meets it: dead or refusing servers, SIGKILL and resume, one run per journal,
API keys with stray line breaks, bad URLs. Every case runs the real CLI in a subprocess against the
loopback server (through the real `openai` client) and checks the file system afterwards."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from safety_helpers import run_cli, snapshot, temp_leftovers

from dataforge.llm.loopback import Fault, Latency

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "synth"), str(ROOT / "tests" / "translate")]

from fake_model import fake_model  # noqa: E402
from translate_helpers import dolly_rows  # noqa: E402
from translate_scripted import Translator  # noqa: E402

CANARY = "sk-canary-llm-safety-4c2b9e7f01d3"


# -- helpers ------------------------------------------------------------------------------------------
def free_port() -> int:
    """A port where nothing listens: bound once to find it, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def passages(n: int) -> str:
    body = ("The committee met on Tuesday to review the harbour plan and agreed that the northern pier needs "
            "repairs before winter storms arrive, while funding for the new lighthouse will wait until spring")
    return "\n\n".join(f"Report {i}: {body} (item {i})." for i in range(n)) + "\n"


def synth_cmd(docs, out, url, *extra):
    return ["-q", "synth", "qa", docs, "-o", out, "--per-passage", "1", "-m", "fake", "--base-url", url, *extra]


def translate_cmd(data, out, url, *extra):
    return ["translate", data, "-o", out, "--to", "es", "--from", "en", "-m", "scripted", "--base-url", url, *extra]


def setup_input(tmp_path: Path, command: str, n: int = 24) -> tuple[Path, Path, list]:
    """(input file, output path, CLI args without the URL) for `command` on n rows."""
    if command == "synth":
        src = tmp_path / "docs.txt"
        src.write_text(passages(n), encoding="utf-8")
        return src, tmp_path / "qa.jsonl", [src, tmp_path / "qa.jsonl"]
    src = tmp_path / "in.jsonl"
    rows = dolly_rows([f"topic {i} of the list" for i in range(n)])
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return src, tmp_path / "out.jsonl", [src, tmp_path / "out.jsonl"]


def cli_for(command: str, args: list, url: str, *extra) -> list:
    return (synth_cmd if command == "synth" else translate_cmd)(*args, url, *extra)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def env_with(key: str = "sk-test-key") -> dict:
    return {"OPENAI_API_KEY": key, "OPENAI_BASE_URL": "", "COLUMNS": "200", "NO_COLOR": "1"}


def assert_one_error_and_tidy(res, folder: Path, before: dict, added: set[str] = frozenset()):
    """Exit 1, exactly one `error:` line, no traceback, the input untouched, nothing but `added` new."""
    assert res.code == 1, res.out + res.err
    assert len([ln for ln in res.err.splitlines() if ln.startswith("error:")]) == 1, res.err
    assert "Traceback" not in res.err
    after = snapshot(folder)
    assert {k: v for k, v in after.items() if k in before} == before  # every old file unchanged
    assert set(after) - set(before) == set(added), sorted(after)
    assert temp_leftovers(folder) == []


@pytest.fixture
def server(loopback):
    return loopback  # tests/conftest.py: started LoopbackServers, stopped after the test


# -- 1. a server that is down, or refuses everything, stops the run at once --------------------------
@pytest.mark.parametrize("command", ["synth", "translate"])
def test_a_server_that_is_down_is_reported_within_30_s(tmp_path, command):
    src, out, args = setup_input(tmp_path, command, n=40)
    url = f"http://127.0.0.1:{free_port()}/v1"
    before = snapshot(tmp_path)
    start = time.monotonic()
    res = run_cli(*cli_for(command, args, url), env=env_with(), timeout=60)
    took = time.monotonic() - start
    assert took < 30, took
    journal = out.name + ".journal.sqlite"
    assert_one_error_and_tidy(res, tmp_path, before, added={journal})  # the journal is kept for the rerun
    assert res.error_line.startswith(f"error: cannot reach the server (scripted at {url})".replace(
        "scripted", "fake" if command == "synth" else "scripted")), res.error_line
    assert "no request has succeeded" in res.error_line
    assert "--base-url" in res.err and "journal" in res.err  # what to check, and that a rerun resumes


LITELLM_400 = "Authentication Error, Invalid proxy server token passed. Received API Key = sk-...dead"


@pytest.mark.parametrize("command", ["synth", "translate"])
def test_a_server_answering_400_to_everything_stops_and_quotes_it(tmp_path, server, command):
    srv = server(lambda req: Fault.error(400, LITELLM_400))
    src, out, args = setup_input(tmp_path, command, n=60)
    before = snapshot(tmp_path)
    start = time.monotonic()
    res = run_cli(*cli_for(command, args, srv.url, "-c", "4"), env=env_with(), timeout=60)
    assert time.monotonic() - start < 20
    assert_one_error_and_tidy(res, tmp_path, before, added={out.name + ".journal.sqlite"})
    assert "refused every request: HTTP 400: " + LITELLM_400 in res.error_line
    assert "--model" in res.err and "OPENAI_API_KEY" in res.err and "--base-url" in res.err
    assert srv.log.total < 20  # stopped after a few refusals, not one per row (60 rows)


def test_a_server_that_succeeds_then_refuses_some_rows_keeps_going(tmp_path, server):
    def reply(req):
        text = req["messages"][-1]["content"]
        if any(f"(item {i})" in text for i in range(3, 60, 3)):  # a third of the rows: too long, say
            return Fault.error(400, "This model's maximum context length is 8 tokens")
        return fake_model(req)

    srv = server(reply)
    src, out, args = setup_input(tmp_path, "synth", n=60)
    res = run_cli(*synth_cmd(*args, srv.url, "-c", "1"), env=env_with(), timeout=60)
    assert res.code == 0, res.err
    assert len(out.read_text().splitlines()) == 41 and "rejected 19 candidates" in res.out
    reasons = [json.loads(ln)["reason"] for ln in (tmp_path / "qa.jsonl.rejects.jsonl").read_text().splitlines()]
    assert len(reasons) == 19 and all("maximum context length" in r for r in reasons)
    assert temp_leftovers(tmp_path) == []


def test_a_translate_batch_lost_in_transport_is_resent_whole_never_split(tmp_path, server):
    translator = Translator()

    def reply(req):
        items = json.loads(req["messages"][-1]["content"])
        if any("topic 5 " in it.get("instruction", "") for it in items) and len(items) > 1:
            return Fault.drop()  # this batch never gets through; each of its rows alone would
        return translator(req)

    srv = server(reply)
    src, out, args = setup_input(tmp_path, "translate", n=16)
    res = run_cli(*translate_cmd(*args, srv.url, "--batch-size", "4", "--max-retries", "2"), env=env_with(),
                  timeout=60)
    assert res.code == 0, res.err
    # 4 batches of 4 rows; the lost one was tried 3 times (1 + 2 retries) and never as single rows
    assert srv.log.total == 3 + 3 and len(srv.log.received) == 4, srv.log.received
    rejects = [json.loads(ln) for ln in (tmp_path / "out.jsonl.rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 4 and all("connection error" in r["reason"] for r in rejects)
    assert len(out.read_text().splitlines()) == 12


# -- 2. SIGKILL, then a rerun: nothing answered more than 50 ms before the kill is sent again -----------
def _launch(cmd: list, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dataforge", *map(str, cmd)], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("command,rows,kill_after", [("synth", 700, 300), ("translate", 1200, 100)])
def test_a_rerun_after_sigkill_resends_nothing_answered_50_ms_before(tmp_path, server, command, rows, kill_after):
    srv = server(fake_model if command == "synth" else Translator(), latency=Latency.constant(0.05))
    src, out, args = setup_input(tmp_path, command, n=rows)
    cmd = cli_for(command, args, srv.url, "-c", "64")
    proc = _launch(cmd, env_with())
    deadline = time.monotonic() + 60
    while len(srv.log.answered_at) < kill_after:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    killed_at = time.time()
    proc.wait(10)
    answered, received = dict(srv.log.answered_at), dict(srv.log.received)
    res = run_cli(*cmd, env=env_with(), timeout=120)
    assert res.code == 0, res.err
    resent = {k: killed_at - t for k, t in answered.items() if srv.log.received[k] > received[k]}
    late = sorted(age for age in resent.values() if age > 0.060)  # 50 ms + 10 ms of clock and scheduling
    print(f"{command}: {len(answered)} answered before the kill, {len(resent)} sent again, "
          f"oldest {max(resent.values(), default=0) * 1000:.0f} ms before the kill")
    # The target is none (0 in every run on an idle machine, and at load 4-7). One or two stragglers a
    # little past 50 ms can only come from the OS not scheduling the process (at load 10, four answers of
    # 50.0-50.5 ms once); the defects this guards against resent 15-64 answers up to seconds old, which
    # this still fails on.
    assert len(late) <= 2 and max(late, default=0) < 0.25, \
        f"{len(late)} answers older than 60 ms were paid for again (oldest {late[-1]:.3f} s)"
    assert len(resent) <= 64  # at most what was in flight


# -- 3. one journal, one run --------------------------------------------------------------------------
def test_a_second_run_on_the_same_journal_is_refused_and_names_the_first(tmp_path, server):
    # The server holds the first run's first answer until the second run has been refused, so the first run
    # is still running then however slowly the machine starts processes (it had finished under load 10).
    gate = threading.Event()

    def held(req):
        gate.wait(60)
        return fake_model(req)

    srv = server(held)
    src, out, args = setup_input(tmp_path, "synth", n=10)
    cmd = synth_cmd(*args, srv.url, "-c", "2")
    first = _launch(cmd, env_with())
    try:
        deadline = time.monotonic() + 30
        while srv.log.total == 0:
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.01)
        lock = tmp_path / "qa.jsonl.journal.sqlite.lock"
        assert lock.read_text().strip() == str(first.pid)
        try:
            second = run_cli(*cmd, env=env_with(), timeout=30)
            still_running = first.poll() is None
        finally:
            gate.set()
        assert still_running
        assert second.code == 1, second.err
        assert f"pid {first.pid}" in second.error_line and "another dataforge run" in second.error_line
        assert "delete" not in (second.out + second.err).lower()
        stdout, stderr = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, stderr
    assert srv.log.total == 10 and set(srv.log.received.values()) == {1}  # the second run sent nothing
    assert not lock.exists()  # the first run removed its lock file
    assert temp_leftovers(tmp_path) == []


# -- 4. API keys with stray whitespace or control characters -----------------------------------------
def _files_with(folder: Path, needle: str) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_a_key_with_a_trailing_crlf_is_stripped_and_never_written_or_shown(tmp_path, server):
    def leaky(req, attempt):  # a server that echoes the Authorization header it got
        auth = next(iter(srv.log.auth), "")
        text = req["messages"][-1]["content"]
        if "(item 0)" in text:
            return Fault.error(400, f"bad request from {auth}")
        if "(item 1)" in text and attempt == 0:
            return Fault.server_error(500, f"upstream said {auth}")
        if "(item 2)" in text:
            return f"your key is {auth}"  # not a JSON list of pairs: rejected, with the model's output
        return fake_model(req)

    srv = server(leaky, api_key=CANARY)  # only the stripped key is accepted
    src, out, args = setup_input(tmp_path, "synth", n=6)
    res = run_cli(*synth_cmd(*args, srv.url), env=env_with(CANARY + "\r\n"), timeout=60)
    assert res.code == 0, res.err
    assert srv.log.auth == {f"Bearer {CANARY}"}  # the stripped key went out (and was echoed back)
    assert (tmp_path / "qa.jsonl.rejects.jsonl").exists() and "***" in (tmp_path / "qa.jsonl.rejects.jsonl").read_text()
    # every spelling (raw, escaped as \\r\\n, repr'd) contains the stripped key
    assert _files_with(tmp_path, CANARY) == []
    assert CANARY not in res.out + res.err


def test_train_openai_with_a_trailing_crlf_key_never_shows_it(tmp_path):
    from dataforge_openai_finetune.loopback import FineTuneServer, JobScript

    rows = [{"instruction": f"What is {i}+{i}?", "context": "", "response": str(2 * i)} for i in range(12)]
    data = tmp_path / "sums.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    train = ["train", "-b", "openai", "-m", "gpt-4o-mini-2024-07-18", "-d", data, "--set", "poll_interval=0.01"]
    outputs = []
    # a job that fails with a message quoting the key, then a server that wants another key and echoes ours
    for script, server_key in ((JobScript(outcome="failed", error_message=f"broke for key {CANARY}"), CANARY),
                               (JobScript(), "sk-the-right-one")):
        srv = FineTuneServer(script, api_key=server_key).start()
        try:
            env = {**env_with(CANARY + "\r\n"), "OPENAI_BASE_URL": srv.url}
            res = run_cli(*train, "-o", tmp_path / f"ft-{len(outputs)}", env=env, timeout=60)
        finally:
            srv.stop()
        assert res.code == 1, res.out + res.err
        assert "***" in res.error_line, res.error_line
        outputs.append(res.out + res.err)
    assert "HTTP 401" in outputs[1]
    assert all(CANARY not in text for text in outputs)
    assert _files_with(tmp_path, CANARY) == []


def test_a_key_with_a_control_character_inside_is_refused_without_showing_it(tmp_path, server):
    srv = server(fake_model)
    src, out, args = setup_input(tmp_path, "synth", n=3)
    before = snapshot(tmp_path)
    res = run_cli(*synth_cmd(*args, srv.url), env=env_with("sk-first-half\nsecond-half-99"), timeout=60)
    assert_one_error_and_tidy(res, tmp_path, before)
    assert "contains a control character (line break)" in res.error_line and "OPENAI_API_KEY" in res.error_line
    assert "first-half" not in res.out + res.err and "second-half" not in res.out + res.err
    assert srv.log.total == 0


# -- 5. a base URL the client cannot use -------------------------------------------------------------------
@pytest.mark.parametrize("command,url,reason", [
    ("synth", "http://127.0.0.1:99999/v1", "the port '99999' is not a number from 1 to 65535"),
    ("synth", "http://127.0.0.1:80a/v1", "the port '80a' is not a number from 1 to 65535"),
    ("translate", "http://127.0.0.1:99999/v1", "the port '99999' is not a number from 1 to 65535"),
    ("synth", "ftp://127.0.0.1:8000/v1", "must start with http:// or https://"),
])
def test_a_bad_base_url_is_an_error_line_not_a_traceback(tmp_path, command, url, reason):
    src, out, args = setup_input(tmp_path, command, n=3)
    before = snapshot(tmp_path)
    res = run_cli(*cli_for(command, args, url), env=env_with(), timeout=60)
    assert_one_error_and_tidy(res, tmp_path, before)
    assert res.error_line.startswith("error: --base-url ") and reason in res.error_line, res.error_line
