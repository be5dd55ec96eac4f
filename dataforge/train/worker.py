"""One process of a multi-process training run, started by the launcher (see launch.py).

    python -m torch.distributed.run --standalone --nproc_per_node 2 -m dataforge.train.worker OUT/.launch/job.json

Reads the job the parent wrote, resolves the same options, loads the prepared
rows and runs the backend with this process's rank.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from dataforge.errors import DataforgeError


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
