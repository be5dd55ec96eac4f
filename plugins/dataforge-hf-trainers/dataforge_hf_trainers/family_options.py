"""Options of the RLHF-loop backends: rloo and grpo (online RL), kto, orpo and simpo (offline preference).

Pydantic only (no torch), so a wrong combination fails before anything loads.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from dataforge.train.options import LoraOptions, TrainPlan
from dataforge_hf_trainers.options import LORA_FIELDS, _PairOptions

# Built-in rewards (see rewards.py); a reward model and an LLM judge are the other two sources.
BUILTIN_REWARDS = ("exact", "regex", "json", "lang", "length")
JUDGE_RUBRIC = "helpful, correct and in the language of the instruction"


class RLOptions(LoraOptions):
    """Shared by rloo and grpo: the policy samples answers to prompts and is pushed towards higher reward."""

    adapter: Literal["lora", "none"] = Field("lora", description="Train a LoRA adapter on the policy (the reference "
                                             "is then the policy with the adapter disabled), or all parameters.")
    policy_adapter: str | None = Field(None, description="Start from this SFT LoRA adapter folder on --model and "
                                       "train it further (the reference is a frozen copy of it).")
    reward_model: str | None = Field(None, description="A dataforge reward-model folder (`train -b reward`): "
                                     "answers are scored with its own template, BOS and EOS, as it was trained.")
    rewards: list[Literal["exact", "regex", "json", "lang", "length", "judge"]] = Field(
        default_factory=list, description="Built-in rewards: exact (answer equals the row's reference answer), "
        "regex (reward_regex matches), json (valid JSON), lang (answer in the language of the row or its prompt), "
        "length (near length_target tokens), judge (an LLM judge, judge_model).")
    reward_weights: list[float] | None = Field(None, description="One weight per reward source: reward_model first "
                                               "(when set), then `rewards` in order. Default: all 1.")
    reward_regex: str | None = Field(None, description="Pattern for the regex reward (Python re.search).")
    length_target: int | None = Field(None, ge=1, description="Answer length in tokens the length reward aims at.")
    judge_model: str | None = Field(None, description="Model name of the LLM judge (an OpenAI-compatible server).")
    judge_base_url: str | None = Field(None, description="The judge server's URL (default: $OPENAI_BASE_URL).")
    judge_api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the judge's API key.")
    judge_rubric: str = Field(JUDGE_RUBRIC, description="What the judge rewards (scored 1-10, mapped to 0-1).")
    num_generations: int = Field(4, ge=2, description="Answers sampled per prompt (the group compared with itself).")
    max_completion_length: int = Field(128, ge=1, description="Longest sampled answer in tokens.")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature of the policy's answers.")
    top_p: float = Field(1.0, gt=0, le=1)
    beta: float = Field(0.05, ge=0, description="KL penalty towards the reference policy (0: no reference, no KL).")
    learning_rate: float = Field(1e-5, gt=0, lt=1)
    eval_before: bool = Field(True, description="With eval_split: also measure held-out reward before training "
                              "(metric eval_reward_before), so the run reports its own gain.")

    @model_validator(mode="after")
    def _rl_rules(self):
        if self.packing:
            raise ValueError("packing does not apply to sampled answers; remove packing=true")
        lora_set = [f for f in LORA_FIELDS if f in self.model_fields_set]
        if self.adapter == "none" and (lora_set or self.policy_adapter):
            what = ", ".join(lora_set) or "policy_adapter"
            raise ValueError(f"{what} needs adapter=lora (adapter=none trains all parameters)")
        if not self.sources():
            raise ValueError("no reward: set reward_model=DIR and/or rewards=[exact|regex|json|lang|length|judge]")
        if "regex" in self.rewards:
            if not self.reward_regex:
                raise ValueError("rewards has regex but reward_regex is not set")
            try:
                re.compile(self.reward_regex)
            except re.error as exc:
                raise ValueError(f"reward_regex {self.reward_regex!r} is not a valid pattern: {exc}") from None
        if "length" in self.rewards and not self.length_target:
            raise ValueError("rewards has length but length_target is not set")
        if "judge" in self.rewards and not self.judge_model:
            raise ValueError("rewards has judge but judge_model is not set")
        if self.reward_weights is not None and len(self.reward_weights) != len(self.sources()):
            raise ValueError(f"reward_weights has {len(self.reward_weights)} weights for {len(self.sources())} "
                             f"rewards ({', '.join(self.sources())})")
        if (self.batch_size * self.grad_accum) % self.num_generations:
            raise ValueError(f"batch_size x grad_accum ({self.batch_size * self.grad_accum}) counts answers and must "
                             f"be a multiple of num_generations ({self.num_generations})")
        if self.eval_split and self.batch_size % self.num_generations:
            raise ValueError(f"with eval_split, batch_size ({self.batch_size}) must be a multiple of "
                             f"num_generations ({self.num_generations})")
        if self.max_completion_length >= self.max_length:
            raise ValueError(f"max_completion_length ({self.max_completion_length}) leaves no room for the prompt "
                             f"in max_length ({self.max_length})")
        return self

    def sources(self) -> list[str]:
        """The reward sources in the order their weights are given."""
        return (["reward_model"] if self.reward_model else []) + list(dict.fromkeys(self.rewards))

    def plan(self) -> TrainPlan:
        plan = super().plan() if self.adapter == "lora" else TrainPlan(reference_copy=self.beta > 0)
        plan.pairs = True  # the loss and the reference both run over every sampled answer
        return plan

    @classmethod
    def data_kind(cls) -> str:
        return "prompts"


class RLOOOptions(RLOptions):
    """REINFORCE leave-one-out: each answer's baseline is the mean reward of the other answers to its prompt."""

    normalize_advantages: bool = Field(False, description="Scale advantages to unit variance per batch.")


class GRPOOptions(RLOptions):
    """Group relative policy optimisation: advantages are rewards standardised within each prompt's group."""

    beta: float = Field(0.04, ge=0, description="KL penalty towards the reference policy. TRL's default is 0 (no "
                        "reference); dataforge keeps 0.04 so every step logs how far the policy moved (kl).")
    loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo"] = Field("dapo", description="TRL GRPO loss normalisation.")
    scale_rewards: Literal["group", "batch", "none"] = Field(
        "group", description="Divide advantages by the reward std of the group, the batch, or not at all.")


class KTOOptions(_PairOptions):
    """Unpaired records (prompt, completion, desirable or not); preference pairs are unpaired."""

    beta: float = Field(0.1, gt=0, description="How far the policy may move from the reference (higher: less).")
    loss_type: Literal["kto", "apo_zero_unpaired"] = Field("kto", description="TRL KTO loss.")
    desirable_weight: float = Field(1.0, gt=0, description="Weight of desirable completions' loss.")
    undesirable_weight: float = Field(1.0, gt=0, description="Weight of undesirable completions' loss.")
    learning_rate: float = Field(5e-5, gt=0, lt=1)

    @model_validator(mode="after")
    def _kto_rules(self):
        if self.loss_type == "kto" and self.batch_size < 2:
            raise ValueError("loss_type=kto estimates its KL term from other rows of the batch: batch_size >= 2")
        return self

    needs_reference: ClassVar[bool] = True  # pairs: every row also runs with a mismatched completion (KL)

    @classmethod
    def data_kind(cls) -> str:
        return "kto"


class ORPOOptions(_PairOptions):
    """Odds-ratio preference optimisation: SFT on chosen plus an odds-ratio penalty; no reference model."""

    beta: float = Field(0.1, gt=0, description="Weight of the odds-ratio term (lambda in the ORPO paper).")
    learning_rate: float = Field(5e-5, gt=0, lt=1)



class SimPOOptions(_PairOptions):
    """SimPO (TRL's CPO trainer, loss simpo): length-normalised log-prob margin with a target gap; no reference."""

    beta: float = Field(2.0, gt=0, description="Reward scale (SimPO paper: 2.0-2.5).")
    simpo_gamma: float = Field(1.0, ge=0, description="Target reward margin (SimPO paper: gamma/beta about 0.5).")
    cpo_alpha: float = Field(0.0, ge=0, description="Weight of an added NLL term on chosen (0: pure SimPO).")
    learning_rate: float = Field(5e-5, gt=0, lt=1)

