"""Recipes: validation with suggestions, secret refusal, overrides, stage caching and failure recovery."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dataforge.errors import ConfigError, DataforgeError
from dataforge.recipes import load_recipe, run_recipe

ROOT = Path(__file__).resolve().parent.parent


def _rows(n: int, start: int = 0) -> str:
    return "".join(json.dumps({"instruction": f"Question number {i} about topic {i * 7}?",
                               "response": f"Answer {i}: the topic is {i * 7}.", "context": ""}) + "\n"
                   for i in range(start, start + n))


def _recipe(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text(_rows(20) + _rows(3), encoding="utf-8")  # three exact duplicates
    return path


def _two_stage(tmp_path: Path, data: Path) -> Path:
    return _recipe(tmp_path, f"""
name: t
workdir: {tmp_path / 'work'}
stages:
  dedup:
    data: {data}
  format:
    data: ${{dedup.output}}
    template: alpaca
    style: text
    lang: en
""")


def test_typo_in_option_is_refused_with_suggestion(tmp_path, data):
    path = _recipe(tmp_path, f"stages:\n  dedup:\n    data: {data}\n    treshold: 0.5\n")
    with pytest.raises(ConfigError) as err:
        load_recipe(path)
    assert "stages.dedup.treshold" in err.value.message and "threshold" in err.value.hint


def test_unknown_stage_and_top_level_key(tmp_path, data):
    with pytest.raises(ConfigError) as err:
        load_recipe(_recipe(tmp_path, f"stages:\n  dedupe:\n    data: {data}\n"))
    assert "unknown stage 'dedupe'" in err.value.message and "'dedup'" in err.value.hint
    with pytest.raises(ConfigError) as err:
        load_recipe(_recipe(tmp_path, f"stagse: {{}}\nstages:\n  dedup:\n    data: {data}\n"))
    assert "stagse" in err.value.message and "stages" in err.value.hint


def test_api_key_in_recipe_is_refused_and_not_echoed(tmp_path, data):
    path = _recipe(tmp_path, f"stages:\n  translate:\n    data: {data}\n    to: es\n    api_key: sk-canary-123\n")
    with pytest.raises(ConfigError) as err:
        load_recipe(path)
    assert "api_key" in err.value.message and "secret" in err.value.message
    assert "sk-canary-123" not in str(err.value)


def test_set_overrides_and_unknown_reference(tmp_path, data):
    recipe = load_recipe(_two_stage(tmp_path, data), ["format.template=dolly"])
    assert recipe.stages[1].raw["template"] == "dolly"
    bad = _recipe(tmp_path, f"stages:\n  format:\n    data: ${{dedupp.output}}\n  dedup:\n    data: {data}\n")
    with pytest.raises(ConfigError) as err:
        load_recipe(bad)
    assert "dedupp" in err.value.message


def test_rerun_skips_unchanged_stages_and_reruns_changed(tmp_path, data):
    path = _two_stage(tmp_path, data)
    first = run_recipe(load_recipe(path), echo=lambda _: None)
    assert [r.status for r in first] == ["ran", "ran"]
    deduped = Path(first[0].outputs["output"])
    assert sum(1 for _ in deduped.open()) == 20
    formatted = Path(first[1].outputs["output"])
    assert formatted.exists()

    second = run_recipe(load_recipe(path), echo=lambda _: None)
    assert [r.status for r in second] == ["cached", "cached"]

    data.write_text(_rows(25), encoding="utf-8")  # new input content: both stages rerun
    third = run_recipe(load_recipe(path), echo=lambda _: None)
    assert [r.status for r in third] == ["ran", "ran"]
    assert sum(1 for _ in deduped.open()) == 25

    fourth = run_recipe(load_recipe(path, ["format.template=dolly"]), echo=lambda _: None)
    assert [r.status for r in fourth] == ["cached", "ran"]


def test_failed_stage_keeps_earlier_outputs_and_rerun_continues(tmp_path, data):
    path = _recipe(tmp_path, f"""
workdir: {tmp_path / 'work'}
stages:
  dedup:
    data: {data}
  format:
    data: ${{dedup.output}}
    template: no-such-template
""")
    with pytest.raises(DataforgeError) as err:
        run_recipe(load_recipe(path), echo=lambda _: None)
    assert "stage 'format' failed" in err.value.message and "--from format" in err.value.hint
    deduped = tmp_path / "work" / "dedup.jsonl"
    assert deduped.exists()
    mtime = os.stat(deduped).st_mtime_ns

    results = run_recipe(load_recipe(path, ["format.template=alpaca"]), echo=lambda _: None)
    assert [r.status for r in results] == ["cached", "ran"]
    assert os.stat(deduped).st_mtime_ns == mtime


def test_only_and_from(tmp_path, data):
    path = _two_stage(tmp_path, data)
    run_recipe(load_recipe(path), echo=lambda _: None)
    again = run_recipe(load_recipe(path), from_stage="format", echo=lambda _: None)
    assert [r.status for r in again] == ["skipped", "ran"]
    with pytest.raises(ConfigError):
        run_recipe(load_recipe(path), only="nope", echo=lambda _: None)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "recipes").glob("*.yaml")))
def test_shipped_recipes_validate(name):
    recipe = load_recipe(ROOT / "recipes" / name)
    assert recipe.stages
