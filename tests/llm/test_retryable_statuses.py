"""Every retryable HTTP status is retried (and every other 4xx is not), and the journal row each kind of
failure leaves behind, read back from the file. Replies are keyed by the request's content and the
attempt number, never by arrival order.
"""

from __future__ import annotations

import pytest

from dataforge.llm import ChatRequest, RunPolicy, run_requests
from dataforge.llm.journal import Journal
from dataforge.llm.loopback import Fault
from dataforge.llm.openai_backend import OpenAIBackend

RETRYABLE = (408, 409, 429, 500, 502, 503, 504)
NOT_RETRIED = (400, 413, 422)  # 401, 403, 404 stop the whole run (tests/llm/test_runner.py)


def backend_for(srv):
    return OpenAIBackend("m", base_url=srv.url, api_key_env="DF_TEST_KEY", timeout=5.0)


def policy(**kw):
    return RunPolicy(**{"concurrency": 8, "backoff": 0.01, "backoff_cap": 0.02, **kw})


def content_of(req):
    return req["messages"][-1]["content"]


def status_fault(code: int) -> Fault:
    if code == 429:
        return Fault.rate_limit(None, retry_after_ms=10)
    return Fault.server_error(code) if code >= 500 else Fault.error(code, f"status {code}")


def test_each_retryable_status_is_retried_and_each_other_4xx_is_not(loopback, api_key, tmp_path):
    codes = RETRYABLE + NOT_RETRIED

    def reply(req, attempt):
        code = int(content_of(req))
        return status_fault(code) if attempt == 0 else f"ok after {code}"

    srv = loopback(reply)
    reqs = [ChatRequest([{"role": "user", "content": str(c)}], params={"max_tokens": 8}, tag=c) for c in codes]
    results = run_requests(reqs, backend_for(srv), tmp_path / "j.sqlite", policy=policy(), progress=False)
    by_code = {r.tag: r for r in results}
    assert len(by_code) == len(codes)
    for code in RETRYABLE:
        r = by_code[code]
        assert (r.ok, r.value, r.attempts, srv.log.received[r.key]) == (True, f"ok after {code}", 2, 2), code
    for code in NOT_RETRIED:
        r = by_code[code]
        assert (r.ok, r.attempts, srv.log.received[r.key]) == (False, 1, 1), code
        assert r.reason == f"HTTP {code}: status {code}"
    with Journal(tmp_path / "j.sqlite") as j:
        for code in RETRYABLE:
            e = j.get(by_code[code].key)
            assert (e.state, e.content, e.attempts, e.reason) == ("done", f"ok after {code}", 2, None), code
        for code in NOT_RETRIED:
            e = j.get(by_code[code].key)
            assert (e.state, e.content, e.reason) == ("failed", None, f"HTTP {code}: status {code}"), code


@pytest.mark.parametrize("kind,fault,reason", [
    ("5xx to the end", Fault.server_error(503), "HTTP 503: The server had an error (after 3 attempts)"),
    ("400", Fault.error(400, "context too long"), "HTTP 400: context too long"),
    ("empty twice", Fault.empty(), "empty completion"),
    ("truncated", Fault.length(), "truncated: finish_reason=length at max_tokens=32"),
])
def test_journal_row_after_each_kind_of_failure(loopback, api_key, tmp_path, kind, fault, reason):
    srv = loopback(lambda req: fault if content_of(req) == "bad" else "good")
    reqs = [ChatRequest([{"role": "user", "content": c}], params={"max_tokens": 16}, tag=c) for c in ("bad", "fine")]
    bad, fine = run_requests(reqs, backend_for(srv), tmp_path / "j.sqlite", policy=policy(max_retries=2),
                             progress=False)
    assert (bad.ok, bad.reason) == (False, reason) and fine.ok
    with Journal(tmp_path / "j.sqlite") as j:
        row = j.get(bad.key)
        assert (row.state, row.reason, row.attempts) == ("failed", reason, bad.attempts)
        assert j.get(fine.key).state == "done"
        assert j.counts() == {"done": 1, "failed": 1}
