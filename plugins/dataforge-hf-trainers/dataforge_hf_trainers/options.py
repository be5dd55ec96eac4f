"""Options of the built-in backends (pydantic; no torch here, so validation is instant)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from dataforge.train.options import LoraOptions, TrainOptions, TrainPlan

LORA_FIELDS = ("r", "alpha", "dropout", "target_modules", "use_dora")


class FullOptions(TrainOptions):
    """All parameters are trained."""


class FreezeOptions(TrainOptions):
    layers: int = Field(2, ge=1, description="How many of the last transformer layers are trained (plus the head).")
    learning_rate: float = Field(5e-5, gt=0, lt=1)

    def plan(self) -> TrainPlan:
        return TrainPlan(trainable="last_layers", last_layers=self.layers)


class QLoraOptions(LoraOptions):
    quant_type: Literal["nf4", "fp4"] = Field("nf4", description="4-bit data type of the frozen base.")
    double_quant: bool = Field(True, description="Quantise the quantisation constants too (saves ~0.4 bit/weight).")
    compute_dtype: Literal["bfloat16", "float16", "float32"] = Field(
        "bfloat16", description="dtype the 4-bit weights are de-quantised to for each matmul.")
    gradient_checkpointing: bool = Field(True, description="Recompute activations in backward to save memory.")

    @model_validator(mode="after")
    def _qlora_rules(self):
        if self.dtype not in ("auto", "float32", self.compute_dtype):
            raise ValueError(f"dtype={self.dtype} conflicts with compute_dtype={self.compute_dtype}; with qlora set "
                             "compute_dtype (the base is 4-bit) and leave dtype=auto")
        return self

    def plan(self) -> TrainPlan:
        plan = super().plan()
        plan.weight_bits, plan.double_quant = 4, self.double_quant
        return plan


class _PairOptions(LoraOptions):
    """Shared by dpo and reward: preference data, no packing, an optional LoRA adapter."""

    adapter: Literal["lora", "none"] = Field("lora", description="Train a LoRA adapter, or all parameters (none).")

    @model_validator(mode="after")
    def _pair_rules(self):
        if self.packing:
            raise ValueError("packing does not apply to preference pairs; remove packing=true")
        lora_set = [f for f in LORA_FIELDS if f in self.model_fields_set]
        if self.adapter == "none" and lora_set:
            what = "is a LoRA option" if len(lora_set) == 1 else "are LoRA options"
            raise ValueError(f"{', '.join(lora_set)} {what} but adapter=none; set adapter=lora or drop "
                             f"{', '.join(lora_set)}")
        return self

    @classmethod
    def data_kind(cls) -> str:
        return "preference"

    # Whether a run on all weights (adapter=none) keeps a frozen copy of the model as its reference;
    # with a LoRA adapter the base itself is the reference.
    needs_reference: ClassVar[bool] = False

    def plan(self) -> TrainPlan:
        plan = super().plan() if self.adapter == "lora" else TrainPlan(reference_copy=self.needs_reference)
        plan.pairs = True
        return plan


class DPOOptions(_PairOptions):
    beta: float = Field(0.1, gt=0, description="How far the policy may move from the reference (higher: less).")
    loss_type: Literal["sigmoid", "hinge", "ipo", "robust", "sppo_hard", "apo_zero", "apo_down",
                       "sigmoid_norm"] = Field("sigmoid", description="TRL DPO loss.")
    label_smoothing: float = Field(0.0, ge=0, lt=0.5, description="Robust DPO: chance a label is flipped.")
    learning_rate: float = Field(5e-5, gt=0, lt=1)

    @model_validator(mode="after")
    def _dpo_rules(self):
        if self.label_smoothing and self.loss_type not in ("robust", "sigmoid"):
            raise ValueError(f"label_smoothing applies to loss_type robust or sigmoid, not {self.loss_type}")
        return self

    needs_reference: ClassVar[bool] = True


class RewardOptions(_PairOptions):
    adapter: Literal["lora", "none"] = Field("none", description="Train all parameters (none) or a LoRA adapter.")
    eval_split: float = Field(0.1, ge=0, lt=1, description="Share of pairs held out to measure pairwise accuracy.")
    learning_rate: float = Field(1e-5, gt=0, lt=1)
    center_rewards_coefficient: float | None = Field(None, ge=0, description="Push mean reward towards 0.")

    def plan(self) -> TrainPlan:
        plan = super().plan()
        plan.head = "score"
        return plan
