"""`dataforge probe`: nested subsets trained with the train library, evaluated, and a fitted trend."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from eval_helpers import write_jsonl

from dataforge.cli.main import cli
from dataforge.errors import ConfigError
from dataforge.eval.probe import fit_log2, parse_fractions, subset_sizes, verdict


def test_fit_is_the_least_squares_slope_per_doubling():
    fit = fit_log2([(100, 0.30), (200, 0.35), (400, 0.40), (800, 0.45)])
    assert fit["slope"] == pytest.approx(0.05) and fit["r2"] == pytest.approx(1.0)
    assert fit["intercept"] == pytest.approx(0.30 - 0.05 * math.log2(100))
    # hand-computed: x = 1, 2, 3; y = 1, 3, 2 -> slope 0.5, intercept 1, R² = 0.25
    fit = fit_log2([(2, 1.0), (4, 3.0), (8, 2.0)])
    assert (fit["slope"], fit["intercept"], fit["r2"]) == pytest.approx((0.5, 1.0, 0.25))
    assert fit["slope_stderr"] == pytest.approx(math.sqrt(1.5 / 1 / 2))


def test_the_verdict_reads_the_gain_in_the_metrics_better_direction():
    falling = [(100, 2.0), (200, 1.9), (400, 1.8)]
    gain, text = verdict("loss", falling, fit_log2(falling))
    assert gain == pytest.approx(0.1) and text.startswith("More data is likely to help")
    assert "800 examples expect about 1.7" in text
    flat = [(100, 0.500), (200, 0.503), (400, 0.506)]
    gain, text = verdict("rouge", flat, fit_log2(flat))
    assert 0 < gain < 0.01 and text.startswith("More of the same data is unlikely to help much")
    worse = [(100, 0.5), (200, 0.4)]
    gain, text = verdict("exact", worse, fit_log2(worse))
    assert gain < 0 and "did not improve" in text and "dataforge report" in text


def test_fractions_and_sizes_are_checked():
    assert parse_fractions("1.0, 0.25,0.5") == [0.25, 0.5, 1.0]
    assert subset_sizes(10, [0.25, 0.5, 1.0]) == [3, 5, 10]
    for bad, match in (("0.5", "at least two"), ("0,1", r"in \(0, 1\]"), ("a,b", "not a list"), ("0.5,1.5", "in")):
        with pytest.raises(ConfigError, match=match):
            parse_fractions(bad)
    with pytest.raises(ConfigError, match="same size"):
        subset_sizes(3, [0.1, 0.2, 1.0])


def test_probe_trains_nested_subsets_and_fits_a_trend(tiny_model_dir, tmp_path):
    rows = [{"id": f"r{i}", "instruction": f"What is {i} plus {i}?", "output": str(2 * i)} for i in range(8)]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    held = write_jsonl(tmp_path / "eval.jsonl", rows[:3])
    out = tmp_path / "probe"
    args = ["-q", "probe", "--fractions", "0.25,0.5,1.0", "--backend", "lora", "--model", tiny_model_dir,
            "--data", train, "--eval", held, "-o", out, "--set", "max_steps=2", "--set", "batch_size=2",
            "--set", "r=4", "--set", "learning_rate=0.01"]
    res = CliRunner().invoke(cli, [str(a) for a in args], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    ids = {}
    for n in (2, 4, 8):
        ids[n] = [json.loads(line)["id"] for line in (out / "subsets" / f"n{n}.jsonl").read_text().splitlines()]
        assert len(ids[n]) == n
    assert ids[2] == ids[4][:2] and ids[4] == ids[8][:4]  # nested: each subset extends the smaller one
    assert sorted(ids[8]) == sorted(r["id"] for r in rows)
    data = json.loads((out / "probe.json").read_text())
    assert [r["n"] for r in data["runs"]] == [2, 4, 8]
    for r in data["runs"]:  # each subset was really trained by the train library on that subset
        record = json.loads((out / "runs" / f"n{r['n']}" / "dataforge_train.json").read_text())
        assert record["backend"] == "lora" and record["data"]["counts"]["train"] == r["n"]
        assert record["result"]["global_step"] == 2
    points = [(r["n"], r["scores"]["loss"]) for r in data["runs"]]
    assert data["fit"]["slope"] == pytest.approx(fit_log2(points)["slope"])
    assert data["fit"]["gain_per_doubling"] == pytest.approx(-data["fit"]["slope"])
    assert data["base_scores"]["loss"] > 0 and data["verdict"] in res.output
    assert "gain per doubling of the data (eval loss)" in res.output
    html = (out / "probe.html").read_text()
    assert "eval loss vs training examples" in html and "Plotly" in html
    evaluated = json.loads((out / "eval" / "eval.json").read_text())
    assert [v["name"] for v in evaluated["variants"]] == ["base", "n2", "n4", "n8"]  # one table, one base

    weights = out / "runs" / "n8" / "adapter_model.safetensors"
    stamp = weights.stat().st_mtime_ns
    again = CliRunner().invoke(cli, [str(a) for a in args[:1] + ["probe"] + args[2:]], env={"COLUMNS": "200"})
    assert again.exit_code == 0, again.output
    assert again.output.count("already trained, reused") == 3 and weights.stat().st_mtime_ns == stamp


def test_probe_refuses_a_scoring_backend_and_bad_fractions_fast(tiny_model_dir, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "q", "output": "a"}])
    base = ["-q", "probe", "--model", tiny_model_dir, "--data", data, "--eval", data, "-o", tmp_path / "p"]
    res = CliRunner().invoke(cli, [str(a) for a in base + ["--backend", "reward"]])
    assert res.exit_code == 1 and "scoring head" in res.output and "hint:" in res.output
    res = CliRunner().invoke(cli, [str(a) for a in base + ["--fractions", "0.5"]])
    assert res.exit_code == 1 and "at least two sizes" in res.output
    res = CliRunner().invoke(cli, [str(a) for a in base + ["--set", "rank=4"]])
    assert res.exit_code == 1 and "unknown option 'rank'" in res.output
