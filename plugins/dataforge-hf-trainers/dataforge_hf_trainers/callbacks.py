"""Trainer callbacks: the metrics file, the progress bar, checkpoint markers, padding counts."""

from __future__ import annotations

import contextlib

from transformers import TrainerCallback

from dataforge.progress import progress_bar
from dataforge.train.metrics import MetricsLog


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


class PaddingCounter:
    """Wraps a data collator and counts real vs padded token positions in every batch it builds."""

    def __init__(self, collator):
        self.collator = collator
        self.real = 0
        self.total = 0

    def __call__(self, examples):
        batch = self.collator(examples)
        ids = batch.get("input_ids")
        if ids is not None:
            mask = batch.get("attention_mask")
            self.total += ids.numel()
            self.real += int(mask.sum()) if mask is not None else ids.numel()  # padding-free: no pad at all
        return batch

    @property
    def share(self) -> float | None:
        return self.real / self.total if self.total else None


class DataforgeCallback(TrainerCallback):
    """Writes metrics.jsonl, shows the progress bar and marks checkpoints complete (rank 0 only)."""

    def __init__(self, job, counter: PaddingCounter | None = None):
        self.job = job
        self.log = MetricsLog(job.metrics_path if job.is_main else None)
        self.counter = counter
        self._stack = contextlib.ExitStack()
        self._bar = None
        self.first_loss = None
        self.last_loss = None

    def on_train_begin(self, args, state, control, **kwargs):
        if self.job.is_main and not self.job.quiet:
            self._bar = self._stack.enter_context(progress_bar(f"train {self.job.backend}", total=state.max_steps,
                                                               unit="steps"))
            if state.global_step:
                self._bar.advance(state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        if self._bar is not None:
            self._bar.advance(1)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = dict(logs or {})
        if "loss" in logs:
            self.first_loss = logs["loss"] if self.first_loss is None else self.first_loss
            self.last_loss = logs["loss"]
            if self._bar is not None:
                self._bar.update(description=f"train {self.job.backend} loss {logs['loss']:.4f}")
        if self.counter is not None and self.counter.share is not None:
            logs["nonpad_share"] = round(self.counter.share, 6)
        if state.is_world_process_zero:
            self.log.write(state.global_step, logs, state.epoch)

    def on_save(self, args, state, control, **kwargs):
        _barrier()  # every rank has written its part (e.g. its RNG state) before the marker
        if state.is_world_process_zero:
            path = self.job.checkpoint_dir / f"checkpoint-{state.global_step}"
            if path.is_dir():
                self.job.mark_checkpoint_complete(path, state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self._stack.close()
        self._bar = None
        self.log.close()
