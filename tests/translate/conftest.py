"""Fixtures for translate: a scripted loopback chat server and a tiny local seq2seq model."""

from __future__ import annotations

from pathlib import Path

import pytest
from translate_helpers import CANARY_KEY
from translate_scripted import Translator


@pytest.fixture
def serve(monkeypatch, loopback):
    """serve(translator) -> a started LoopbackServer (stopped after the test); the API key is a canary."""
    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return lambda translator=None, **kwargs: loopback(translator or Translator(), api_key=CANARY_KEY, **kwargs)


@pytest.fixture(scope="session")
def tiny_marian(tmp_path_factory) -> Path:
    """A random-weight multi-target Marian (>>es<< and >>fr<< tokens) with a locally trained tokenizer."""
    from translate_tinymt import build_tiny_marian

    return build_tiny_marian(tmp_path_factory.mktemp("tiny_marian"), targets=["es", "fr"])
