"""kto, orpo and simpo: offline preference tuning beside dpo, on TRL's KTO, ORPO and CPO trainers.

- kto: unpaired rows (prompt, completion, desirable or not), prepared by
  family_data.py; the reference is the model with the adapter disabled.
- orpo: SFT loss on chosen plus an odds-ratio term; no reference model.
- simpo: TRL's CPOTrainer with loss_type="simpo" (length-normalised margin
  with a target gap gamma), cpo_alpha=0 by default: no reference, no SFT term.

orpo and simpo get the same rendered pairs as dpo (prompt, chosen + EOS,
rejected + EOS); both add BOS only where the prompt does not start with it.
"""

from __future__ import annotations

import warnings

from datasets import Dataset

from dataforge_hf_trainers import loading
from dataforge_hf_trainers.trainers import _callbacks, common_args

PAIR_COLUMNS = ("prompt", "chosen", "rejected")
KTO_COLUMNS = ("prompt", "completion", "label")


def _datasets(job, columns):
    train = Dataset.from_list([{k: r[k] for k in columns} for r in job.train_rows])
    held = Dataset.from_list([{k: r[k] for k in columns} for r in job.eval_rows]) if job.eval_rows else None
    return train, held


def _model(job):
    adapter = job.options.adapter == "lora"
    model = loading.load_model(job, frozen_base=adapter)
    return model, (loading.lora_config(job.options) if adapter else None), "adapter" if adapter else "model"


def build_kto(job):
    from trl import KTOConfig, KTOTrainer

    o = job.options
    model, peft_config, kind = _model(job)
    args = KTOConfig(**common_args(job), max_length=o.max_length, beta=o.beta, loss_type=o.loss_type,
                     desirable_weight=o.desirable_weight, undesirable_weight=o.undesirable_weight)
    train, held = _datasets(job, KTO_COLUMNS)
    trainer = KTOTrainer(model=model, ref_model=None, args=args, train_dataset=train, eval_dataset=held,
                         processing_class=job.tokenizer, peft_config=peft_config, callbacks=_callbacks(job))
    reference = ("the base model with the adapter disabled (no second copy)" if trainer.ref_model is None
                 else "a frozen copy of the starting model")
    labels = [r["label"] for r in job.train_rows]
    return trainer, {"reference": reference, "beta": o.beta, "loss_type": o.loss_type,
                     "desirable": sum(labels), "undesirable": len(labels) - sum(labels)}, kind


def _experimental(module: str):
    with warnings.catch_warnings():  # TRL announces its experimental trainers on import; dataforge documents it
        warnings.simplefilter("ignore")
        if module == "orpo":
            from trl.experimental.orpo import ORPOConfig, ORPOTrainer

            return ORPOConfig, ORPOTrainer
        from trl.experimental.cpo import CPOConfig, CPOTrainer

        return CPOConfig, CPOTrainer


def build_orpo(job):
    Config, Trainer = _experimental("orpo")
    o = job.options
    model, peft_config, kind = _model(job)
    args = Config(**common_args(job), max_length=o.max_length, beta=o.beta, remove_unused_columns=False)
    train, held = _datasets(job, PAIR_COLUMNS)
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=held, processing_class=job.tokenizer,
                      peft_config=peft_config, callbacks=_callbacks(job))
    return trainer, {"reference": "none (ORPO needs no reference model)", "beta": o.beta}, kind


def build_simpo(job):
    Config, Trainer = _experimental("cpo")
    o = job.options
    model, peft_config, kind = _model(job)
    args = Config(**common_args(job), max_length=o.max_length, loss_type="simpo", beta=o.beta,
                  simpo_gamma=o.simpo_gamma, cpo_alpha=o.cpo_alpha, remove_unused_columns=False)
    train, held = _datasets(job, PAIR_COLUMNS)
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=held, processing_class=job.tokenizer,
                      peft_config=peft_config, callbacks=_callbacks(job))
    return trainer, {"reference": "none (SimPO needs no reference model)", "beta": o.beta,
                     "simpo_gamma": o.simpo_gamma, "cpo_alpha": o.cpo_alpha}, kind
