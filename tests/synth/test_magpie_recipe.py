"""synth magpie as a recipe stage and a library call: no `data`, the same rows as the CLI."""

from __future__ import annotations

import pytest
from synth_helpers import read_jsonl
from test_magpie import LLAMA3_PRE_QUERY, Model, instruction_for

from dataforge.errors import ConfigError
from dataforge.recipes import load_recipe, run_recipe
from dataforge.synth.magpie import _seed
from dataforge.synth.run import run_method


def test_a_recipe_stage_runs_magpie_without_data(serve, tmp_path):
    model = Model()
    srv = serve(model)
    recipe = tmp_path / "magpie.yaml"
    recipe.write_text(f"""name: magpie
workdir: {tmp_path / 'work'}
stages:
  synth:
    method: magpie
    template: llama3
    model: fake
    base_url: {srv.url}
    n: 3
    stop: ["\\nUser:"]
""", encoding="utf-8")

    results = run_recipe(load_recipe(recipe), echo=lambda _line: None)

    assert [r.name for r in results] == ["synth"]
    rows = read_jsonl(tmp_path / "work" / "synth.jsonl")
    assert [r["instruction"] for r in rows] == [instruction_for(_seed(0, i)) for i in range(3)]
    assert all(r["meta"]["method"] == "magpie" and r["meta"]["template"] == "llama3" for r in rows)
    assert set(model.prompts) == {LLAMA3_PRE_QUERY}
    assert model.stops[0][-1] == "\nUser:"


def test_run_method_says_which_methods_take_data(tmp_path):
    with pytest.raises(ConfigError, match="synth magpie reads no data"):
        run_method("magpie", "seeds.jsonl", tmp_path / "o.jsonl", template="llama3", model="m")
    with pytest.raises(ConfigError, match="synth qa needs `data`"):
        run_method("qa", None, tmp_path / "o.jsonl", model="m")
    assert not (tmp_path / "o.jsonl").exists()
