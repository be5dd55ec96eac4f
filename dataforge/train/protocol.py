"""The trainer backend protocol: what a plugin provides and what it is given.

A backend is any object with these attributes, registered under the
entry-point group `dataforge.trainers` (see `dataforge.train.registry`):

    class MyBackend:
        name = "mine"
        description = "One line shown by `dataforge plugins`."
        options_model = MyOptions            # a subclass of dataforge.train.TrainOptions

        def check_environment(self, options) -> list[str]:
            return []                        # problems that stop the run before anything loads

        def train(self, job: TrainJob) -> TrainResult:
            ...                              # job.train_rows are tokenized, with labels

Importing the object must stay light (no torch at module top level), so that
`dataforge plugins` and option validation stay fast; import heavy libraries
inside `train`. Optional: `check_model(options, model_config) -> list[str]`
(checks against the model's config.json), `prepare_data(data, tokenizer,
options, **same keywords as dataforge.train.data.prepare_data)` returning a
`PreparedData` (for rows other than SFT examples or pairs, e.g. RL prompts),
and for a hosted service
`hosted = True` with `run_hosted(model, data, output, **train_kwargs)`, which
then receives the raw arguments instead of a TrainJob (see the openai plugin).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from dataforge.train.options import TrainOptions


@dataclass
class TrainJob:
    """Everything a backend needs for one run; data is already rendered, tokenized and checked."""

    backend: str
    model_dir: Path
    output_dir: Path
    options: TrainOptions
    tokenizer: Any  # a transformers tokenizer, already loaded (pad token set)
    train_rows: list[dict]  # sft: input_ids, labels; preference: prompt/chosen/rejected (+ *_ids)
    eval_rows: list[dict]
    data_kind: str  # "instruction" | "preference"
    fingerprint: str  # hash of the prepared training data (resume refuses other data)
    checkpoint_dir: Path  # where resumable checkpoints go
    resume_from: Path | None = None  # last complete checkpoint, when resuming
    metrics_path: Path | None = None  # JSONL: one line per logged step
    callbacks: list = field(default_factory=list)  # extra callbacks for the backend's trainer (Python API)
    rank: int = 0
    world_size: int = 1
    quiet: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def mark_checkpoint_complete(self, path: str | os.PathLike, step: int) -> None:
        """Backends call this after a checkpoint folder is fully written (see checkpoints.py)."""
        from dataforge.train.checkpoints import write_marker

        write_marker(Path(path), fingerprint=self.fingerprint, step=step, backend=self.backend)


@dataclass
class TrainResult:
    """What a backend returns: final metrics and what it wrote into the output folder."""

    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)  # files written into job.output_dir
    kind: str = "model"  # "adapter" (LoRA weights only) or "model" (full weights)
    global_step: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. per-rank weight checksums, reference model


@runtime_checkable
class TrainerBackend(Protocol):
    name: str
    description: str
    options_model: type[TrainOptions]

    def check_environment(self, options: TrainOptions) -> list[str]: ...

    def train(self, job: TrainJob) -> TrainResult: ...


def check_backend_object(obj: Any, entry_name: str) -> str | None:
    """Why `obj` is not a usable backend, or None when it is."""
    missing = [a for a in ("name", "description", "options_model", "check_environment", "train")
               if not hasattr(obj, a)]
    if missing:
        return f"entry point '{entry_name}' does not provide {', '.join(missing)}"
    if not (isinstance(obj.options_model, type) and issubclass(obj.options_model, TrainOptions)):
        return f"entry point '{entry_name}': options_model must subclass dataforge.train.TrainOptions"
    if not callable(obj.train):
        return f"entry point '{entry_name}': train is not callable"
    return None

