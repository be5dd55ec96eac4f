"""sample_data/ is data only, and its generator (tools/sample_data/) still writes exactly those files."""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
GENERATOR = ROOT / "tools" / "sample_data" / "make_sample_data.py"
# Written by other tools (dataforge.tiny, tests/translate/make_example.py), not by this generator.
NOT_GENERATED = {"reverse_words", "translated_example.jsonl"}


def test_sample_data_holds_no_code():
    assert sorted(p.name for p in SAMPLE.rglob("*.py")) == []


def test_generator_reproduces_the_committed_files_byte_for_byte(tmp_path):
    made_with = re.search(r"generated with Python (\S+) ", (SAMPLE / "README.md").read_text()).group(1)
    if made_with != platform.python_version():
        pytest.skip(f"the derived rows come from Python {made_with}'s docstrings; this is {platform.python_version()}")
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True, capture_output=True)
    committed = sorted(p.name for p in SAMPLE.iterdir() if p.name not in NOT_GENERATED)
    assert sorted(p.name for p in tmp_path.iterdir()) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
