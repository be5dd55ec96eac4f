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


def _jsonl(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def _alpaca(i: int) -> str:
    """Row i of `_rows` rendered by the alpaca template as plain text (checked by hand once)."""
    return ("Below is an instruction that describes a task. Write a response that appropriately completes the "
            f"request.\n\n### Instruction:\nQuestion number {i} about topic {i * 7}?\n\n### Response:\n"
            f"Answer {i}: the topic is {i * 7}.</s>")


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


def test_stages_chain_outputs_into_the_next_stage(tmp_path, data):
    work = tmp_path / "work"
    path = _recipe(tmp_path, f"""
workdir: {work}
stages:
  dedup:
    data: {data}
  report:
    data: ${{dedup.output}}
    json_out: {work / 'report.json'}
  format:
    data: ${{dedup.output}}
    template: alpaca
    style: text
    lang: en
""")
    results = run_recipe(load_recipe(path), echo=lambda _: None)
    assert [(r.name, r.status) for r in results] == [("dedup", "ran"), ("report", "ran"), ("format", "ran")]
    assert results[0].outputs == {"output": str(work / "dedup.jsonl")}
    kept = _jsonl(work / "dedup.jsonl")
    assert [r["instruction"] for r in kept] == [f"Question number {i} about topic {i * 7}?" for i in range(20)]
    rejects = _jsonl(work / "dedup.jsonl.rejects.jsonl")
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (21 + i, f"exact duplicate of '{kept[i]['id']}'") for i in range(3)]
    report = json.loads((work / "report.json").read_text())
    assert report["input"]["data"] == [str(work / "dedup.jsonl")]  # the deduplicated file, not the raw one
    assert report["rows"] == {"read": 20, "usable": 20, "rejected": 0}
    assert report["duplicates"]["dedup"]["exact"] == 0
    assert (work / "report.html").read_text().startswith("<!DOCTYPE html>")
    formatted = _jsonl(work / "format.jsonl")
    assert [r["text"] for r in formatted] == [_alpaca(i) for i in range(20)]
    assert [r["id"] for r in formatted] == [r["id"] for r in kept]


def test_rerun_skips_unchanged_stages_and_reruns_changed(tmp_path, data):
    path = _two_stage(tmp_path, data)
    first = run_recipe(load_recipe(path), echo=lambda _: None)
    assert [r.status for r in first] == ["ran", "ran"]
    deduped = Path(first[0].outputs["output"])
    assert len(_jsonl(deduped)) == 20
    formatted = Path(first[1].outputs["output"])
    assert [r["text"] for r in _jsonl(formatted)] == [_alpaca(i) for i in range(20)]

    second = run_recipe(load_recipe(path), echo=lambda _: None)
    assert [r.status for r in second] == ["cached", "cached"]

    data.write_text(_rows(25), encoding="utf-8")  # new input content: both stages rerun
    third = run_recipe(load_recipe(path), echo=lambda _: None)
    assert [r.status for r in third] == ["ran", "ran"]
    assert len(_jsonl(deduped)) == 25
    assert [r["text"] for r in _jsonl(formatted)] == [_alpaca(i) for i in range(25)]

    before = deduped.stat().st_mtime_ns
    fourth = run_recipe(load_recipe(path, ["format.template=chatml"]), echo=lambda _: None)
    assert [r.status for r in fourth] == ["cached", "ran"]
    assert deduped.stat().st_mtime_ns == before
    texts = [r["text"] for r in _jsonl(formatted)]
    assert len(texts) == 25 and texts[3].endswith(
        "<|im_start|>user\nQuestion number 3 about topic 21?<|im_end|>\n"
        "<|im_start|>assistant\nAnswer 3: the topic is 21.<|im_end|>")


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
    assert len(_jsonl(deduped)) == 20
    assert not (tmp_path / "work" / "format.jsonl").exists()
    mtime = os.stat(deduped).st_mtime_ns

    results = run_recipe(load_recipe(path, ["format.template=alpaca", "format.style=text"]), echo=lambda _: None)
    assert [r.status for r in results] == ["cached", "ran"]
    assert os.stat(deduped).st_mtime_ns == mtime
    assert [r["text"] for r in _jsonl(results[1].outputs["output"])] == [_alpaca(i) for i in range(20)]


def test_only_and_from(tmp_path, data):
    path = _two_stage(tmp_path, data)
    first = run_recipe(load_recipe(path), echo=lambda _: None)
    deduped, formatted = (Path(r.outputs["output"]) for r in first)
    data.write_text(_rows(5), encoding="utf-8")  # dedup would change, but --from format does not run it
    before = deduped.read_bytes()
    again = run_recipe(load_recipe(path), from_stage="format", echo=lambda _: None)
    assert [r.status for r in again] == ["skipped", "ran"]
    assert deduped.read_bytes() == before
    assert [r["text"] for r in _jsonl(formatted)] == [_alpaca(i) for i in range(20)]
    only = run_recipe(load_recipe(path), only="dedup", echo=lambda _: None)
    assert [r.status for r in only] == ["ran", "skipped"]
    assert len(_jsonl(deduped)) == 5 and len(_jsonl(formatted)) == 20
    with pytest.raises(ConfigError, match=r"--only nope: no such stage in .*recipe\.yaml") as err:
        run_recipe(load_recipe(path), only="nope", echo=lambda _: None)
    assert "expected one of: dedup, format" in err.value.hint


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "recipes").glob("*.yaml")))
def test_shipped_recipes_validate(name):
    import yaml

    recipe = load_recipe(ROOT / "recipes" / name)
    declared = yaml.safe_load((ROOT / "recipes" / name).read_text(encoding="utf-8"))["stages"]
    assert [s.name for s in recipe.stages] == list(declared)  # every stage loaded, in the file's order
