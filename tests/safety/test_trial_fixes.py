"""Defects a new user hit on real data: each test fails on the old behaviour and passes on the fix."""

from __future__ import annotations

import json
from pathlib import Path

from safety_helpers import run_cli, snapshot, temp_leftovers

ALPACA = [{"instruction": "Say hi", "input": "", "output": "hi"}, {"instruction": "Add 1+1", "input": "", "output": "2"}]
HF_INFO = {"builder_name": "parquet", "citation": "", "config_name": "default", "dataset_size": 10,
           "description": "", "features": {"id": {"dtype": "string", "_type": "Value"}}}


def _alpaca_input(tmp_path: Path) -> Path:
    src = tmp_path / "in" / "alpaca.json"
    src.parent.mkdir()
    src.write_text(json.dumps(ALPACA), encoding="utf-8")
    return src


def _refused_untouched(tmp_path, out_dir: Path, info_text: str, expect: str):
    src = _alpaca_input(tmp_path)
    (out_dir / "dataset_info.json").write_text(info_text, encoding="utf-8")
    before, src_before = snapshot(out_dir), snapshot(src.parent)
    r = run_cli("convert", src, "-o", out_dir / "train.json", "--to", "llamafactory-alpaca")
    assert r.code == 1, r.err
    assert expect in r.error_line
    assert snapshot(out_dir) == before  # no data file, no edit of the info file
    assert snapshot(src.parent) == src_before and temp_leftovers(tmp_path) == []


def test_convert_llamafactory_refuses_a_datasets_dataset_info(tmp_path):
    out_dir = tmp_path / "hfsave"
    out_dir.mkdir()
    _refused_untouched(tmp_path, out_dir, json.dumps(HF_INFO), "not a LLaMA-Factory dataset_info.json")


def test_convert_llamafactory_refuses_broken_info_before_writing_data(tmp_path):
    out_dir = tmp_path / "lf"
    out_dir.mkdir()
    _refused_untouched(tmp_path, out_dir, "{not json", "cannot add the entry 'train'")


def test_convert_llamafactory_refuses_taken_name_before_writing_data(tmp_path):
    out_dir = tmp_path / "lf"
    out_dir.mkdir()
    taken = {"train": {"file_name": "other.json"}}
    _refused_untouched(tmp_path, out_dir, json.dumps(taken), "its entry 'train' describes other.json")


def test_convert_llamafactory_adds_to_a_llamafactory_info(tmp_path):
    src = _alpaca_input(tmp_path)
    out_dir = tmp_path / "lf"
    out_dir.mkdir()
    (out_dir / "dataset_info.json").write_text(json.dumps({"hub": {"hf_hub_url": "a/b"}}), encoding="utf-8")
    r = run_cli("convert", src, "-o", out_dir / "train.json", "--to", "llamafactory-alpaca")
    assert r.code == 0, r.err
    info = json.loads((out_dir / "dataset_info.json").read_text())
    assert info["hub"] == {"hf_hub_url": "a/b"} and info["train"]["file_name"] == "train.json"
    assert len(json.loads((out_dir / "train.json").read_text())) == 2
