"""`-c auto` and several endpoints against loopback servers, through the real openai client."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dataforge.llm import ChatRequest, RunPolicy, run_requests
from dataforge.llm.endpoints import EndpointPool
from dataforge.llm.faults import Fault
from dataforge.llm.openai_backend import OpenAIBackend


def _requests(n: int, tag: str = "row") -> list[ChatRequest]:
    return [ChatRequest([{"role": "user", "content": f"{tag} {i}"}], params={"max_tokens": 16}, tag=i)
            for i in range(n)]


def _backend(srv, api_key) -> OpenAIBackend:
    return OpenAIBackend("m", base_url=srv.url, api_key_env="DF_TEST_KEY", timeout=10)


def _policy(**kw) -> RunPolicy:
    # short backoffs: a 429'd request is back within 50-100 ms (the default waits 0.5-1 s)
    return RunPolicy(backoff=0.1, backoff_cap=0.2, handle_sigint=False, **kw)


def test_auto_converges_near_the_capacity_limit_with_few_429s(loopback, api_key):
    srv = loopback(latency=0.02, max_concurrency=6)
    pool = EndpointPool([_backend(srv, api_key)])
    results = run_requests(_requests(400), pool, None, policy=_policy(concurrency=64, adaptive=True),
                           progress=False)
    assert all(r.ok for r in results)
    window = pool.endpoints[0].windows["m"]
    assert 5 <= window.limit <= 7  # the server allows 6
    assert srv.log.max_in_flight <= 8  # the slow start overshot by at most 2
    rejected = srv.log.statuses["429"]
    assert rejected / srv.log.total < 0.02, srv.log.statuses


def test_auto_backs_off_after_a_burst_of_429s(loopback, api_key):
    def reply(req):
        text = req["messages"][-1]["content"]
        return Fault.rate_limit() if text.startswith("busy") else f"ok {text}"

    srv = loopback(reply, latency=0.01)
    pool = EndpointPool([_backend(srv, api_key)], start=4)

    async def scenario():
        await asyncio.gather(*(pool.complete(r) for r in _requests(16)))  # slow start: grows from 4
        grown = pool.endpoints[0].windows["m"]
        before = grown.window
        assert before >= 8  # room for the whole burst at once
        outcomes = await asyncio.gather(*(pool.complete(r) for r in _requests(8, "busy")), return_exceptions=True)
        await pool.aclose()
        return before, grown, outcomes

    before, window, outcomes = asyncio.run(scenario())
    assert all(getattr(o, "status", None) == 429 for o in outcomes)
    # eight 429s sent together: one cut, not eight; still in slow start, so from the 8 in flight they met
    # (the window had run ahead to `before`, more than was ever in flight)
    assert before > 8 and window.window == pytest.approx(8 * 0.8)
    assert window.cuts == 1 and window.throttles == 8


def test_a_fixed_concurrency_never_exceeds_it(loopback, api_key):
    srv = loopback(latency=0.02)
    results = run_requests(_requests(120), _backend(srv, api_key), None, policy=_policy(concurrency=5),
                           progress=False)
    assert all(r.ok for r in results)
    assert srv.log.max_in_flight == 5


def test_an_endpoint_killed_mid_run_is_taken_out_and_the_run_completes(loopback, api_key, tmp_path, capsys):
    killed = threading.Event()
    holder = {}

    def dying(req):
        # after 20 requests this server goes away for good (stopped from another thread, as a crash would)
        if holder["a"].log.total >= 20 and not killed.is_set():
            killed.set()
            threading.Thread(target=holder["a"].stop, daemon=True).start()
        return f"a {req['messages'][-1]['content']}"

    holder["a"] = srv_a = loopback(dying, latency=0.02)
    srv_b = loopback(lambda req: f"b {req['messages'][-1]['content']}", latency=0.02)
    pool = EndpointPool([_backend(srv_a, api_key), _backend(srv_b, api_key)])
    journal = tmp_path / "out.journal.sqlite"
    results = run_requests(_requests(300), pool, journal, policy=_policy(concurrency=64, adaptive=True),
                           progress=False)
    assert killed.is_set()
    assert all(r.ok for r in results) and [r.tag for r in results] == list(range(300))
    assert sorted(r.value.split(" ", 1)[1] for r in results) == sorted(f"row {i}" for i in range(300))
    dead, alive = pool.endpoints
    assert dead.outs >= 1 and alive.outs == 0
    assert alive.ok > dead.ok
    assert "taken out" in capsys.readouterr().err
    # a rerun sends nothing: every request is in the journal exactly once, done
    srv_b.reset_log()
    again = run_requests(_requests(300), EndpointPool([_backend(srv_b, api_key)]), journal,
                         policy=_policy(concurrency=64, adaptive=True), progress=False)
    assert all(r.cached for r in again) and srv_b.log.total == 0


def test_the_endpoint_with_more_capacity_gets_more_requests(loopback, api_key):
    small = loopback(latency=0.03, max_concurrency=2)
    large = loopback(latency=0.03, max_concurrency=8)
    pool = EndpointPool([_backend(small, api_key), _backend(large, api_key)])
    results = run_requests(_requests(400), pool, None, policy=_policy(concurrency=64, adaptive=True),
                           progress=False)
    assert all(r.ok for r in results)
    assert large.log.completed.total() > 2 * small.log.completed.total()
    assert small.log.max_in_flight <= 4 and large.log.max_in_flight <= 11


def test_an_endpoint_refusing_the_key_is_taken_out_while_the_other_finishes(loopback, api_key, monkeypatch, capsys):
    monkeypatch.setenv("DF_WRONG_KEY", "sk-not-the-right-one")
    locked = loopback(api_key=api_key, latency=0.01)  # wants the canary key; gets another: 401
    open_srv = loopback(latency=0.01)
    wrong = OpenAIBackend("m", base_url=locked.url, api_key_env="DF_WRONG_KEY", timeout=10)
    pool = EndpointPool([wrong, _backend(open_srv, api_key)])
    results = run_requests(_requests(60), pool, None, policy=_policy(concurrency=8, adaptive=True),
                           progress=False)
    assert all(r.ok for r in results)
    assert open_srv.log.completed.total() == 60 and locked.log.completed.total() == 0
    assert pool.endpoints[0].dead and locked.log.statuses["401"] <= 4  # out after its first refusals
    err = capsys.readouterr().err
    assert "refused the request" in err and "sk-not-the-right-one" not in err


def test_the_progress_line_shows_the_current_window(loopback, api_key):
    from dataforge.llm import LLMSession

    srv = loopback(latency=0.01)
    session = LLMSession(_backend(srv, api_key), None, policy=_policy(concurrency=64, adaptive=True),
                         progress=False)
    session.run(_requests(40))

    class Bar:
        def update(self, description):
            self.text = description

    bar = Bar()
    session._show(bar, "qa", force=True)
    limit = session.backend.endpoints[0].windows["m"].limit
    session.close()
    assert limit > 4 and bar.text.startswith("qa · ") and bar.text.endswith(f" · c={limit}")


def test_a_fixed_window_over_two_servers_shows_the_total_not_one_per_server(loopback, api_key):
    a, b = loopback(), loopback()
    pool = EndpointPool([_backend(a, api_key), _backend(b, api_key)])
    pool.use_policy(_policy(concurrency=16))
    # the runner keeps 16 in flight in all (a trial showed 'c=16+16' with 8 on each server)
    assert pool.window_text() == "c=16"
    pool.endpoints[1].dead = True
    assert pool.window_text() == "c=16 (1 of 2 servers up)"
    pool.use_policy(_policy(concurrency="auto"))
    pool.endpoints[1].dead = False
    assert pool.window_text() == "c=4+4"  # auto: one window per server, both at the start
