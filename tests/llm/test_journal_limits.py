"""The journal's states and the retry/rate arithmetic."""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
from email.utils import formatdate

import pytest

from dataforge.errors import InputError
from dataforge.llm import Journal, JournalBusy, journal_path_for, request_key
from dataforge.llm.limits import Bucket, parse_retry_after, retry_delay


def record(journal, key, state, content="c"):
    journal.record(key, state=state, model="m", content=content, finish_reason="stop", prompt_tokens=1,
                   completion_tokens=2, attempts=1, reason=None if state == "done" else "HTTP 500")


def test_journal_states_survive_reopening(tmp_path):
    path = journal_path_for(tmp_path / "out.jsonl")
    assert path.name == "out.jsonl.journal.sqlite"
    with Journal(path) as journal:
        journal.mark_sent("a", "m")
        journal.mark_sent("b", "m")
        journal.mark_sent("c", "m")
        record(journal, "a", "done", "answer a")
        record(journal, "b", "failed")
        assert journal.get("a").content == "answer a"  # visible before the flush too
    with Journal(path) as journal:
        assert journal.counts() == {"done": 1, "failed": 1, "sent": 1}
        journal.mark_sent("a", "m")  # a done request is never downgraded
        journal.mark_sent("b", "m")  # a failed one being retried is 'sent' again
        journal.flush()
        assert journal.get("a").state == "done" and journal.get("b").state == "sent"
    with Journal(path, fresh=True) as journal:
        assert journal.counts() == {}


def test_a_corrupt_journal_is_a_clear_error(tmp_path):
    path = tmp_path / "j.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="cannot use the request journal") as info:
        Journal(path)
    assert "move it aside" in info.value.hint
    assert not (tmp_path / "j.sqlite.lock").exists()  # the failed open let go of the run lock
    path.unlink()
    Journal(path).close()


def test_one_journal_one_run(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path):
        assert (tmp_path / "j.sqlite.lock").read_text().strip() == str(os.getpid())
        with pytest.raises(JournalBusy) as info:
            Journal(path)  # a second open is a second run, even in the same process
        assert f"pid {os.getpid()}" in info.value.message
        assert "delete" not in (info.value.message + info.value.hint).lower()
    assert not (tmp_path / "j.sqlite.lock").exists()
    Journal(path).close()  # free again once the first run closed it


def test_a_journal_locked_by_another_program_says_so_and_keeps_it(tmp_path, monkeypatch):
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # e.g. an sqlite3 shell in a write transaction
    monkeypatch.setattr("dataforge.llm.journal.BUSY_TIMEOUT_MS", 50)
    try:
        with pytest.raises(InputError, match="locked by another program") as info:
            Journal(path)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert "keep it" in info.value.hint and "delete" not in info.value.hint.lower()


def test_an_answer_is_committed_within_milliseconds_without_a_flush(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        record(journal, "a", "done", "answer a")
        deadline = time.monotonic() + 2
        reader = sqlite3.connect(path)
        seen = None
        while seen is None and time.monotonic() < deadline:
            seen = reader.execute("SELECT content FROM requests WHERE key='a'").fetchone()
            took = 2 - (deadline - time.monotonic())
        reader.close()
        assert seen == ("answer a",) and took < 0.5  # ~10 ms; what another process (a rerun) would see


def test_request_key_covers_model_messages_and_params():
    msgs = [{"role": "user", "content": "hi"}]
    base = request_key("m", msgs, {"temperature": 0.5})
    assert base == request_key("m", [{"content": "hi", "role": "user"}], {"temperature": 0.5})
    assert base != request_key("m2", msgs, {"temperature": 0.5})
    assert base != request_key("m", [{"role": "user", "content": "hi!"}], {"temperature": 0.5})
    assert base != request_key("m", msgs, {"temperature": 0.6})


def test_parse_retry_after_forms():
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "120"}) == 120.0
    date = parse_retry_after({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    assert 25 < date <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_retry_delay_backs_off_exponentially_with_jitter_and_caps_server_waits():
    rng = random.Random(0)
    delays = [retry_delay(n, None, backoff=1.0, backoff_cap=60, max_retry_wait=600, rng=rng) for n in (1, 2, 3, 8)]
    assert 0.5 <= delays[0] <= 1 and 1 <= delays[1] <= 2 and 2 <= delays[2] <= 4 and 30 <= delays[3] <= 60
    assert 90 <= retry_delay(1, 90, backoff=1, backoff_cap=60, max_retry_wait=600, rng=rng) <= 99  # above 60 s
    assert 600 <= retry_delay(1, 7200, backoff=1, backoff_cap=60, max_retry_wait=600, rng=rng) <= 660


def test_bucket_enforces_the_rate():
    async def go():
        bucket = Bucket(per_minute=1200)  # 20/s, holds one second's worth
        start = time.monotonic()
        for _ in range(30):
            await bucket.take()
        return time.monotonic() - start

    assert 0.4 <= asyncio.run(go()) < 1.5
