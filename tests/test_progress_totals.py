"""Progress bars that count rows read show a total when the files tell it cheaply, not `N/?`."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys

import polars as pl
import pytest

from dataforge.io import read_dataset
from dataforge.progress import progress_bar, set_quiet

ROWS = [{"instruction": f"Question {i}? " + "more words " * (i % 7), "output": f"Answer {i}."} for i in range(3000)]


@pytest.fixture(autouse=True)
def _bars_on():
    """Bars must be drawn here, whatever quiet mode an earlier test in this process left behind."""
    set_quiet(False)
    yield


@pytest.fixture()
def files(tmp_path):
    out = {"jsonl": tmp_path / "a.jsonl", "jsonl2": tmp_path / "b.jsonl", "json": tmp_path / "a.json",
           "parquet": tmp_path / "a.parquet", "gz": tmp_path / "a.jsonl.gz"}
    lines = "".join(json.dumps(r) + "\n" for r in ROWS)
    out["jsonl"].write_text(lines)
    out["jsonl2"].write_text(lines)
    out["json"].write_text(json.dumps(ROWS))
    pl.DataFrame(ROWS).write_parquet(out["parquet"])
    # gzip reads ahead 128 KB of compressed data: random text keeps the compressed file well above that
    noisy = "".join(json.dumps({"instruction": f"Question {i}?", "output": random.Random(i).randbytes(150).hex()})
                    + "\n" for i in range(3000))
    out["gz"].write_bytes(gzip.compress(noisy.encode()))
    return out


def _read(paths, at: int):
    """Read with a bar; (total seen after `at` rows, total at the end)."""
    with progress_bar("read") as bar:
        middle = None
        for i, _record in enumerate(read_dataset(paths, progress=bar)):
            if i == at:
                middle = bar.total
        return middle, bar.total


@pytest.mark.parametrize("kind", ["json", "parquet"])
def test_json_arrays_and_parquet_give_the_exact_total(files, kind):
    middle, end = _read(str(files[kind]), 1500)
    assert middle == (3000, False) and end == (3000, False)


@pytest.mark.parametrize("kind", ["jsonl", "gz"])
def test_json_lines_give_an_estimate_from_the_bytes_read(files, kind):
    (total, estimated), end = _read(str(files[kind]), 1500)
    assert estimated and 2700 <= total <= 3300
    assert end == (3000, False)  # read to the end: the estimate became the count


def test_several_files_count_toward_one_total(files):
    (total, estimated), end = _read([str(files["jsonl"]), str(files["jsonl2"])], 1500)
    assert estimated and 5400 <= total <= 6600
    assert end == (6000, False)


def test_a_bar_with_its_own_total_keeps_it(files):
    with progress_bar("read", total=7) as bar:
        list(read_dataset(str(files["parquet"]), progress=bar))
        assert bar.total == (7, False)


def test_the_command_line_shows_the_total(files):
    done = subprocess.run([sys.executable, "-m", "dataforge", "inspect", str(files["parquet"])],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "3,000/3,000" in done.stderr and "/?" not in done.stderr
