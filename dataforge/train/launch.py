"""Multi-process training through `torchrun` (DDP) or `accelerate launch` (FSDP/DeepSpeed configs).

The parent process has already checked the options and prepared the data; it
writes both into OUT/.launch/ and starts N copies of `dataforge.train.worker`
(this module is the parent's side only: run.py imports it, the worker imports
run.py). Each worker loads the same prepared rows (so every rank sees identical
data), runs the backend with its rank, and rank 0 writes the output folder. On
CPU the process group uses gloo; on GPUs NCCL (torchrun and accelerate pick it).

    python -m torch.distributed.run --standalone --nproc_per_node 2 -m dataforge.train.worker OUT/.launch/job.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dataforge.errors import DataforgeError
from dataforge.io.atomic import atomic_write_text

LAUNCH_DIR = ".launch"
WORKER = "dataforge.train.worker"  # the module each process runs


def command(job_file: Path, *, nproc: int, accelerate_config=None) -> list[str]:
    """The launcher command line for `job_file`."""
    if accelerate_config:
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(accelerate_config)]
        if nproc > 1:
            cmd += ["--num_processes", str(nproc)]
        return cmd + ["-m", WORKER, str(job_file)]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
            "-m", WORKER, str(job_file)]


def write_job(res, prepared, *, resume: bool) -> Path:
    import orjson

    folder = res.output / LAUNCH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    rows = folder / "prepared.json"
    payload = {k: getattr(prepared, k) for k in ("kind", "shape", "train", "eval", "read", "rejected", "too_long",
                                                 "reasons", "rejects_path", "fingerprint", "lengths", "eos_note")}
    tmp = rows.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(payload))
    os.replace(tmp, rows)
    job = {"backend": res.backend_name, "model": str(res.model_dir), "data": res.data, "output": str(res.output),
           "options": res.options.model_dump(mode="json", exclude_unset=True), "prepared": str(rows),
           "resume": resume}
    path = folder / "job.json"
    atomic_write_text(path, json.dumps(job, indent=2))
    return path


def launch(res, prepared, *, resume: bool, nproc: int, accelerate_config=None) -> None:
    job_file = write_job(res, prepared, resume=resume)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # N processes share the cores
    from dataforge.progress import is_quiet

    if is_quiet():
        env["DATAFORGE_QUIET"] = "1"
    proc = subprocess.run(command(job_file, nproc=nproc, accelerate_config=accelerate_config), env=env)
    if proc.returncode != 0:
        raise DataforgeError(f"distributed training failed (launcher exit code {proc.returncode})",
                             "the worker error is printed above; rerun without --nproc to debug in one process")
