"""The journal's states and the retry/rate arithmetic."""

from __future__ import annotations

import asyncio
import random
import time
from email.utils import formatdate

import pytest

from dataforge.errors import InputError
from dataforge.llm import Journal, journal_path_for, request_key
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
    assert "--fresh" in info.value.hint


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
