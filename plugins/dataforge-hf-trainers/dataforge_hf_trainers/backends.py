"""The six backend objects the entry points name. Light at import: torch loads inside `train`."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util

from dataforge.train.options import LoraOptions, TrainOptions
from dataforge_hf_trainers.options import DPOOptions, FreezeOptions, FullOptions, QLoraOptions, RewardOptions

_NEEDS = ("torch", "transformers", "peft", "trl", "accelerate", "datasets")


def _version_tuple(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in md.version(name).split(".")[:2] if p.isdigit())
    except md.PackageNotFoundError:
        return ()


class _Backend:
    name = ""
    description = ""
    options_model: type[TrainOptions] = TrainOptions
    mode = "sft"  # sft | dpo | reward

    def check_environment(self, options: TrainOptions) -> list[str]:
        missing = [m for m in _NEEDS if importlib.util.find_spec(m) is None]
        if missing:
            return [f"missing Python packages: {', '.join(missing)}",
                    "pip install -e plugins/dataforge-hf-trainers (or `make setup`)"]
        if options.tensorboard and importlib.util.find_spec("tensorboard") is None:
            return ["tensorboard=true needs the tensorboard package", "pip install tensorboard, or drop tensorboard"]
        return []

    def check_model(self, options: TrainOptions, model_config: dict) -> list[str]:
        return []

    def train(self, job):
        from dataforge_hf_trainers import trainers

        return trainers.run(self, job)


class FullBackend(_Backend):
    name = "full"
    description = "Supervised fine-tuning of every parameter."
    options_model = FullOptions


class FreezeBackend(_Backend):
    name = "freeze"
    description = "Fine-tune only the last N transformer layers and the head (transfer learning)."
    options_model = FreezeOptions

    def check_model(self, options, model_config):
        n = model_config.get("num_hidden_layers") or (model_config.get("text_config") or {}).get("num_hidden_layers")
        if n is not None and options.layers > n:
            return [f"layers={options.layers} but the model has only {n} transformer layers; "
                    f"set layers between 1 and {n} (or use backend full)"]
        return []


class LoraBackend(_Backend):
    name = "lora"
    description = "LoRA adapters (optionally DoRA) on a 16-bit base; all linear layers by default."
    options_model = LoraOptions


class QLoraBackend(_Backend):
    name = "qlora"
    description = "LoRA on a 4-bit NF4 base (bitsandbytes, double quantisation), prepared for k-bit training."
    options_model = QLoraOptions

    def check_environment(self, options):
        problems = super().check_environment(options)
        if problems:
            return problems
        if importlib.util.find_spec("bitsandbytes") is None:
            return ["qlora needs bitsandbytes", "pip install bitsandbytes (>=0.46 also runs 4-bit on CPU)"]
        if _version_tuple("bitsandbytes") < (0, 46):
            return [f"bitsandbytes {md.version('bitsandbytes')} is too old for 4-bit training here",
                    "pip install -U 'bitsandbytes>=0.46'"]
        return []


class DPOBackend(_Backend):
    name = "dpo"
    description = "Direct preference optimisation (TRL) on chosen/rejected pairs; LoRA by default."
    options_model = DPOOptions
    mode = "dpo"


class RewardBackend(_Backend):
    name = "reward"
    description = "A scalar reward model on chosen/rejected pairs, with held-out pairwise accuracy."
    options_model = RewardOptions
    mode = "reward"


FULL = FullBackend()
FREEZE = FreezeBackend()
LORA = LoraBackend()
QLORA = QLoraBackend()
DPO = DPOBackend()
REWARD = RewardBackend()
