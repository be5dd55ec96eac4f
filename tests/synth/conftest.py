"""Fixtures for synth: the loopback server playing a scripted model, and a CLI runner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_model import fake_model  # noqa: E402
from synth_helpers import CANARY_KEY  # noqa: E402,F401


@pytest.fixture
def serve(monkeypatch, loopback):
    """serve(reply=fake_model, **kw) -> a started LoopbackServer requiring the canary key ($OPENAI_API_KEY)."""
    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return lambda reply=fake_model, **kwargs: loopback(reply, api_key=CANARY_KEY, **kwargs)


@pytest.fixture
def synth():
    """synth(srv, "qa", *args) -> click Result of `dataforge -q synth qa ... --base-url srv.url -m fake`."""
    from click.testing import CliRunner

    from dataforge.cli.main import cli

    def run(srv, method, *args):
        base = ["--base-url", srv.url, "-m", "fake"] if srv is not None else []
        return CliRunner().invoke(cli, ["-q", "synth", method, *map(str, args), *base], catch_exceptions=False)

    return run
