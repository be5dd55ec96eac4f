"""Fixtures for the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from quality_helpers import write_jsonl


@pytest.fixture()
def report_of(tmp_path):
    """report_of(rows_or_path, **options) -> the report dict (quietly, like -q)."""
    from dataforge.progress import set_quiet
    from dataforge.quality import build_report

    set_quiet(True)

    def run(data, name: str = "data.jsonl", **options) -> dict:
        path = data if isinstance(data, (str, Path)) else write_jsonl(tmp_path / name, data)
        return build_report(str(path), **options)

    yield run
    set_quiet(False)
