"""Fixtures for the I/O tests."""

from __future__ import annotations

import pytest

from dataforge.progress import set_quiet


@pytest.fixture(autouse=True)
def _quiet():
    set_quiet(True)
    yield
    set_quiet(False)
