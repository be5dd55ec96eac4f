"""Fixtures for the training tests: small data files with known answers, quiet progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_helpers import FACTS, write_jsonl

from dataforge.progress import set_quiet


@pytest.fixture(autouse=True)
def _quiet():
    set_quiet(True)
    yield
    set_quiet(False)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models train faster on one intra-op thread, and far faster on a busy shared machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("train_data")


@pytest.fixture(scope="session")
def sft_data(data_dir) -> Path:
    """Dolly-shaped instruction rows (the four facts, twice)."""
    rows = [{"instruction": q, "context": "", "response": a, "category": "qa"} for q, a in FACTS] * 2
    # repeated rows without ids get distinct content ids from the reader, so all 8 are kept
    return write_jsonl(data_dir / "facts.jsonl", rows)


@pytest.fixture(scope="session")
def pref_data(data_dir) -> Path:
    """Separable preference pairs: the chosen answer is always polite, the rejected one never."""
    rows = [{"instruction": f"Reply to message number {i}.", "chosen": "Thank you, that is great and helpful.",
             "rejected": "no no no no no"} for i in range(40)]
    return write_jsonl(data_dir / "pairs.jsonl", rows)
