"""Options of the hosted OpenAI backend, validated before anything is read or sent.

They extend dataforge's shared `TrainOptions` (the protocol asks for that),
but OpenAI trains on its own servers: the local knobs (templates, packing,
max_length, schedules, checkpoints...) have no meaning there, and setting one
is refused with the reason rather than silently ignored. `epochs`,
`batch_size`, `learning_rate_multiplier` and `beta` default to "auto"
(OpenAI picks them from the data size).

    >>> OpenAIOptions(epochs=3, suffix="support-bot").hyperparameters()
    {'n_epochs': 3}
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, field_validator, model_validator

from dataforge.train.options import TrainOptions

# Shared options that only a local trainer understands (what to say instead, when there is something).
LOCAL_ONLY = {
    "template": "OpenAI applies its own chat format", "lang": "", "add_eos": "", "packing": "",
    "completion_only_loss": "OpenAI trains on the assistant messages", "max_steps": "set epochs",
    "max_length": "OpenAI truncates examples over its context limit; the check reports them",
    "learning_rate": "set learning_rate_multiplier: OpenAI scales its own base rate", "lr_scheduler": "",
    "warmup_ratio": "", "weight_decay": "", "max_grad_norm": "", "grad_accum": "set batch_size",
    "gradient_checkpointing": "", "eval_steps": "", "logging_steps": "", "save_steps": "",
    "save_total_limit": "", "dtype": "", "tensorboard": "",
}

WHOLE = {"epochs": (1, 50), "batch_size": (1, 256)}  # OpenAI's accepted ranges


class OpenAIOptions(TrainOptions):
    """Options of `--backend openai` (see docs/openai-finetune.md)."""

    epochs: int | Literal["auto"] = Field("auto", description="n_epochs: passes over the data ('auto': OpenAI chooses by size).")
    batch_size: int | Literal["auto"] = Field("auto", description="Examples per batch ('auto': OpenAI chooses).")
    learning_rate_multiplier: float | Literal["auto"] = Field("auto", description="Scales OpenAI's base learning rate.")
    method: Literal["auto", "supervised", "dpo"] = Field(
        "auto", description="'auto': dpo for chosen/rejected data, supervised otherwise.")
    beta: float | Literal["auto"] = Field("auto", description="DPO only: how strongly the model is kept near the reference.")
    suffix: str | None = Field(None, max_length=64, description="Added to the fine-tuned model's name (<= 64 chars).")
    seed: int | None = Field(42, description="Seed sent to OpenAI and used for the eval split (None: OpenAI's).")
    eval_split: float = Field(0.0, ge=0, lt=1, description="Share of examples uploaded as the validation file.")
    base_url: str | None = Field(None, description="API base URL (default: $OPENAI_BASE_URL, else OpenAI's).")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable that holds the API key.")
    poll_interval: float = Field(10.0, gt=0, description="Seconds between status polls while following the job.")
    request_timeout: float = Field(60.0, gt=0, description="Seconds before one API request times out.")
    max_wait: float | None = Field(None, gt=0, description="Stop following after this many seconds (the job "
                                   "keeps running; --resume reattaches). None: follow to the end.")
    cancel_on_interrupt: bool = Field(False, description="Ctrl-C cancels the job instead of leaving it running.")
    price_per_1m_tokens: float | None = Field(None, ge=0, description="Training price in $ per 1M tokens, for the "
                                              "cost estimate in the check, the dry run and the card.")

    @field_validator("epochs", "batch_size", "learning_rate_multiplier", "beta", mode="before")
    @classmethod
    def _number_or_auto(cls, value, info):
        # one readable message instead of pydantic's per-branch union errors
        if value == "auto":
            return value
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if info.field_name in WHOLE:
            lo, hi = WHOLE[info.field_name]
            if not number or value != int(value) or not lo <= value <= hi:
                raise ValueError(f"must be a whole number from {lo} to {hi}, or 'auto'")
            return int(value)
        if not number or value <= 0:
            raise ValueError("must be a number above 0, or 'auto'")
        return float(value)

    @model_validator(mode="after")
    def _hosted_rules(self):
        local = sorted(set(self.model_fields_set) & set(LOCAL_ONLY))
        if local:
            name = local[0]
            tip = LOCAL_ONLY[name]
            raise ValueError(f"option '{name}' belongs to local training and has no meaning for a hosted OpenAI "
                             f"job; drop it" + (f" ({tip})" if tip else ""))
        if self.method == "supervised" and self.beta != "auto":
            raise ValueError("beta applies to the dpo method only; drop beta or set method=dpo")
        if not self.api_key_env.strip():
            raise ValueError("api_key_env must name an environment variable, e.g. OPENAI_API_KEY")
        return self

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    def method_for(self, data_kind: str) -> str:
        """supervised or dpo for this data; ValueError when they do not fit."""
        if data_kind in ("kto", "text"):  # no OpenAI method trains on these; KTO's bad completions must not be SFT
            raise ValueError(f"OpenAI fine-tuning has no method for {data_kind} data"
                             " (supervised needs chats, dpo needs preference pairs)")
        if self.method == "auto":
            return "dpo" if data_kind == "preference" else "supervised"
        if self.method == "dpo" and data_kind != "preference":
            raise ValueError("method dpo trains on preference data (prompt, chosen, rejected), but the data is "
                             f"{data_kind} data")
        if self.method == "supervised" and data_kind == "preference":
            raise ValueError("method supervised trains on instruction data, but the data is preference data")
        return self.method

    def hyperparameters(self, method: str = "supervised") -> dict:
        """The hyperparameters sent with the method; 'auto' ones are left to OpenAI."""
        values = {"n_epochs": self.epochs, "batch_size": self.batch_size,
                  "learning_rate_multiplier": self.learning_rate_multiplier}
        if method == "dpo":
            values["beta"] = self.beta
        return {k: v for k, v in values.items() if v != "auto"}

    def shown(self) -> dict:
        """The options that mean something for a hosted job (for result.json and the card)."""
        return {k: v for k, v in self.model_dump(mode="json").items() if k not in LOCAL_ONLY}


# `--help-options` lists every field, the inherited local ones too: say what they are here.
for _name, _tip in LOCAL_ONLY.items():
    OpenAIOptions.model_fields[_name].description = "Local training only: refused by this hosted backend" + (
        f" ({_tip})." if _tip else ".")
