"""Multi-process training through `torchrun` (DDP) or `accelerate launch` (FSDP/DeepSpeed configs).

The parent process has already checked the options and prepared the data; it
writes both into OUT/.launch/ and starts N copies of this module. Each worker
loads the same prepared rows (so every rank sees identical data), runs the
backend with its rank, and rank 0 writes the output folder. On CPU the
process group uses gloo; on GPUs NCCL (torchrun and accelerate pick it).

    python -m torch.distributed.run --standalone --nproc_per_node 2 -m dataforge.train.launch OUT/.launch/job.json
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


def command(job_file: Path, *, nproc: int, accelerate_config=None) -> list[str]:
    """The launcher command line for `job_file`."""
    if accelerate_config:
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(accelerate_config)]
        if nproc > 1:
            cmd += ["--num_processes", str(nproc)]
        return cmd + ["-m", "dataforge.train.launch", str(job_file)]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
            "-m", "dataforge.train.launch", str(job_file)]


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


def worker_main(job_file: str) -> int:
    import orjson

    from dataforge.progress import set_quiet
    from dataforge.train import checkpoints
    from dataforge.train.data import PreparedData
    from dataforge.train.run import CHECKPOINTS, execute, load_tokenizer, resolve

    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    set_quiet(rank != 0 or os.environ.get("DATAFORGE_QUIET") == "1")
    spec = json.loads(Path(job_file).read_text(encoding="utf-8"))
    res = resolve(spec["backend"], spec["model"], spec["data"], spec["output"], options=spec["options"])
    prepared = PreparedData(**orjson.loads(Path(spec["prepared"]).read_bytes()))
    point = None
    if spec["resume"]:
        complete, _ = checkpoints.scan(res.output / CHECKPOINTS)
        point = complete[-1] if complete else None
    tokenizer = load_tokenizer(res.model_dir)
    try:
        execute(res, tokenizer, prepared, point, rank=rank, world_size=world)
    except DataforgeError as exc:
        print(f"error (rank {rank}): {exc.message}" + (f"\nhint: {exc.hint}" if exc.hint else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1]))
