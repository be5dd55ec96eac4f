"""Killing `dataforge synth` (SIGKILL, Ctrl-C) loses nothing, and a rerun sends nothing twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from synth_helpers import CANARY_KEY, ROOT, passages, read_jsonl

from dataforge.llm.loopback import Latency

N = 120


def launch(srv, docs, out, *extra):
    env = {**os.environ, "OPENAI_API_KEY": CANARY_KEY, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_BASE_URL", None)
    cmd = [sys.executable, "-m", "dataforge", "-q", "synth", "qa", str(docs), "-o", str(out), "--per-passage", "1",
           "-m", "fake", "--base-url", srv.url, "-c", "8", *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def wait_for(srv, count, proc, limit=60.0):
    deadline = time.monotonic() + limit
    while srv.log.total < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run did not get going"
        time.sleep(0.01)


def journal_rows(out):
    db = sqlite3.connect(f"{out}.journal.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return db.execute("SELECT key, state, content FROM requests").fetchall()
    finally:
        db.close()


def finish_and_check(srv, docs, out, done_before: set[str]):
    received = dict(srv.log.received)
    proc = launch(srv, docs, out)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    rows = read_jsonl(out)
    contexts = [r["context"] for r in rows]
    assert len(contexts) == N and len(set(contexts)) == N  # every input exactly once
    assert all(srv.log.received[key] == received[key] for key in done_before)  # nothing finished was resent
    assert f"{len(done_before):,} from the journal" in stdout
    return stdout + stderr


def test_sigkill_halfway_then_rerun(serve, tmp_path):
    srv = serve(latency=Latency.lognormal(0.05))
    docs = tmp_path / "docs.txt"
    docs.write_text(passages(N), encoding="utf-8")
    out = tmp_path / "qa.jsonl"
    proc = launch(srv, docs, out)
    wait_for(srv, N // 2, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert not out.exists()  # no half-written output
    rows = journal_rows(out)
    done = {key for key, state, _ in rows if state == "done"}
    assert 0 < len(done) < N
    assert all(srv.log.completed[key] == 1 for key in done)  # the journal holds only real answers
    text = finish_and_check(srv, docs, out, done)
    assert CANARY_KEY not in text


def test_sigint_exits_130_with_a_consistent_journal(serve, tmp_path):
    srv = serve(latency=Latency.lognormal(0.05))
    docs = tmp_path / "docs.txt"
    docs.write_text(passages(N), encoding="utf-8")
    out = tmp_path / "qa.jsonl"
    proc = launch(srv, docs, out)
    wait_for(srv, N // 2, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "run the same command again to resume" in stderr
    rows = journal_rows(out)
    states = {state for _, state, _ in rows}
    assert states <= {"done", "sent", "failed"}
    done = {key for key, state, content in rows if state == "done" and content}
    assert len(done) == sum(1 for _, state, _ in rows if state == "done")
    assert f"{len(done):,} finished requests are saved" in stderr
    finish_and_check(srv, docs, out, done)


def test_second_ctrl_c_exits_at_once(serve, tmp_path):
    srv = serve(latency=Latency.constant(20.0))
    docs = tmp_path / "docs.txt"
    docs.write_text(passages(10), encoding="utf-8")
    proc = launch(srv, docs, tmp_path / "qa.jsonl")
    wait_for(srv, 8, proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 130 and time.monotonic() - start < 3
    assert "interrupted again" in stderr
