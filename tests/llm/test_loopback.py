"""The loopback server speaks the chat-completions protocol to the real openai client, faults included."""

from __future__ import annotations

import asyncio
import json
import time

import openai
import pytest

from dataforge.llm.loopback import Fault, Latency, LoopbackServer, Reply, Scripted
from dataforge.llm.types import request_key


def ask(srv, content, *, timeout=5.0, **params):
    async def go():
        client = openai.AsyncOpenAI(base_url=srv.url, api_key="k", max_retries=0, timeout=timeout)
        try:
            return await client.chat.completions.create(model="m", messages=[{"role": "user", "content": content}],
                                                        **params)
        finally:
            await client.close()

    return asyncio.run(go())


def test_replies_with_content_usage_and_logs_the_request_key(loopback):
    srv = loopback(lambda req: Reply(f"re: {req['messages'][0]['content']}", prompt_tokens=7, completion_tokens=3))
    out = ask(srv, "hello", temperature=0.5, max_tokens=20)
    assert out.choices[0].message.content == "re: hello"
    assert out.choices[0].finish_reason == "stop"
    assert (out.usage.prompt_tokens, out.usage.completion_tokens) == (7, 3)
    key = request_key("m", [{"role": "user", "content": "hello"}], {"temperature": 0.5, "max_tokens": 20})
    assert srv.log.received[key] == 1 and srv.log.completed[key] == 1


def test_reply_gets_the_attempt_number(loopback):
    srv = loopback(lambda req, attempt: Fault.server_error() if attempt == 0 else "second time")
    with pytest.raises(openai.InternalServerError):
        ask(srv, "x")
    assert ask(srv, "x").choices[0].message.content == "second time"


def test_rate_limit_carries_retry_after_headers(loopback):
    srv = loopback(lambda req: Fault.rate_limit(2.5, retry_after_ms=1500))
    with pytest.raises(openai.RateLimitError) as info:
        ask(srv, "x")
    headers = info.value.response.headers
    assert headers["retry-after"] == "2.5" and headers["retry-after-ms"] == "1500"


@pytest.mark.parametrize("fault, error, message", [
    (Fault.drop(), openai.APIConnectionError, "Connection error"),
    (Fault.malformed(), json.JSONDecodeError, "Unterminated string"),  # the client cannot parse the body
    (Fault.error(400, "bad request"), openai.BadRequestError, "bad request"),
])
def test_faults_reach_the_client_as_errors(loopback, fault, error, message):
    srv = loopback(lambda req: fault)
    with pytest.raises(error, match=message):
        ask(srv, "x")


def test_slow_reply_runs_past_the_client_timeout(loopback):
    srv = loopback(lambda req: Fault.slow(3.0))
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        ask(srv, "x", timeout=0.3)
    assert time.monotonic() - start < 2.0


def test_bad_completions_are_well_formed_200s(loopback):
    replies = {"len": Fault.length("cut o"), "empty": Fault.empty(), "filter": Fault.content_filter()}
    srv = loopback(lambda req: replies[req["messages"][0]["content"]])
    assert ask(srv, "len").choices[0].finish_reason == "length"
    assert ask(srv, "empty").choices[0].message.content == ""
    assert ask(srv, "filter").choices[0].finish_reason == "content_filter"
    assert sum(srv.log.completed.values()) == 0  # none of them is a good answer


def test_scripted_replies_follow_the_request_content_whatever_the_arrival_order(loopback):
    script = Scripted({"apple": "red", "banana": Reply("yellow", prompt_tokens=2), "cherry": Fault.length("da")})
    srv = loopback(script)

    async def go(contents):
        client = openai.AsyncOpenAI(base_url=srv.url, api_key="k", max_retries=0)
        try:
            outs = await asyncio.gather(*(client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": f"one {c}, please"}]) for c in contents))
            return [(o.choices[0].message.content, o.choices[0].finish_reason) for o in outs]
        finally:
            await client.close()

    expected = {"apple": ("red", "stop"), "banana": ("yellow", "stop"), "cherry": ("da", "length")}
    for order in (["apple", "banana", "cherry"], ["cherry", "banana", "apple"]):
        assert asyncio.run(go(order * 3)) == [expected[c] for c in order * 3]
    assert script.misses == [] and script.unused == [] and script.used["apple"] == 6


def test_scripted_refuses_requests_it_does_not_cover_instead_of_guessing(loopback):
    script = Scripted({"apple": "red", "apple pie": "sweet"})
    srv = loopback(script)
    assert ask(srv, "an apple").choices[0].message.content == "red"
    with pytest.raises(openai.BadRequestError, match="scripted: no key matches the request 'plum'"):
        ask(srv, "plum")
    with pytest.raises(openai.BadRequestError, match=r"scripted: keys \['apple', 'apple pie'\] all match"):
        ask(srv, "apple pie")
    assert script.misses == ["plum", "apple pie"] and script.unused == ["apple pie"]
    assert ask(loopback(Scripted({"x": "y"}, default="fallback")), "plum").choices[0].message.content == "fallback"


def test_a_dict_reply_is_a_script_over_every_message_including_the_system_one(loopback):
    srv = loopback({"[judge]": lambda req: f"saw {len(req['messages'])} messages"})
    with pytest.raises(openai.BadRequestError, match="no key matches"):
        ask(srv, "plain")

    async def go():
        client = openai.AsyncOpenAI(base_url=srv.url, api_key="k", max_retries=0)
        try:
            return await client.chat.completions.create(model="m", messages=[
                {"role": "system", "content": "you are a [judge]"}, {"role": "user", "content": "q"}])
        finally:
            await client.close()

    assert asyncio.run(go()).choices[0].message.content == "saw 2 messages"


def outcomes(srv, n):
    async def go():
        client = openai.AsyncOpenAI(base_url=srv.url, api_key="k", max_retries=0)
        out = []
        for i in range(n):
            try:
                await client.chat.completions.create(model="m", messages=[{"role": "user", "content": f"q{i}"}])
                out.append("ok")
            except openai.InternalServerError:
                out.append("500")
        await client.close()
        return out

    return asyncio.run(go())


def test_fault_rates_are_deterministic_per_key_and_attempt(loopback):
    first = outcomes(loopback(faults={"500": 0.5}, seed=3), 40)
    assert 8 < first.count("500") < 32
    assert outcomes(loopback(faults={"500": 0.5}, seed=3), 40) == first
    assert outcomes(loopback(faults={"500": 0.5}, seed=4), 40) != first


def test_api_key_is_checked_when_configured(loopback):
    srv = loopback(api_key="right")
    with pytest.raises(openai.AuthenticationError):
        ask(srv, "x")


def test_spawned_server_serves_concurrently_and_reports_its_log():
    with LoopbackServer.spawn(latency=Latency.constant(0.2)) as srv:
        async def many():
            client = openai.AsyncOpenAI(base_url=srv.url, api_key="k", max_retries=0)
            try:
                await asyncio.gather(*(client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": str(i)}]) for i in range(64)))
            finally:
                await client.close()

        start = time.monotonic()
        asyncio.run(many())
        elapsed = time.monotonic() - start
        log = srv.log()
    assert log["total"] == 64 and log["max_in_flight"] == 64
    assert elapsed < 5.0  # 64 requests of 0.2 s at once, not one after another (12.8 s)
