"""Shared fixtures: tiny local models built once per test session, loopback only."""

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
