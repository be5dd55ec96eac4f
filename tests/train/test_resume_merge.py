"""Resume from the last complete checkpoint, refuse other data; merge an adapter and prove it."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from train_helpers import FACTS, metric_rows, weights, write_jsonl
from transformers import TrainerCallback

from dataforge.errors import ConfigError, DataforgeError
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


def _expected_qlora_weights(base_dir, adapter) -> dict:
    """Independently of dataforge and peft's merge: de-quantised base (as in training) + scale * B @ A, in float32."""
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=torch.bfloat16)
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), quantization_config=quant, device_map="cpu",
                                                 dtype=torch.bfloat16)
    expected = {k: v.float() for k, v in model.dequantize(dtype=torch.bfloat16).state_dict().items()}
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    lora = load_file(str(adapter / "adapter_model.safetensors"))
    for key, a in lora.items():
        if ".lora_A." in key:
            b = lora[key.replace(".lora_A.", ".lora_B.")]
            name = key.removeprefix("base_model.model.").replace(".lora_A.weight", ".weight")
            expected[name] += (cfg["lora_alpha"] / cfg["r"]) * (b.float() @ a.float())
    return expected


@pytest.mark.parametrize("backend", ["lora", "qlora"])
def test_merge_matches_base_plus_adapter(backend, tiny_model_dir, sft_data, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter = tmp_path / "adapter"
    train(backend, tiny_model_dir, sft_data, adapter, sets=["max_steps=3", "learning_rate=2e-2", "r=4",
                                                             "gradient_checkpointing=false"])
    merged = tmp_path / "merged"
    result = merge_adapter(tiny_model_dir, adapter, merged)
    # the gate: merged vs base+adapter in float32, tight; it does not measure 16-bit rounding or the CPU's kernels
    assert result.tolerance <= 1e-5 and result.rel_diff <= result.tolerance and result.top1_agreement >= 0.99
    assert result.adapter_effect > 1e-3  # the adapter really changes the model, so the match means something
    assert result.dequantized_from_4bit == (backend == "qlora")
    report = json.loads((merged / "dataforge_merge.json").read_text())
    assert report["rel_diff"] == result.rel_diff and report["saved_rel_diff"] == result.saved_rel_diff
    assert (merged / ".dataforge-output").is_file()
    cfg = json.loads((merged / "config.json").read_text())
    assert "quantization_config" not in cfg and not (merged / "adapter_config.json").exists()
    if backend == "lora":
        assert result.saved_rel_diff <= 1e-5  # written in float32: nothing rounded
        # an independent check: the merged folder vs base + adapter loaded by peft, on a fresh input
        ids = torch.tensor([[2, 10, 20, 30, 40, 50, 60, 70]])
        ref = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)), str(adapter))
        got = AutoModelForCausalLM.from_pretrained(str(merged))
        assert torch.allclose(_logits(got, ids), _logits(ref, ids), atol=1e-4)
        base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
        assert not torch.allclose(_logits(base, ids), _logits(got, ids), atol=1e-3)
    else:
        assert result.dtype == "bfloat16"
        saved = weights(merged)
        assert all(t.dtype == torch.bfloat16 for t in saved.values())
        assert result.saved_rel_diff > 0  # rounding to bf16 happened and is reported as its own figure
        # the written weights are the float32 merge rounded to bf16 (at most half a bf16 step per value):
        # an element-wise check that involves no 16-bit matmul kernel
        expected = _expected_qlora_weights(tiny_model_dir, adapter)
        assert set(saved) == set(expected)
        for name, want in expected.items():
            assert torch.allclose(saved[name].float(), want, rtol=2 ** -8, atol=1e-30), name


def test_merge_gate_catches_a_wrong_merge_that_16_bit_rounding_would_hide(tiny_model_dir, sft_data, tmp_path,
                                                                           monkeypatch):
    from peft.tuners.lora import LoraModel

    adapter = tmp_path / "adapter"
    train("lora", tiny_model_dir, sft_data, adapter, sets=["max_steps=1", "r=4"])
    real = LoraModel.merge_and_unload

    def off_by_a_little(self, *args, **kwargs):  # a merge bug of 0.1%: far below bf16's 2% old tolerance
        model = real(self, *args, **kwargs)
        with torch.no_grad():
            model.get_output_embeddings().weight.mul_(1.001)
        return model

    monkeypatch.setattr(LoraModel, "merge_and_unload", off_by_a_little)
    with pytest.raises(DataforgeError, match="merge check failed"):
        merge_adapter(tiny_model_dir, adapter, tmp_path / "merged", dtype="bfloat16")
    assert not (tmp_path / "merged").exists() and [p.name for p in tmp_path.iterdir()] == ["adapter"]


def test_merge_refuses_a_model_folder_as_adapter(tiny_model_dir, tmp_path):
    from dataforge.errors import InputError

    with pytest.raises(InputError, match="not a LoRA adapter folder"):
        merge_adapter(tiny_model_dir, tiny_model_dir, tmp_path / "m")
