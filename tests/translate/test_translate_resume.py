"""The command as a user runs it: killed half way with SIGKILL, rerun, nothing finished is paid for twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from translate_helpers import CANARY_KEY, TOPICS, dolly_rows, read_jsonl, write_jsonl
from translate_scripted import Translator

from dataforge.llm.loopback import Fault

EXE = Path(sys.executable).parent / "dataforge"
BASE = [str(EXE)] if EXE.exists() else [sys.executable, "-m", "dataforge"]


def _cmd(data, out, url, *extra):
    return [*BASE, "translate", str(data), "-o", str(out), "--to", "es,fr", "--model", "scripted",
            "--base-url", url, "--batch-size", "2", "--concurrency", "2", *extra]


def _env():
    return dict(os.environ, OPENAI_API_KEY=CANARY_KEY, COLUMNS="200", NO_COLOR="1")


def _done_in_journal(path: Path) -> int:
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT COUNT(*) FROM requests WHERE state='done'").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0
    finally:
        db.close()


def test_sigkill_then_rerun_sends_no_finished_request_again(tmp_path, serve):
    rows = dolly_rows(TOPICS * 2)
    for i, row in enumerate(rows):
        row["id"] = f"k{i}"
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    state = {"answered": 0, "stall_after": 8}

    def hook(request, translated):
        if state["stall_after"] is not None and state["answered"] >= state["stall_after"]:
            return Fault.slow(60)  # hang: the process is killed while these are in flight
        state["answered"] += 1
        return None

    srv = serve(Translator(hook=hook))
    proc = subprocess.Popen(_cmd(data, out, srv.url), env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while sum(srv.log.completed.values()) < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert sum(srv.log.completed.values()) == 8, proc.communicate()
    journal = tmp_path / "out.jsonl.journal.sqlite"
    while _done_in_journal(journal) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)  # the journal commits within a fraction of a second of each answer
    assert _done_in_journal(journal) == 8
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert not out.exists()  # an atomic writer: no half-written output
    finished_first = {k for k, n in srv.log.completed.items() if n}

    state["stall_after"] = None
    res = subprocess.run(_cmd(data, out, srv.url), env=_env(), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    for key in finished_first:
        assert srv.log.received[key] == 1, "a request finished before the kill was sent again"
    assert all(n == 1 for n in srv.log.completed.values())
    written = read_jsonl(out)
    pairs = sorted((r["meta"]["translation"]["source_id"], r["lang"]) for r in written)
    assert pairs == sorted((r["id"], lang) for r in rows for lang in ("es", "fr"))  # each exactly once
    assert "8 from the journal" in res.stdout
    # the API key is nowhere: output, journal, stdout, stderr
    for path in tmp_path.iterdir():
        if path.is_file():
            assert CANARY_KEY.encode() not in path.read_bytes(), path
    assert CANARY_KEY not in res.stdout + res.stderr
    assert srv.log.auth == {f"Bearer {CANARY_KEY}"}  # ...yet it was sent to the server


def test_bad_input_gives_one_clear_error(tmp_path, serve):
    data = write_jsonl(tmp_path / "in.jsonl", dolly_rows()[:2])
    srv = serve()
    res = subprocess.run(_cmd(data, tmp_path / "o.jsonl", srv.url, "--to", "es,xx"), env=_env(),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "unknown language code 'xx'" in res.stderr and "supported:" in res.stderr and " de, " in res.stderr
    res = subprocess.run(_cmd(data, tmp_path / "o.jsonl", srv.url, "--min-chrf", "50"), env=_env(),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "--min-chrf needs --backcheck" in res.stderr
    assert srv.log.total == 0
