"""Options are typed and checked before anything heavy loads; wrong combinations say what to change."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dataforge.errors import ConfigError
from dataforge.train.options import LoraOptions, load_options
from dataforge.train.registry import get_backend
from dataforge.train.run import resolve


def test_yaml_then_set_overrides(tmp_path, tiny_model_dir):
    cfg = tmp_path / "train.yaml"
    cfg.write_text("backend: lora\nmodel: %s\ndata: d.jsonl\noutput: out\nr: 8\nalpha: 32\nlearning_rate: 1.0e-4\n"
                   % tiny_model_dir)
    res = resolve(None, None, None, None, config=cfg, sets=["alpha=4", "dropout=0.0"])
    assert res.backend_name == "lora" and str(res.output) == "out" and res.data == ["d.jsonl"]
    o = res.options
    assert (o.r, o.alpha, o.dropout, o.learning_rate) == (8, 4, 0.0, 1e-4)  # --set wins over the file
    assert o.scale == 0.5
    # a flag wins over the file's job keys too
    other = resolve("qlora", None, None, "other", config=cfg)
    assert other.backend_name == "qlora" and str(other.output) == "other" and other.options.r == 8


@pytest.mark.parametrize("backend, sets, message, hint", [
    ("lora", ["r=0"], "option 'r'", "LoRA rank"),
    ("lora", ["rank=8"], "unknown option 'rank'", "did you mean 'r'?"),
    ("lora", ["learning_rate=2"], "option 'learning_rate'", None),
    ("lora", ["eval_steps=5"], "eval_steps needs held-out rows", None),
    ("dpo", ["adapter=none", "r=4"], "r is a LoRA option but adapter=none", None),
    ("dpo", ["packing=true"], "packing does not apply to preference pairs", None),
    ("dpo", ["loss_type=ipo", "label_smoothing=0.1"], "label_smoothing applies", None),
    ("qlora", ["dtype=float16", "compute_dtype=bfloat16"], "conflicts with compute_dtype", None),
    ("freeze", ["layers=3"], "has only 2 transformer layers", None),
    ("lorra", [], "unknown backend 'lorra'", "did you mean 'lora'?"),
])
def test_wrong_options_fail_with_what_to_change(tiny_model_dir, backend, sets, message, hint):
    with pytest.raises(ConfigError) as err:
        resolve(backend, tiny_model_dir, "unused.jsonl", "out", sets=sets)
    assert message in err.value.message
    if hint:
        assert hint in err.value.hint


def test_bad_yaml_names_the_line(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("r: 8\nalpha: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: not valid YAML"):
        load_options(LoraOptions, cfg)


def test_missing_required_job_keys_are_named(tiny_model_dir):
    with pytest.raises(ConfigError, match="--data is required"):
        resolve("lora", tiny_model_dir, None, "out")


def test_wrong_combination_fails_without_importing_torch(tmp_path, tiny_model_dir):
    """The CLI rejects bad options before torch/transformers are imported (so it answers in well under 1 s)."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from dataforge.cli.main import cli\n"
        f"r = CliRunner().invoke(cli, ['train', '-b', 'dpo', '-m', {str(tiny_model_dir)!r}, '-d', 'x.jsonl',"
        " '-o', 'o', '--set', 'adapter=none', '--set', 'r=8'])\n"
        "import json\n"
        "print(json.dumps({'code': r.exit_code, 'out': r.output,"
        " 'heavy': sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules)}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["code"] == 1
    assert "error: options for backend 'dpo'" in result["out"] and "hint:" in result["out"]
    assert result["heavy"] == []


def test_backend_options_are_listed(tiny_model_dir):
    from click.testing import CliRunner

    from dataforge.cli.main import cli

    r = CliRunner().invoke(cli, ["train", "-b", "qlora", "--help-options"], terminal_width=200)
    assert r.exit_code == 0, r.output
    for name in ("quant_type", "double_quant", "compute_dtype", "alpha", "target_modules"):
        assert name in r.output
    assert get_backend("qlora").options_model().plan().weight_bits == 4


def test_lora_on_the_output_head_is_refused_before_training():
    # TRL reads lm_head.weight directly, so an adapter there would silently never train.
    with pytest.raises(ConfigError) as err:
        load_options(LoraOptions, None, ["target_modules=[q_proj,lm_head]"])
    assert "lm_head" in err.value.message and "target_modules" in err.value.message
    assert load_options(LoraOptions, None, ["target_modules=[q_proj,v_proj]"]).target_modules == ["q_proj", "v_proj"]
