"""Shared fixtures: tiny local models built once per test session, servers on loopback only.

    def test_x(loopback):                       # a scripted chat-completions server (dataforge.llm.loopback)
        srv = loopback(reply=lambda req: "hi", latency=0.01)
    def test_y(start_server):                   # any server class with start()/stop() (FineTuneServer, ...)
        srv = start_server(FineTuneServer, JobScript(), api_key=KEY)

Every server a test starts through these is stopped after the test, also when it fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"

_FALLBACK_TEXT = [
    "The quick brown fox jumps over the lazy dog.",
    "Write a short poem about the sea and the wind.",
    "def add(a, b):\n    return a + b",
    "Paris is the capital of France. Berlin is the capital of Germany.",
    "¿Cuál es la capital de España? La capital de España es Madrid.",
    "Quelle est la capitale de la France ? C'est Paris.",
    "Was ist die Hauptstadt von Deutschland? Berlin.",
    "日本の首都は東京です。中国の首都は北京です。",
]


def tiny_texts() -> list[str]:
    from dataforge.tiny import sample_texts

    texts = sample_texts(SAMPLE) if SAMPLE.exists() else []
    return texts if len(texts) > 200 else texts + [f"{t} ({i})" for i in range(300) for t in _FALLBACK_TEXT]


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory) -> Path:
    """An HF tokenizer folder (SentencePiece BPE, ChatML chat template, BOS added, pad != eos)."""
    from dataforge.tiny import build_tiny_tokenizer

    out = tmp_path_factory.mktemp("tiny_tokenizer")
    build_tiny_tokenizer(out, tiny_texts())
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer_dir) -> Path:
    """A 2-layer random-weight Llama (hidden 64) with the tiny tokenizer, in one folder."""
    from dataforge.tiny import build_tiny_model

    out = tmp_path_factory.mktemp("tiny_model")
    build_tiny_model(out, tokenizer_dir=tiny_tokenizer_dir)
    return out


@pytest.fixture
def start_server():
    """start_server(ServerClass, *args, **kwargs) -> ServerClass(*args, **kwargs).start(), stopped after the test."""
    started = []

    def start(server_class, *args, **kwargs):
        srv = server_class(*args, **kwargs).start()
        started.append(srv)
        return srv

    yield start
    for srv in reversed(started):
        srv.stop()


@pytest.fixture
def loopback(start_server):
    """loopback(reply=None, **kwargs) -> a started LoopbackServer on 127.0.0.1 (see tests/README.md)."""
    from dataforge.llm.loopback import LoopbackServer

    return lambda reply=None, **kwargs: start_server(LoopbackServer, reply, **kwargs)
