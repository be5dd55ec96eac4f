"""The request journal's states after each kind of event, read back from a reopened file.

sent -> failed keeps the reason; failed -> sent (sent again) keeps it until the new answer; done is never
downgraded; a failed commit (disk full) keeps the rows for the next try and the next record() says so.
Found by `make mutation AREA=llm` (dataforge/llm/journal.py).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import dataforge.llm.journal as journal_mod
from dataforge.errors import InputError
from dataforge.llm.journal import Entry, Journal, journal_path_for


@pytest.fixture
def gate(monkeypatch):
    """Holds the journal's writer thread in its pre-commit sleep until set(): rows stay pending, no race."""
    ev = threading.Event()
    monkeypatch.setattr(journal_mod, "time", SimpleNamespace(sleep=lambda _s: ev.wait(), time=time.time))
    yield ev
    ev.set()


def rec(j: Journal, key: str, state: str, reason: str | None = None, content: str | None = None, attempts=1):
    j.record(key, state=state, model="m", content=content, finish_reason="stop" if content else None,
             prompt_tokens=3 if content else 0, completion_tokens=2 if content else 0, attempts=attempts,
             reason=reason)


def reopened(path: Path) -> dict[str, Entry]:
    with Journal(path) as j:
        rows = j._db.execute("SELECT key FROM requests").fetchall()
        return {k: j.get(k) for (k,) in rows}


def test_journal_path_sits_next_to_the_output():
    assert journal_path_for("out/data.jsonl") == Path("out/data.jsonl.journal.sqlite")
    assert journal_path_for("out/folder/") == Path("out/folder.journal.sqlite")


def test_each_state_and_its_fields_survive_reopening(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        for key in ("ok", "bad", "lost"):
            j.mark_sent(key, "m")
        rec(j, "ok", "done", content="Paris", attempts=2)
        rec(j, "bad", "failed", reason="HTTP 400: context too long", attempts=1)
        # "lost": sent, then the process stopped before any answer
        assert j.counts() == {"done": 1, "failed": 1, "sent": 1}
    got = reopened(path)
    assert got["ok"] == Entry("ok", "done", "m", "Paris", "stop", 3, 2, 2, None)
    assert got["bad"] == Entry("bad", "failed", "m", None, None, 0, 0, 1, "HTTP 400: context too long")
    assert got["lost"] == Entry("lost", "sent", "m", None, None, 0, 0, 0, None)


def test_sent_again_after_failing_goes_back_to_sent_but_done_stays_done(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        rec(j, "a", "failed", reason="HTTP 503: busy")
        rec(j, "b", "done", content="yes")
        j.flush()
        j.mark_sent("a", "m")
        j.mark_sent("b", "m")  # a rerun never sends a done one, but if it did, the answer stays
    got = reopened(path)
    assert (got["a"].state, got["a"].reason) == ("sent", "HTTP 503: busy")
    assert (got["b"].state, got["b"].content) == ("done", "yes")


def test_fresh_forgets_every_request_and_get_sees_pending_rows(tmp_path, gate):
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        rec(j, "a", "done", content="x")
        j.flush()
        assert j.get("a").state == "done"
        rec(j, "a", "failed", reason="r")  # the writer is held: this row is only pending
        assert j.get("a").state == "failed"  # the pending entry wins over the committed one
        assert j.get("nope") is None
        gate.set()
    with Journal(path, fresh=True) as j:
        assert j.get("a") is None and j.counts() == {}


def test_more_rows_than_one_statement_holds_are_all_written(tmp_path):
    path = tmp_path / "j.sqlite"
    per = journal_mod._MAX_PARAMS // 10
    with Journal(path) as j:
        for i in range(per + 1):
            j.mark_sent(f"k{i}", "m")
        j.flush()
        for i in range(per + 1):
            rec(j, f"k{i}", "done", content="c")
        assert j.counts() == {"done": per + 1}


def test_a_failed_commit_keeps_its_rows_and_the_next_call_reports_it(tmp_path, monkeypatch, gate):
    path = tmp_path / "j.sqlite"
    real = journal_mod._write_rows
    with Journal(path) as j:
        rec(j, "a", "done", content="kept")  # the writer is held, so this flush is the only commit
        monkeypatch.setattr(journal_mod, "_write_rows", _disk_full)
        with pytest.raises(sqlite3.OperationalError, match="disk is full"):
            j.flush()
        monkeypatch.setattr(journal_mod, "_write_rows", real)
        j.flush()  # the same rows, written on the next try
        gate.set()
    assert reopened(path)["a"].content == "kept"

    with Journal(path) as j:  # now the writer thread itself hits the error
        monkeypatch.setattr(journal_mod, "_write_rows", _disk_full)
        rec(j, "b", "done", content="x")
        j._writer.join(timeout=5)  # the writer thread hits the error and stops
        with pytest.raises(InputError) as info:
            rec(j, "c", "done", content="y")
        assert info.value.message == f"{path}: cannot write the request journal (database or disk is full)"
        assert info.value.hint.startswith("check the free space and permissions of its folder")
        monkeypatch.setattr(journal_mod, "_write_rows", real)
    assert reopened(path)["b"].content == "x"  # close() wrote what the writer could not


def _disk_full(*_a, **_k):
    raise sqlite3.OperationalError("database or disk is full")


def test_closing_twice_is_harmless_and_releases_the_run_lock(tmp_path):
    path = tmp_path / "j.sqlite"
    j = Journal(path)
    j.close()
    j.close()
    with Journal(path) as again:  # the lock was released: a second run may open it
        assert again.counts() == {}
