"""Fixtures for the hosted OpenAI backend: a loopback fine-tuning server, data with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataforge_openai_finetune.loopback import FineTuneServer, JobScript
from oft_helpers import CANARY, sums, write_jsonl

from dataforge.progress import set_quiet


@pytest.fixture(autouse=True)
def _quiet():
    set_quiet(True)
    yield
    set_quiet(False)


@pytest.fixture
def server(monkeypatch, start_server):
    """A started FineTuneServer factory; the key and base URL come from the environment, as for a user."""
    def start(script: JobScript | None = None, **kwargs) -> FineTuneServer:
        srv = start_server(FineTuneServer, script or JobScript(), api_key=CANARY, **kwargs)
        monkeypatch.setenv("OPENAI_API_KEY", CANARY)
        monkeypatch.setenv("OPENAI_BASE_URL", srv.url)
        return srv

    return start


@pytest.fixture
def sft_file(tmp_path) -> Path:
    """12 good rows and one with an empty answer (OpenAI would refuse it: it must be rejected, not sent)."""
    rows = sums(12) + [{"instruction": "Say nothing.", "context": "", "response": "  ", "category": "x"}]
    return write_jsonl(tmp_path / "sums.jsonl", rows)


@pytest.fixture
def pref_file(tmp_path) -> Path:
    rows = [{"prompt": f"Greet visitor number {i}.", "chosen": f"Welcome, visitor {i}!", "rejected": "Go away."}
            for i in range(12)]
    return write_jsonl(tmp_path / "prefs.jsonl", rows)
