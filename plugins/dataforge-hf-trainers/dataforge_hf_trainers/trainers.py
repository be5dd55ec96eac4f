"""Building and running the TRL trainer for a backend, then writing the output folder.

SFT backends hand TRL's SFTTrainer rows that dataforge already tokenized and
masked (input_ids + labels, prompt tokens -100, no row over max_length), so
TRL neither re-tokenizes nor truncates them; with packing it packs them
best-fit-decreasing into padding-free sequences. DPO gets the rendered text
(TRL tokenizes preference pairs itself); the reward model gets token ids.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from datasets import Dataset

from dataforge.errors import DataforgeError
from dataforge.io.safety import MARKER, is_dataforge_folder, replaceable_folder, write_marker
from dataforge.train.protocol import TrainResult
from dataforge_hf_trainers import loading
from dataforge_hf_trainers.callbacks import DataforgeCallback, PaddingCounter

COMMON_CONFIG_KEYS = ("learning_rate", "weight_decay", "max_grad_norm", "seed", "logging_steps", "save_steps",
                      "save_total_limit")


def common_args(job) -> dict:
    o = job.options
    has_eval = bool(job.eval_rows)
    return dict(
        output_dir=str(job.checkpoint_dir), num_train_epochs=o.epochs, max_steps=o.max_steps,
        lr_scheduler_type=o.lr_scheduler, warmup_steps=o.warmup_ratio,
        per_device_train_batch_size=o.batch_size, per_device_eval_batch_size=o.batch_size,
        gradient_accumulation_steps=o.grad_accum, gradient_checkpointing=o.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if o.gradient_checkpointing else None,
        data_seed=o.seed, logging_first_step=True, save_strategy="steps",
        eval_strategy="steps" if has_eval and o.eval_steps else "no", eval_steps=o.eval_steps or None,
        report_to=["tensorboard"] if o.tensorboard else "none", disable_tqdm=True, dataloader_num_workers=0,
        ddp_find_unused_parameters=False, **{k: getattr(o, k) for k in COMMON_CONFIG_KEYS},
        **loading.mixed_precision(o),
    )


def run(backend, job, build=None) -> TrainResult:
    """Build the backend's trainer (`build(job) -> (trainer, extra, kind)` for plugins' own), train, save."""
    from transformers.trainer_callback import PrinterCallback

    loading.quiet_libraries()
    if build is not None:
        trainer, extra, kind = build(job)
    elif backend.mode == "dpo":
        trainer, extra, kind = _dpo(job)
    elif backend.mode == "reward":
        trainer, extra, kind = _reward(job)
    else:
        trainer, extra, kind = _sft(backend.name, job)
    trainer.remove_callback(PrinterCallback)  # logs go to metrics.jsonl and the progress bar instead
    callback = next(cb for cb in trainer.callback_handler.callbacks if isinstance(cb, DataforgeCallback))
    resume = str(job.resume_from) if job.resume_from else None
    out = trainer.train(resume_from_checkpoint=resume)
    metrics = {k: v for k, v in out.metrics.items() if isinstance(v, (int, float))}
    if job.eval_rows:
        metrics.update(trainer.evaluate())
    if callback.first_loss is not None:
        metrics["first_logged_loss"] = callback.first_loss
        metrics["last_logged_loss"] = callback.last_loss
    tokens = getattr(trainer, "_total_train_tokens", 0)
    if tokens and metrics.get("train_runtime"):
        metrics["train_tokens"] = tokens
        metrics["train_tokens_per_second"] = tokens / metrics["train_runtime"]
    if callback.counter is not None and callback.counter.share is not None:
        metrics["nonpad_share"] = callback.counter.share
    extra.update(_rank_sync(trainer.model))
    trainable, total = loading.count_params(trainer.model)
    extra.update(trainable_params=trainable, total_params=total, precision=_precision(trainer))
    artifacts = _save(trainer, job)
    return TrainResult(metrics=metrics, artifacts=artifacts, kind=kind, global_step=trainer.state.global_step,
                       extra=extra)


def _precision(trainer) -> dict:
    """What the run really did: the dtype(s) of the trained weights and the dtype of the math."""
    dtypes = sorted({str(p.dtype).removeprefix("torch.") for p in trainer.model.parameters() if p.requires_grad})
    compute = "bf16 autocast" if trainer.args.bf16 else "fp16 autocast" if trainer.args.fp16 else "fp32"
    return {"trained_weights": dtypes, "compute": compute}


def _callbacks(job, counter=None) -> list:
    return [DataforgeCallback(job, counter), *job.callbacks]


def _sft(name: str, job):
    from trl import SFTConfig, SFTTrainer

    o = job.options
    quantize = name == "qlora"
    adapter = name in ("lora", "qlora")
    model = loading.load_model(job, quantize=quantize, frozen_base=adapter)
    extra = {}
    if name == "freeze":
        extra["trained_parameters"] = loading.freeze_all_but_last(model, o.layers)
    args = SFTConfig(**common_args(job), max_length=o.max_length, packing=o.packing, packing_strategy="bfd",
                     completion_only_loss=None, dataset_kwargs=None)
    columns = ("input_ids", "labels")
    train_ds = Dataset.from_list([{k: r[k] for k in columns} for r in job.train_rows])
    eval_ds = Dataset.from_list([{k: r[k] for k in columns} for r in job.eval_rows]) if job.eval_rows else None
    counter_holder = PaddingCounter(None)
    trainer = SFTTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                         processing_class=job.tokenizer, peft_config=loading.lora_config(o) if adapter else None,
                         callbacks=_callbacks(job, counter_holder))
    counter_holder.collator = trainer.data_collator
    trainer.data_collator = counter_holder
    if quantize:
        loading.trainable_to_fp32(trainer.model)  # before train() builds the optimizer over them
        extra["quantization"] = {"quant_type": o.quant_type, "double_quant": o.double_quant,
                                 "compute_dtype": o.compute_dtype}
    return trainer, extra, "adapter" if adapter else "model"


def _dpo(job):
    from trl import DPOConfig, DPOTrainer

    o = job.options
    adapter = o.adapter == "lora"
    model = loading.load_model(job, frozen_base=adapter)
    args = DPOConfig(**common_args(job), max_length=o.max_length, beta=o.beta, loss_type=[o.loss_type],
                     label_smoothing=o.label_smoothing)
    cols = ("prompt", "chosen", "rejected")
    train_ds = Dataset.from_list([{k: r[k] for k in cols} for r in job.train_rows])
    eval_ds = Dataset.from_list([{k: r[k] for k in cols} for r in job.eval_rows]) if job.eval_rows else None
    trainer = DPOTrainer(model=model, ref_model=None, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                         processing_class=job.tokenizer, peft_config=loading.lora_config(o) if adapter else None,
                         callbacks=_callbacks(job))
    reference = ("the base model with the adapter disabled (no second copy)" if trainer.ref_model is None
                 else "a frozen copy of the starting model")
    return trainer, {"reference": reference, "beta": o.beta, "loss_type": o.loss_type}, \
        "adapter" if adapter else "model"


def _reward(job):
    from trl import RewardConfig, RewardTrainer

    o = job.options
    adapter = o.adapter == "lora"
    model = loading.load_model(job, head="score", frozen_base=adapter)
    args = RewardConfig(**common_args(job), max_length=o.max_length,
                        center_rewards_coefficient=o.center_rewards_coefficient)
    cols = ("chosen_ids", "rejected_ids")
    train_ds = Dataset.from_list([{k: r[k] for k in cols} for r in job.train_rows])
    eval_ds = Dataset.from_list([{k: r[k] for k in cols} for r in job.eval_rows]) if job.eval_rows else None
    trainer = RewardTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                            processing_class=job.tokenizer,
                            peft_config=loading.lora_config(o, task="SEQ_CLS") if adapter else None,
                            callbacks=_callbacks(job))
    return trainer, {"head": "score (1 output)"}, "adapter" if adapter else "model"


def _rank_sync(model) -> dict:
    """Per-rank checksums of the trained weights; under DDP every rank must hold the same ones."""
    import torch.distributed as dist

    mine = loading.trainable_checksum(model)
    if not (dist.is_available() and dist.is_initialized()):
        return {"rank_checksums": [mine], "ranks_in_sync": True}
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, mine)
    return {"rank_checksums": gathered, "ranks_in_sync": len(set(gathered)) == 1,
            "distributed_backend": str(dist.get_backend())}


def _save(trainer, job) -> list[str]:
    """The final model (or adapter) and tokenizer, written to a temporary folder then moved in.

    Only into a folder dataforge marked as its output, and a sub-folder already there is replaced
    only when it is empty or dataforge's own: anything else stops the run before a file moves.
    """
    out = Path(job.output_dir)
    tmp = out / ".final-tmp"
    if job.is_main:
        if not is_dataforge_folder(out):
            raise DataforgeError(f"{out} is not a dataforge output folder (no {MARKER}); nothing was written",
                                 "train into a new or empty -o folder")
        if tmp.exists():
            shutil.rmtree(tmp)  # left by an earlier run into this (dataforge) folder
    trainer.save_model(str(tmp))  # every rank calls it (collective under FSDP/DeepSpeed); rank 0 writes
    if not job.is_main:
        return []
    job.tokenizer.save_pretrained(str(tmp))
    items = [item for item in sorted(tmp.iterdir()) if item.name != "training_args.bin"]
    for item in items:
        target = out / item.name
        if target.is_dir() and not target.is_symlink() and not replaceable_folder(target):
            shutil.rmtree(tmp, ignore_errors=True)
            raise DataforgeError(f"{target} is a folder dataforge did not write; the trained model was not saved",
                                 "move that folder away and rerun with --resume (the checkpoints are kept)")
    names = []
    for item in items:
        target = out / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # empty or dataforge's own (checked above)
        if item.is_dir():
            write_marker(item, f"train -b {job.backend}")
        os.replace(item, target)
        names.append(item.name)
    shutil.rmtree(tmp, ignore_errors=True)
    return names
