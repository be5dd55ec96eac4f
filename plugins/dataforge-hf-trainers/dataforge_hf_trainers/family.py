"""The RLHF-loop backend objects (rloo, grpo, kto, orpo, simpo) the entry points name.

Light at import like backends.py: torch and TRL load inside `train`. rloo,
grpo and kto prepare their own rows (`prepare_data`, see family_data.py):
prompts to sample answers for, and unpaired completions.
"""

from __future__ import annotations

from pathlib import Path

from dataforge.errors import ConfigError
from dataforge_hf_trainers.backends import _Backend
from dataforge_hf_trainers.family_options import GRPOOptions, KTOOptions, ORPOOptions, RLOOOptions, SimPOOptions


class _Family(_Backend):
    mode = "family"

    def build(self, job):
        raise NotImplementedError

    def train(self, job):
        from dataforge_hf_trainers import trainers

        return trainers.run(self, job, build=self.build)


class _RLBackend(_Family):
    algorithm = ""

    def check_environment(self, options):
        problems = super().check_environment(options)
        if problems:
            return problems
        for name, path in (("reward_model", options.reward_model), ("policy_adapter", options.policy_adapter)):
            if path and not Path(path).is_dir():
                return [f"{name} {path}: no such folder", "pass the -o folder of a dataforge training run"]
        if options.reward_model:
            from dataforge_hf_trainers.reward_model import read_reward_folder

            try:
                read_reward_folder(options.reward_model)
            except ConfigError as exc:
                return [exc.message, exc.hint or "see `dataforge train -b reward`"]
        return []

    def prepare_data(self, data, tokenizer, options, **kwargs):
        from dataforge_hf_trainers.family_data import prepare_rows

        kwargs.pop("expect_kind", None)
        return prepare_rows("prompts", data, tokenizer, options, max_completion=options.max_completion_length,
                            **kwargs)

    def build(self, job):
        from dataforge_hf_trainers import rl

        return rl.build(job, algorithm=self.algorithm)


class RLOOBackend(_RLBackend):
    name = "rloo"
    algorithm = "rloo"
    description = ("Online RL (REINFORCE leave-one-out) from rewards: a reward model, verifiable checks or an LLM "
                   "judge; LoRA by default.")
    options_model = RLOOOptions


class GRPOBackend(_RLBackend):
    name = "grpo"
    algorithm = "grpo"
    description = ("Online RL (group relative policy optimisation) from rewards: a reward model, verifiable checks "
                   "or an LLM judge; LoRA by default.")
    options_model = GRPOOptions


class KTOBackend(_Family):
    name = "kto"
    description = "KTO on unpaired completions marked desirable or not (pairs are unpaired); LoRA by default."
    options_model = KTOOptions

    def prepare_data(self, data, tokenizer, options, **kwargs):
        from dataforge_hf_trainers.family_data import prepare_rows

        kwargs.pop("expect_kind", None)
        return prepare_rows("kto", data, tokenizer, options, **kwargs)

    def build(self, job):
        from dataforge_hf_trainers.preference_family import build_kto

        return build_kto(job)


class ORPOBackend(_Family):
    name = "orpo"
    description = ("ORPO (TRL experimental) on chosen/rejected pairs: SFT plus odds ratio, no reference; "
                   "LoRA by default.")
    options_model = ORPOOptions

    def build(self, job):
        from dataforge_hf_trainers.preference_family import build_orpo

        return build_orpo(job)


class SimPOBackend(_Family):
    name = "simpo"
    description = ("SimPO (TRL experimental CPO, loss simpo) on chosen/rejected pairs: no reference model; "
                   "LoRA by default.")
    options_model = SimPOOptions

    def build(self, job):
        from dataforge_hf_trainers.preference_family import build_simpo

        return build_simpo(job)


RLOO = RLOOBackend()
GRPO = GRPOBackend()
KTO = KTOBackend()
ORPO = ORPOBackend()
SIMPO = SimPOBackend()
