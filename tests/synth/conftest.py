"""Fixtures for synth: the loopback server playing a scripted model, and a CLI runner."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_model import fake_model  # noqa: E402

CANARY_KEY = "sk-canary-synth-5e4d3c2b1a09f8e7"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def serve(monkeypatch):
    """serve(reply=fake_model, **kw) -> a started LoopbackServer requiring the canary key ($OPENAI_API_KEY)."""
    from dataforge.llm.loopback import LoopbackServer

    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    servers = []

    def start(reply=fake_model, **kwargs):
        srv = LoopbackServer(reply, api_key=CANARY_KEY, **kwargs).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


@pytest.fixture
def synth():
    """synth(srv, "qa", *args) -> click Result of `dataforge -q synth qa ... --base-url srv.url -m fake`."""
    from click.testing import CliRunner

    from dataforge.cli.main import cli

    def run(srv, method, *args):
        base = ["--base-url", srv.url, "-m", "fake"] if srv is not None else []
        return CliRunner().invoke(cli, ["-q", "synth", method, *map(str, args), *base], catch_exceptions=False)

    return run


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


PASSAGE_WORDS = ("The committee met on Tuesday to review the harbour plan and agreed that the northern pier needs "
                 "repairs before winter storms arrive, while funding for the new lighthouse will wait until spring")


def passages(n: int) -> str:
    """n distinct paragraphs of 30+ words, separated by blank lines."""
    return "\n\n".join(f"Report {i}: {PASSAGE_WORDS} (item {i})." for i in range(n)) + "\n"
