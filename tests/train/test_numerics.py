"""Numerics a user cannot see in the loss: right gradients, fp32 master weights, fp32 adapters."""

from __future__ import annotations

import pytest
import torch
from transformers import TrainerCallback

from dataforge.train import train


def _lora_names(model) -> list[str]:
    return [n for n, p in model.named_parameters() if p.requires_grad]


def _grads(model, batch) -> dict:
    """Gradients of the trainable parameters on `batch`, in training mode; leaves .grad as it found it."""
    was_training = model.training
    model.train()
    kept = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    for p in model.parameters():
        p.grad = None
    model(**batch).loss.backward()
    out = {n: p.grad.detach().float().clone() for n, p in model.named_parameters() if p.requires_grad}
    for n, p in model.named_parameters():
        if p.requires_grad:
            p.grad = kept[n]
    model.train(was_training)
    return out


class GradientsAfterEval(TrainerCallback):
    """At the first evaluation's end: LoRA gradients of the 4-bit model vs a float32 model with the same weights.

    The float32 reference holds each 4-bit layer's de-quantised weight (taken before training, so before any
    repacking) as a plain fp32 Linear, and the adapters' current values.
    """

    def __init__(self, model_dir, lora_config):
        self.model_dir, self.lora_config = model_dir, lora_config
        self.dequantised, self.batch, self.errors, self.evaluations = {}, None, {}, 0

    def on_train_begin(self, args, state, control, model=None, train_dataloader=None, **kw):
        import bitsandbytes as bnb

        for name, module in model.named_modules():
            if isinstance(module, bnb.nn.Linear4bit):
                w = bnb.functional.dequantize_4bit(module.weight.data, module.weight.quant_state)
                self.dequantised[name.replace(".base_layer", "")] = w.float().clone()
        batch = next(iter(train_dataloader))
        self.batch = {k: v for k, v in batch.items() if k in ("input_ids", "labels", "attention_mask",
                                                               "position_ids")}

    def on_evaluate(self, args, state, control, model=None, **kw):
        self.evaluations += 1
        if self.errors:
            return
        from peft import get_peft_model
        from transformers import AutoModelForCausalLM

        got = _grads(model, self.batch)
        ref = get_peft_model(AutoModelForCausalLM.from_pretrained(str(self.model_dir), dtype=torch.float32),
                             self.lora_config)
        with torch.no_grad():
            mods = dict(ref.named_modules())
            for name, w in self.dequantised.items():
                mods[name].base_layer.weight.copy_(w)
            trained = dict(model.named_parameters())
            for name, p in ref.named_parameters():
                if p.requires_grad:
                    p.copy_(trained[name].float())
        want = _grads(ref, self.batch)
        assert set(got) == set(want)
        self.errors = {n: float((got[n] - want[n]).norm() / want[n].norm()) for n in want if want[n].norm() > 0}


def test_qlora_gradients_match_float32_after_an_evaluation(tiny_model_dir, sft_data, tmp_path, monkeypatch):
    """bitsandbytes repacks 4-bit weights for a fused inference kernel on the first no-grad forward on CPUs with
    AVX512-BF16; training forwards must not run on that kernel afterwards (61% gradient error, loss barely moved).
    The capability check is forced on, so the test exercises the path on any CPU."""
    import bitsandbytes.nn.modules as bnb_modules
    from dataforge_hf_trainers.loading import lora_config
    from dataforge_hf_trainers.options import QLoraOptions

    monkeypatch.setattr(bnb_modules, "has_avx512bf16", lambda: True)
    sets = ["max_steps=2", "r=4", "dropout=0", "learning_rate=1e-2", "compute_dtype=float32", "eval_split=0.25",
            "eval_steps=1", "batch_size=2", "gradient_checkpointing=false"]
    probe = GradientsAfterEval(tiny_model_dir, lora_config(QLoraOptions(r=4, dropout=0)))
    train("qlora", tiny_model_dir, sft_data, tmp_path / "q", sets=sets, callbacks=[probe])
    assert probe.evaluations >= 1 and probe.errors
    worst = max(probe.errors, key=probe.errors.get)
    assert probe.errors[worst] < 1e-3, (worst, probe.errors[worst])


class Params(TrainerCallback):
    """Trainable parameters at the start and the end, their dtypes, and the dtype linear layers compute in."""

    def __init__(self):
        self.before, self.after, self.dtypes, self.compute = {}, {}, {}, set()

    def on_train_begin(self, args, state, control, model=None, **kw):
        self.before = {n: p.detach().float().clone() for n, p in model.named_parameters() if p.requires_grad}
        self.dtypes = {n: p.dtype for n, p in model.named_parameters() if p.requires_grad}
        linear = next(m for n, m in model.named_modules() if n.endswith("mlp.down_proj"))
        linear.register_forward_hook(lambda mod, args, out: self.compute.add(out.dtype))

    def on_train_end(self, args, state, control, model=None, **kw):
        self.after = {n: p.detach().float().clone() for n, p in model.named_parameters() if p.requires_grad}

    def changed_share(self) -> float:
        changed = sum(int((self.before[n] != self.after[n]).sum()) for n in self.before)
        return changed / sum(t.numel() for t in self.before.values())


@pytest.mark.parametrize("compute_dtype", ["float32", "bfloat16"])
def test_qlora_adapters_train_in_float32(tiny_model_dir, sft_data, tmp_path, compute_dtype):
    """TRL casts the adapters of a quantised model to bf16; on CPU (no autocast) they would then be updated in bf16."""
    probe = Params()
    train("qlora", tiny_model_dir, sft_data, tmp_path / "q", sets=["max_steps=1", "r=4", f"compute_dtype={compute_dtype}",
                                                                    "gradient_checkpointing=false"], callbacks=[probe])
    assert probe.dtypes and {str(d) for d in probe.dtypes.values()} == {"torch.float32"}


@pytest.mark.parametrize("backend", ["full", "freeze"])
def test_bfloat16_keeps_float32_master_weights(tiny_model_dir, sft_data, tmp_path, backend):
    """dtype=bfloat16 computes in bf16 but updates fp32 weights: in pure bf16, most AdamW updates round away."""
    shares, dtypes = {}, {}
    for dtype in ("float32", "bfloat16"):
        probe = Params()
        train(backend, tiny_model_dir, sft_data, tmp_path / dtype, callbacks=[probe],
              sets=["max_steps=3", "learning_rate=1e-5", "batch_size=4", f"dtype={dtype}"])
        shares[dtype], dtypes[dtype] = probe.changed_share(), set(probe.dtypes.values())
        assert probe.compute == {getattr(torch, dtype)}  # the matmuls run in the dtype asked for
    assert dtypes["bfloat16"] == {torch.float32}
    assert shares["float32"] > 0.5
    assert shares["bfloat16"] > 0.9 * shares["float32"], shares
