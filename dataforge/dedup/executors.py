"""Run the MinHash stages with datatrove's executors: local (default), Slurm or Ray.

Every stage gets its own logging folder under the work folder, where
datatrove writes a completion marker per finished task
(`logs/<stage>/completions/00003`). A run that was killed and is started
again with the same arguments skips every task that has a marker, in all
three executors; that is datatrove's own restart mechanism.

- local: `LocalPipelineExecutor`, `--workers` processes (1 runs in-process).
- ray: `RayPipelineExecutor` on the cluster at `--ray-address` / RAY_ADDRESS,
  or a local Ray started with `--workers` CPUs. Blocks until done.
- slurm: `SlurmPipelineExecutor` jobs chained with `afterok` dependencies
  (signatures -> buckets -> clusters -> finalize); `dataforge dedup` submits
  them and returns. The work folder must be on a filesystem the nodes share.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from dataclasses import dataclass, field

from dataforge.dedup.workers import dying_with_this_process
from dataforge.errors import ConfigError, MissingDependency
from dataforge.progress import progress_bar

EXECUTORS = ("local", "slurm", "ray")
SHARD_FILES = 64
SMALL = 20_000  # fewer key texts than this: one in-process task beats starting worker processes


@dataclass
class ExecutorOptions:
    """Where the MinHash stages run. Slurm/Ray fields are ignored by the local executor."""

    kind: str = "local"
    workers: int | None = None  # tasks at once: local processes, Ray CPUs, Slurm array limit (None: auto)
    tasks: int | None = None  # signature tasks (None: as many as workers; 8 on Slurm)
    partition: str | None = None
    time: str = "04:00:00"
    cpus_per_task: int = 1
    mem_per_cpu_gb: float = 2.0
    logging_dir: str | None = None  # default: <work>/logs
    job_name: str = "dataforge-dedup"
    env_command: str | None = None  # e.g. "source /shared/venv/bin/activate"; default: this venv
    qos: str | None = None
    sbatch_args: dict = field(default_factory=dict)
    ray_address: str | None = None

    def check(self) -> None:
        if self.kind not in EXECUTORS:
            raise ConfigError(f"--executor '{self.kind}' is not one of {', '.join(EXECUTORS)}")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"--workers must be at least 1 (got {self.workers})")
        if self.tasks is not None and self.tasks < 1:
            raise ConfigError(f"--tasks must be at least 1 (got {self.tasks})")
        if self.cpus_per_task < 1:
            raise ConfigError(f"--cpus-per-task must be at least 1 (got {self.cpus_per_task})")
        if self.kind == "slurm" and not self.partition:
            raise ConfigError("--executor slurm needs --partition", "e.g. --partition cpu --time 04:00:00")

    def shard_files(self) -> int:
        """Key shard files the prepare pass writes: an upper bound on signature tasks."""
        return max(SHARD_FILES, self.tasks or 0, self.workers or 0)

    def plan(self, keys: int) -> tuple[int, int]:
        """(signature tasks, tasks at once) for `keys` texts to sign."""
        cpus = os.cpu_count() or 1
        if self.kind == "slurm":
            return min(self.tasks or self.workers or 8, self.shard_files()), self.workers or -1
        workers = self.workers or (cpus if self.kind == "ray" or keys >= SMALL else 1)
        return min(self.tasks or workers, self.shard_files()), workers


def _quiet_local_executor():
    from datatrove.executor.local import LocalPipelineExecutor

    class QuietLocalExecutor(LocalPipelineExecutor):
        # datatrove prints INFO logs of local rank 0 to the console; dataforge shows progress bars
        # instead, so every task runs as a rank > 0 (errors still print; full logs go to logging_dir).
        def _launch_run_for_rank(self, rank, ranks_q, completed=None, completed_lock=None):
            local_rank = ranks_q.get()
            try:
                return self._run_for_rank(rank, local_rank + 1)
            finally:
                if completed is not None and completed_lock is not None:
                    with completed_lock:
                        completed.value += 1
                ranks_q.put(local_rank)

    return QuietLocalExecutor


@contextlib.contextmanager
def _silence_driver_logs():
    """datatrove's executor chatter (stats tables, 'launching...') off the console in this process."""
    from loguru import logger

    modules = ("datatrove.executor.local", "datatrove.executor.ray", "datatrove.executor.slurm",
               "datatrove.executor.base")
    for m in modules:
        logger.disable(m)
    try:
        yield
    finally:
        for m in modules:
            logger.enable(m)


def _count_done(logging_dir: str) -> int:
    folder = os.path.join(logging_dir, "completions")
    try:
        return len(os.listdir(folder))
    except FileNotFoundError:
        return 0


@contextlib.contextmanager
def _stage_bar(name: str, logging_dir: str, tasks: int):
    """A progress bar counting the stage's completion markers while it runs."""
    stop = threading.Event()
    with progress_bar(f"near: {name}", total=tasks, unit="tasks") as bar:
        seen = _count_done(logging_dir)
        bar.advance(seen)

        def poll():
            nonlocal seen
            while not stop.wait(0.25):
                now = _count_done(logging_dir)
                if now > seen:
                    bar.advance(now - seen)
                    seen = now

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            now = _count_done(logging_dir)
            if now > seen:
                bar.advance(now - seen)


def run_stages(stages, opts: ExecutorOptions, workers: int, logs_root: str, finalize_step=None) -> list[str]:
    """Run (name, pipeline, tasks) stages in order; on Slurm, submit them (plus `finalize_step`).

    Returns the Slurm job ids (empty for local and Ray, which finish before returning).
    """
    with _silence_driver_logs():
        if opts.kind == "local":
            _run_local(stages, workers, logs_root)
        elif opts.kind == "ray":
            _run_ray(stages, opts, workers, logs_root)
        else:
            return _submit_slurm(stages, opts, workers, logs_root, finalize_step)
    return []


def _run_local(stages, workers: int, logs_root: str) -> None:
    from datatrove.utils.logging import setup_default_logger

    executor_cls = _quiet_local_executor()
    for name, pipeline, tasks in stages:
        logging_dir = os.path.join(logs_root, name)
        stage_workers = _local_workers(pipeline, workers, tasks)
        if stage_workers == 1 and type(pipeline[0]).__name__ == "SortedBuckets":
            tasks = 1  # one task signs off every bucket: datatrove's set-up per task cost more than a bucket
        executor = executor_cls(pipeline, tasks=tasks, workers=stage_workers, logging_dir=logging_dir)
        # Tasks run in this process print datatrove's console output (a tqdm bar, error logs) to
        # stderr: keep it off the console unless the stage fails. Full logs are in logging_dir.
        captured = io.StringIO()
        with _stage_bar(name, logging_dir, tasks):
            try:
                with contextlib.redirect_stderr(captured), dying_with_this_process():
                    executor.run()
            except BaseException:
                sys.stderr.write(captured.getvalue()[-8000:])
                raise
            finally:
                setup_default_logger()  # loguru's console sink back on the real stderr


IN_PROCESS_BYTES = 256 << 20  # signature files below this: the vectorised bucket stage runs in this process


def _local_workers(pipeline, workers: int, tasks: int) -> int:
    """Processes for a local stage. The bucket stage is a few numpy sorts per bucket: on small inputs
    starting worker processes (each imports datatrove and dataforge) costs more than the work."""
    step = pipeline[0]
    folder = getattr(getattr(step, "input_folder", None), "path", None)
    if workers > 1 and type(step).__name__ == "SortedBuckets" and folder and os.path.isdir(folder):
        size = sum(e.stat().st_size for d in os.scandir(folder) if d.is_dir() for e in os.scandir(d.path))
        if size < IN_PROCESS_BYTES:
            return 1
    return max(1, min(workers, tasks))


def _run_ray(stages, opts: ExecutorOptions, workers: int, logs_root: str) -> None:
    try:
        import ray
    except ImportError as exc:
        raise MissingDependency("ray", "pip install 'dataforge[ray]'", feature="--executor ray") from exc
    from datatrove.executor.ray import RayPipelineExecutor

    started = False
    if not ray.is_initialized():
        address = opts.ray_address or os.environ.get("RAY_ADDRESS")
        kwargs = {"include_dashboard": False, "log_to_driver": False}
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=workers * opts.cpus_per_task, **kwargs)
        started = True
    try:
        for name, pipeline, tasks in stages:
            logging_dir = os.path.join(logs_root, name)
            executor = RayPipelineExecutor(pipeline, tasks=tasks, workers=min(workers, tasks),
                                           logging_dir=logging_dir, cpus_per_task=opts.cpus_per_task,
                                           mem_per_cpu_gb=opts.mem_per_cpu_gb)
            with _stage_bar(name, logging_dir, tasks):
                executor.run()
            missing = tasks - _count_done(logging_dir)
            if missing:
                raise RuntimeError(f"ray: {missing} of {tasks} '{name}' tasks did not finish;"
                                   f" see the task logs in {logging_dir}/logs")
    finally:
        if started:
            ray.shutdown()


def _submit_slurm(stages, opts: ExecutorOptions, workers: int, logs_root: str, finalize_step) -> list[str]:
    from datatrove.executor.slurm import SlurmPipelineExecutor

    env_command = opts.env_command
    venv = None
    if env_command is None and sys.prefix != sys.base_prefix:
        venv = os.path.join(sys.prefix, "bin", "activate")
    all_stages = list(stages) + ([("finalize", [finalize_step], 1)] if finalize_step is not None else [])
    previous, executors = None, []
    for name, pipeline, tasks in all_stages:
        executor = SlurmPipelineExecutor(
            pipeline=pipeline, tasks=tasks, workers=workers, time=opts.time, partition=opts.partition,
            cpus_per_task=opts.cpus_per_task, mem_per_cpu_gb=opts.mem_per_cpu_gb,
            job_name=f"{opts.job_name}-{name}", logging_dir=os.path.join(logs_root, name),
            env_command=env_command, venv_path=venv, qos=opts.qos or "", sbatch_args=dict(opts.sbatch_args),
            depends=previous)
        executors.append(executor)
        previous = executor
    previous.run()  # launches its dependencies first, each with --dependency=afterok:<previous job>
    return [str(e.job_id) for e in executors]
