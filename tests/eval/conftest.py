"""Fixtures for the eval tests: adapters that memorised known answers (a few seconds on CPU), servers."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_helpers import FRENCH, one_thread, qa_rows, train_lora, write_jsonl


@pytest.fixture(scope="session")
def adapters(tiny_model_dir, tmp_path_factory) -> dict:
    """{"all": memorised all four answers, "half": trained on the first two only}."""
    root = tmp_path_factory.mktemp("adapters")
    rows = qa_rows()
    return {"all": train_lora(tiny_model_dir, rows, root / "mem_all", tmp=root),
            "half": train_lora(tiny_model_dir, rows[:2], root / "mem_half", tmp=root, seed=1)}


@pytest.fixture
def eval_set(tmp_path) -> Path:
    """The four memorised questions plus two French rows (so the set is multilingual)."""
    return write_jsonl(tmp_path / "eval.jsonl", qa_rows() + qa_rows(FRENCH, "fr"))


@pytest.fixture(autouse=True)
def _quiet():
    from dataforge.progress import set_quiet

    set_quiet(True)
    yield
    set_quiet(False)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One torch thread while these tests run (restored after each module): see eval_helpers.one_thread."""
    with one_thread():
        yield
