"""Resumable checkpoints: which are complete, which data they belong to.

A trainer writes `checkpoint-N/` file by file; a run killed in the middle
leaves a folder that looks like a checkpoint but is not one. So a checkpoint
counts as complete only once its marker `dataforge-checkpoint.json` exists,
written after everything else (atomically). The marker also records the
fingerprint of the training data: resuming with other data is refused,
because the saved data position (and the optimizer state) would be meaningless.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from dataforge.errors import ConfigError
from dataforge.io.atomic import atomic_write_text
from dataforge.io.safety import is_dataforge_folder

MARKER = "dataforge-checkpoint.json"
_CKPT = re.compile(r"^checkpoint-(\d+)$")


def write_marker(path: Path, *, fingerprint: str, step: int, backend: str) -> None:
    atomic_write_text(path / MARKER, json.dumps({"step": step, "fingerprint": fingerprint, "backend": backend,
                                                 "written": time.time()}, indent=2))


@dataclass
class ResumePoint:
    path: Path
    step: int
    fingerprint: str
    backend: str


def scan(checkpoint_dir: Path) -> tuple[list[ResumePoint], list[Path]]:
    """(complete checkpoints oldest first, half-written folders)."""
    complete, broken = [], []
    if not checkpoint_dir.is_dir():
        return complete, broken
    for child in checkpoint_dir.iterdir():
        m = _CKPT.match(child.name)
        if not m or not child.is_dir():
            continue
        try:
            meta = json.loads((child / MARKER).read_text())
            complete.append(ResumePoint(child, int(m.group(1)), meta["fingerprint"], meta.get("backend", "")))
        except (OSError, ValueError, KeyError):
            broken.append(child)
    complete.sort(key=lambda p: p.step)
    return complete, broken


def find_resume_point(checkpoint_dir: Path, *, fingerprint: str, backend: str) -> tuple[ResumePoint, list[Path]]:
    """The last complete checkpoint for this data; raises ConfigError when there is none or the data differs."""
    complete, broken = scan(checkpoint_dir)
    if not complete:
        extra = f" ({len(broken)} half-written folder(s) ignored)" if broken else ""
        raise ConfigError(f"--resume: no complete checkpoint in {checkpoint_dir}{extra}",
                          "run without --resume to start from the beginning")
    last = complete[-1]
    if last.backend and last.backend != backend:
        raise ConfigError(f"--resume: the checkpoints in {checkpoint_dir} were written by backend "
                          f"'{last.backend}', not '{backend}'", f"use --backend {last.backend} or another -o")
    if last.fingerprint != fingerprint:
        raise ConfigError(
            f"--resume: the data differs from the data {last.path.name} was trained on "
            f"(fingerprint {fingerprint[:12]} vs {last.fingerprint[:12]})",
            "resume with the same data, template, max_length and eval_split, or train into a new -o folder")
    return last, broken


def discard(broken: list[Path]) -> list[Path]:
    """Remove half-written checkpoint folders so the trainer's rotation never keeps them over good ones.

    Only folders dataforge's trainer made: `checkpoint-N` folders (not links) in the checkpoints
    folder of an output folder dataforge marked as its own, or one that holds dataforge's complete
    checkpoints (runs from before the marker). Anything else is left alone; returns what was removed.
    """
    removed = []
    for path in broken:
        parent = path.parent
        ours = is_dataforge_folder(parent.parent) or bool(scan(parent)[0])
        if not ours or path.is_symlink() or not path.is_dir() or not _CKPT.match(path.name):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def trim_metrics(metrics_path: Path, step: int) -> int:
    """Drop metric lines logged after `step` (they belong to the interrupted part); returns lines kept."""
    if not metrics_path.is_file():
        return 0
    kept = []
    for line in metrics_path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except ValueError:
            continue  # a line cut short by the interruption
    atomic_write_text(metrics_path, "".join(f"{line}\n" for line in kept))
    return len(kept)
