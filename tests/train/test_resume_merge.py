"""Resume from the last complete checkpoint, refuse other data; merge an adapter and prove it."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from train_helpers import FACTS, metric_rows, weights, write_jsonl
from transformers import TrainerCallback

from dataforge.errors import ConfigError
from dataforge.train import merge_adapter, train

SETS = ["max_steps=6", "save_steps=2", "learning_rate=1e-2", "r=4", "batch_size=2"]


class Crash(Exception):
    pass


class CrashAt(TrainerCallback):
    """Simulates a killed run: dies right after step `step` was logged to metrics.jsonl."""

    def __init__(self, step):
        self.step = step

    def on_log(self, args, state, control, **kw):
        if state.global_step == self.step:
            raise Crash(f"killed at step {self.step}")


def test_resume_continues_from_the_last_complete_checkpoint(tiny_model_dir, sft_data, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(Crash):
        train("lora", tiny_model_dir, sft_data, out, sets=SETS, callbacks=[CrashAt(5)])
    ckpts = out / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir() if p.name.startswith("checkpoint-")) == ["checkpoint-2",
                                                                                            "checkpoint-4"]
    # a save that was cut short: files copied but no completion marker
    half = ckpts / "checkpoint-5"
    shutil.copytree(ckpts / "checkpoint-4", half)
    (half / "dataforge-checkpoint.json").unlink()
    (half / "optimizer.pt").unlink()
    assert max(r["step"] for r in metric_rows(out)) == 5  # logged after the last checkpoint, then killed

    run = train("lora", tiny_model_dir, sft_data, out, sets=SETS, resume=True)
    assert run.resumed_from.endswith("checkpoint-4") and run.global_step == 6
    assert not half.exists()  # the half-written folder was ignored and cleared away
    steps = [r["step"] for r in metric_rows(out) if "loss" in r]
    assert steps == [1, 2, 3, 4, 5, 6]  # the step count continues; nothing logged twice
    # optimizer, scheduler, RNG and data position were restored: same weights as a run never interrupted
    straight = tmp_path / "straight"
    train("lora", tiny_model_dir, sft_data, straight, sets=SETS)
    a, b = weights(out), weights(straight)
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-6), name


def test_resume_refuses_other_data_and_missing_checkpoints(tiny_model_dir, sft_data, tmp_path):
    out = tmp_path / "run"
    train("lora", tiny_model_dir, sft_data, out, sets=["max_steps=2", "save_steps=2", "r=4"])
    other = write_jsonl(tmp_path / "other.jsonl", [{"instruction": q, "output": a + "!"} for q, a in FACTS])
    with pytest.raises(ConfigError, match="the data differs") as err:
        train("lora", tiny_model_dir, other, out, sets=["max_steps=4", "r=4"], resume=True)
    assert "same data" in err.value.hint
    with pytest.raises(ConfigError, match="already holds a training run") as err:
        train("lora", tiny_model_dir, sft_data, out, sets=["r=4"])
    assert "--resume" in err.value.hint
    with pytest.raises(ConfigError, match="no checkpoints"):
        train("lora", tiny_model_dir, sft_data, tmp_path / "empty", sets=["r=4"], resume=True)


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


@pytest.mark.parametrize("backend", ["lora", "qlora"])
def test_merge_matches_base_plus_adapter(backend, tiny_model_dir, sft_data, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter = tmp_path / "adapter"
    train(backend, tiny_model_dir, sft_data, adapter, sets=["max_steps=3", "learning_rate=2e-2", "r=4",
                                                             "gradient_checkpointing=false"])
    merged = tmp_path / "merged"
    result = merge_adapter(tiny_model_dir, adapter, merged)
    assert result.max_abs_diff <= result.tolerance and result.top1_agreement > 0.95
    assert result.adapter_effect > 1e-3  # the adapter really changes the model, so the match means something
    assert result.dequantized_from_4bit == (backend == "qlora")
    cfg = json.loads((merged / "config.json").read_text())
    assert "quantization_config" not in cfg and not (merged / "adapter_config.json").exists()
    if backend == "lora":
        # an independent check: the merged folder vs base + adapter loaded by peft, on a fresh input
        ids = torch.tensor([[2, 10, 20, 30, 40, 50, 60, 70]])
        ref = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)), str(adapter))
        got = AutoModelForCausalLM.from_pretrained(str(merged))
        assert torch.allclose(_logits(got, ids), _logits(ref, ids), atol=1e-4)
        base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
        assert not torch.allclose(_logits(base, ids), _logits(got, ids), atol=1e-3)
    else:
        assert result.dtype == "bfloat16"
        assert all(t.dtype == torch.bfloat16 for t in weights(merged).values())


def test_merge_refuses_a_model_folder_as_adapter(tiny_model_dir, tmp_path):
    from dataforge.errors import InputError

    with pytest.raises(InputError, match="not a LoRA adapter folder"):
        merge_adapter(tiny_model_dir, tiny_model_dir, tmp_path / "m")
