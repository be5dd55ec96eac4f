"""Training: pluggable backends found through the entry-point group `dataforge.trainers`.

    >>> from dataforge.train import train, list_backends, merge_adapter
    >>> run = train("lora", "models/tiny", "data.jsonl", "out/lora", sets=["max_steps=20"])  # doctest: +SKIP

Importing this package never imports torch: options are validated and
backends listed without it. See `protocol.py` for writing a backend.
"""

from __future__ import annotations

from dataforge.train.options import LoraOptions, TrainOptions, TrainPlan, load_options
from dataforge.train.protocol import TrainerBackend, TrainJob, TrainResult
from dataforge.train.registry import GROUP, BackendInfo, get_backend, list_backends
from dataforge.train.run import train  # light: torch loads only when a backend trains

__all__ = ["train", "merge_adapter", "dry_run", "TrainOptions", "LoraOptions", "TrainPlan", "load_options",
           "TrainerBackend", "TrainJob", "TrainResult", "GROUP", "BackendInfo", "get_backend", "list_backends",
           "prepare_data"]


def dry_run(*args, **kwargs):
    """train(..., dry_run=True): checks and the memory estimate, no weights loaded."""
    from dataforge.train.run import train as _train

    return _train(*args, dry_run=True, **kwargs)


def merge_adapter(*args, **kwargs):
    """See dataforge.train.merge.merge_adapter."""
    from dataforge.train.merge import merge_adapter as _merge

    return _merge(*args, **kwargs)


def prepare_data(*args, **kwargs):
    """See dataforge.train.data.prepare_data (for backends that want dataforge's data handling)."""
    from dataforge.train.data import prepare_data as _prepare

    return _prepare(*args, **kwargs)
