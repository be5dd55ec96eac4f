"""Typed training options: the shared base every backend extends, and how they are loaded.

Options come from a YAML file (`--config train.yaml`), then `--set key=value`
overrides, then are validated by the backend's pydantic model. Nothing heavy
is imported here: a wrong option or a wrong combination fails in well under a
second, before torch is even imported, with a message that says what to change.

    >>> opts = load_options(LoraOptions, None, ["r=8", "alpha=16"])   # doctest: +SKIP
    >>> opts.scale
    2.0
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dataforge.errors import ConfigError
from dataforge.yamlfile import load_yaml_mapping, parse_scalar

# Keys a YAML config may hold besides the backend options (flags override them).
JOB_KEYS = ("backend", "model", "data", "output")


@dataclass
class TrainPlan:
    """What a run trains and how weights are held: the memory estimate reads this."""

    trainable: str = "all"  # "all" | "last_layers" | "lora"
    last_layers: int = 0
    weight_bits: int = 16  # bits per weight of the frozen/base linear layers: 16 or 4
    double_quant: bool = True
    lora_r: int = 0
    lora_targets: list[str] | str = field(default_factory=list)
    dora: bool = False
    lora_dropout: float = 0.0  # > 0: each adapted layer keeps a dropped-out copy of its input for backward
    pairs: bool = False  # chosen and rejected go through the model together (DPO, reward)
    reference_copy: bool = False  # a second, frozen copy of the model is held (DPO without adapter)
    head: str = "lm"  # "lm" (next-token) or "score" (reward model)


class TrainOptions(BaseModel):
    """Options every backend shares. Field descriptions are the documentation."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    template: str = Field("chat_template", description="'chat_template' (the model tokenizer's own) or a "
                          "dataforge template name such as 'chatml' or 'alpaca'.")
    lang: str = Field("en", description="Language of the dataforge template's wording.")
    completion_only_loss: bool = Field(True, description="Mask prompt tokens (label -100); train on answers only.")
    train_on: Literal["all_assistant", "last_assistant"] = Field(
        "all_assistant", description="Multi-turn chats: train every assistant turn (earlier answers are trained "
        "too, as TRL's assistant_only_loss does) or only the last one (earlier turns are then prompt).")
    add_eos: bool = Field(True, description="End every answer with the EOS token unless it already ends with one "
                          "that stops generation.")
    packing: bool = Field(False, description="Pack several rows into each max_length sequence (padding-free).")
    max_length: int = Field(1024, gt=8, description="Longest row in tokens; longer rows are rejected and counted, "
                            "never truncated.")
    epochs: float = Field(1.0, gt=0, description="Passes over the training data (ignored when max_steps > 0).")
    max_steps: int = Field(-1, description="Stop after this many optimizer steps (-1: run the epochs).")
    learning_rate: float = Field(2e-5, gt=0, lt=1)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts",
                          "polynomial", "inverse_sqrt"] = "linear"
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="Share of the steps spent warming up the LR.")
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    batch_size: int = Field(4, ge=1, description="Rows per device per step.")
    grad_accum: int = Field(1, ge=1, description="Gradient accumulation steps.")
    gradient_checkpointing: bool = Field(False, description="Recompute activations in backward to save memory.")
    seed: int = 42
    eval_split: float = Field(0.0, ge=0, lt=1, description="Share of rows held out for evaluation (0: none).")
    eval_steps: int = Field(0, ge=0, description="Evaluate every N steps (0: at the end only).")
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(100, ge=1, description="Write a resumable checkpoint every N steps.")
    save_total_limit: int = Field(2, ge=1, description="Checkpoints kept on disk.")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="Compute dtype. Trained weights and optimizer states stay float32 (master weights); "
        "bfloat16/float16 run the math in 16-bit (autocast) and hold a frozen LoRA base in that dtype. auto: "
        "16-bit autocast on GPUs (bf16 where supported), float32 on CPU.")
    tensorboard: bool = Field(False, description="Also log to TensorBoard (OUT/runs).")

    @model_validator(mode="after")
    def _shared_rules(self):
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError("max_steps must be -1 (run the epochs) or a positive number of steps")
        if self.eval_steps and not self.eval_split:
            raise ValueError("eval_steps needs held-out rows: set eval_split (e.g. eval_split=0.1) or eval_steps=0")
        return self

    # The part of the options that describes memory use; backends override.
    def plan(self) -> TrainPlan:
        return TrainPlan()

    @classmethod
    def data_kind(cls) -> str:
        return "instruction"


class LoraOptions(TrainOptions):
    """LoRA adapter options (also the base of QLoRA and of DPO/reward with an adapter)."""

    r: int = Field(16, ge=1, le=4096, description="LoRA rank.")
    alpha: float = Field(32, gt=0, description="LoRA alpha; the update is scaled by alpha/r.")
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | Literal["all-linear"] = Field(
        "all-linear", description="Which linear layers get an adapter; all of them by default (QLoRA paper).")
    use_dora: bool = Field(False, description="Weight-decomposed LoRA (DoRA).")
    learning_rate: float = Field(2e-4, gt=0, lt=1)

    @field_validator("target_modules")
    @classmethod
    def _no_output_head(cls, value):
        # TRL computes log-probabilities from lm_head.weight directly: an adapter there would never train.
        if isinstance(value, list) and "lm_head" in value:
            raise ValueError("'lm_head' cannot take a LoRA adapter (the trainer reads its weight directly); "
                             "remove it from target_modules")
        return value

    @property
    def scale(self) -> float:
        return self.alpha / self.r

    def plan(self) -> TrainPlan:
        return TrainPlan(trainable="lora", lora_r=self.r, lora_targets=self.target_modules, dora=self.use_dora,
                         lora_dropout=self.dropout)


# Names users bring from transformers/peft/TRL scripts -> ours.
ALIASES = {"rank": "r", "lora_r": "r", "lora_rank": "r", "lora_alpha": "alpha", "lora_dropout": "dropout",
           "lr": "learning_rate", "num_train_epochs": "epochs", "num_epochs": "epochs",
           "per_device_train_batch_size": "batch_size", "gradient_accumulation_steps": "grad_accum",
           "lr_scheduler_type": "lr_scheduler", "max_seq_length": "max_length", "seq_len": "max_length",
           "bf16": "dtype", "fp16": "dtype", "torch_dtype": "dtype", "bnb_4bit_quant_type": "quant_type",
           "bnb_4bit_compute_dtype": "compute_dtype", "bnb_4bit_use_double_quant": "double_quant"}


def suggest(word: str, choices) -> str:
    if ALIASES.get(word) in choices:
        return f"did you mean '{ALIASES[word]}'?"
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else f"known options: {', '.join(sorted(choices))}"


def read_config_file(path: str | os.PathLike | None) -> dict:
    """The YAML (or JSON) mapping of a `--config` file; {} when no file is given."""
    if not path:
        return {}
    data = load_yaml_mapping(path, missing_hint="pass a YAML file of options, e.g. `r: 16`",
                             shape_message="a training config is a mapping of option: value")
    if isinstance(data.get("options"), dict):  # allow `options:` nesting as well as a flat file
        nested = data.pop("options")
        data.update(nested)
    return data


def parse_sets(sets) -> dict:
    out = {}
    for item in sets or ():
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set '{item}' is not KEY=VALUE", "e.g. --set learning_rate=1e-4")
        out[key.strip()] = parse_scalar(value)
    return out


def validate_options(model: type[TrainOptions], values: dict, *, backend: str = "") -> TrainOptions:
    """Build the backend's options; turn pydantic errors into one actionable ConfigError."""
    try:
        return model(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        who = f"backend '{backend}'" if backend else "this backend"
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"unknown option '{loc}' for {who}",
                              suggest(str(err["loc"][-1]), model.model_fields)) from None
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        if not loc:  # a cross-field rule (model validator)
            raise ConfigError(f"options for {who}: {msg}", "change one of the options named above") from None
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        desc = model.model_fields[err["loc"][0]].description if err["loc"][0] in model.model_fields else None
        raise ConfigError(f"option '{loc}': {msg}{shown}",
                          desc or f"see `dataforge train --backend {backend or 'NAME'} --help-options`") from None


def load_options(model: type[TrainOptions], config_path=None, sets=(), *, backend: str = "",
                 base: dict | None = None) -> TrainOptions:
    """Options from a YAML file, overridden by `--set` pairs, validated by the backend model."""
    values = dict(base or {})
    file_values = read_config_file(config_path)
    for key in JOB_KEYS:
        file_values.pop(key, None)
    values.update(file_values)
    values.update(parse_sets(sets))
    return validate_options(model, values, backend=backend)


def describe_options(model: type[TrainOptions]) -> list[tuple[str, str, str]]:
    """(name, default, description) for every option of a backend, for `--help-options` and docs."""
    rows = []
    for name, info in model.model_fields.items():
        default = info.default if info.default_factory is None else info.default_factory()
        rows.append((name, repr(default), info.description or ""))
    return rows
