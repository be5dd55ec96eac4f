"""Fixtures for the LLM layer: a canary API key. `loopback` (a scripted server) is in tests/conftest.py.

    def test_x(loopback, api_key):
        srv = loopback(reply=lambda req: "hi", latency=0.01, faults={"429": 0.1})
        backend = OpenAIBackend("m", base_url=srv.url, api_key_env="DF_TEST_KEY")
"""

from __future__ import annotations

import pytest

CANARY_KEY = "sk-canary-llm-0d9e8f7a6b5c4d3e"


@pytest.fixture
def api_key(monkeypatch):
    """A canary API key in $DF_TEST_KEY; tests assert it never shows up anywhere."""
    monkeypatch.setenv("DF_TEST_KEY", CANARY_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return CANARY_KEY


@pytest.fixture(autouse=True)
def _quiet():
    from dataforge.progress import set_quiet

    set_quiet(True)
    yield
    set_quiet(False)
