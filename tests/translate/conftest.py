"""Fixtures for translate: a scripted loopback chat server and tiny local seq2seq models."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scripted import Translator  # noqa: E402

CANARY_KEY = "sk-canary-7f3a9c1e5b2d4f60"


@pytest.fixture
def serve(monkeypatch):
    """serve(translator) -> a started LoopbackServer (stopped after the test); the API key is a canary."""
    from dataforge.llm.loopback import LoopbackServer

    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    servers = []

    def start(translator=None, **kwargs):
        srv = LoopbackServer(translator or Translator(), api_key=CANARY_KEY, **kwargs).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    if not Path(path).exists():
        return []
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def tiny_marian(tmp_path_factory) -> Path:
    """A random-weight multi-target Marian (>>es<< and >>fr<< tokens) with a locally trained tokenizer."""
    from tinymt import build_tiny_marian

    return build_tiny_marian(tmp_path_factory.mktemp("tiny_marian"), targets=["es", "fr"])
