"""rloo and grpo: the policy (the SFT model, or an adapter on it) samples answers and learns from their rewards.

TRL's RLOOTrainer / GRPOTrainer do the sampling and the update; dataforge
gives them the prompts rendered with the training template, the rewards of
`rewards.py` (verifiable checks, the reward model scored as it was trained,
an LLM judge), and its metrics callback, so every logged step of
metrics.jsonl carries `reward`, `kl` (when beta > 0), `completions/mean_length`
and one `rewards/<name>/mean` per reward source. With held-out prompts the run
also measures held-out reward before training (`eval_reward_before`) and after
(`eval_reward`).
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from datasets import Dataset

from dataforge_hf_trainers import loading
from dataforge_hf_trainers.rewards import reward_functions
from dataforge_hf_trainers.trainers import _callbacks, common_args

COLUMNS = ("prompt", "reference", "record")


def _with_before(trainer_cls):
    """The TRL trainer, measuring held-out reward once before it trains (reported as eval_*_before)."""

    class Measured(trainer_cls):
        measure_before = False

        def train(self, resume_from_checkpoint=None, **kwargs):
            before = {}
            if self.measure_before and self.eval_dataset is not None and resume_from_checkpoint is None:
                before = {f"{k}_before": v for k, v in self.evaluate().items()
                          if k.startswith("eval_reward") or k == "eval_completions/mean_length"}
            out = super().train(resume_from_checkpoint=resume_from_checkpoint, **kwargs)
            out.metrics.update(before)
            return out

        def _save(self, output_dir=None, state_dict=None):
            super()._save(output_dir, state_dict)
            ref = Path(output_dir or self.args.output_dir) / "ref"
            if "ref" in getattr(self.model, "peft_config", {}) and ref.is_dir():
                # TRL's frozen copy of policy_adapter, just written by this save: rebuilt from it on every start
                shutil.rmtree(ref)

    Measured.__name__ = trainer_cls.__name__
    return Measured


def _policy(job):
    """The policy model and the LoRA config TRL should put on it (None when it is already set up)."""
    o = job.options
    model = loading.load_model(job, frozen_base=o.adapter == "lora")
    if o.policy_adapter:
        from peft import PeftModel

        # TRL copies this adapter into a frozen "ref" adapter: the KL is measured against the SFT adapter.
        return PeftModel.from_pretrained(model, o.policy_adapter, is_trainable=True), None
    return model, loading.lora_config(o) if o.adapter == "lora" else None


def build(job, *, algorithm: str):
    o = job.options
    if algorithm == "grpo":
        from trl import GRPOConfig as Config
        from trl import GRPOTrainer as Trainer

        specific = {"loss_type": o.loss_type, "scale_rewards": o.scale_rewards}
    else:
        from trl import RLOOConfig as Config
        from trl import RLOOTrainer as Trainer

        specific = {"normalize_advantages": o.normalize_advantages}
    model, peft_config = _policy(job)
    args = Config(**common_args(job), num_generations=o.num_generations,
                  max_completion_length=o.max_completion_length, temperature=o.temperature, top_p=o.top_p,
                  beta=o.beta, reward_weights=o.reward_weights, log_completions=False,
                  disable_dropout=True,  # dropout would make the policy's and the reference's log-probs disagree
                  **specific)
    tokenizer = copy.deepcopy(job.tokenizer)
    tokenizer.padding_side = "left"  # generation pads prompts on the left; the saved tokenizer stays as it was
    train_ds = Dataset.from_list([{k: r[k] for k in COLUMNS} for r in job.train_rows])
    eval_ds = Dataset.from_list([{k: r[k] for k in COLUMNS} for r in job.eval_rows]) if job.eval_rows else None
    # args.device is this process's device (cuda:LOCAL_RANK under --nproc): the reward model sits beside the policy
    funcs = reward_functions(o, job.tokenizer, model_dir=job.model_dir, output_dir=job.output_dir, device=args.device,
                             rank=job.rank)
    trainer = _with_before(Trainer)(model=model, reward_funcs=funcs, args=args, train_dataset=train_ds,
                                    eval_dataset=eval_ds, processing_class=tokenizer, peft_config=peft_config,
                                    callbacks=_callbacks(job))
    trainer.measure_before = o.eval_before
    adapter = o.adapter == "lora"
    if o.beta == 0:
        reference = "none (beta=0: no KL term)"
    elif o.policy_adapter:
        reference = "a frozen copy of the SFT adapter (policy_adapter)"
    else:
        reference = ("the policy with the adapter disabled (no second copy)" if adapter
                     else "a frozen copy of the starting model")
    extra = {"algorithm": algorithm, "rewards": o.sources(), "reward_weights": o.reward_weights,
             "reference": reference, "beta": o.beta, "num_generations": o.num_generations}
    return trainer, extra, "adapter" if adapter else "model"
