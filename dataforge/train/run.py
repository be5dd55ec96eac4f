"""`dataforge train`: resolve options, check everything, prepare data, run a backend, write the folder.

    >>> from dataforge.train import train
    >>> run = train("lora", "models/tiny", "data.jsonl", "out/lora", sets=["r=8", "max_steps=20"])  # doctest: +SKIP
    >>> run.metrics["train_loss"]                                                                  # doctest: +SKIP

Order matters: the backend, the options and the folders are checked first
(no torch imported; a wrong combination fails in well under a second), then
the tokenizer is loaded and the data is rendered and checked, and only then
are weights loaded. `dry_run=True` stops before the weights and returns the
report with the memory estimate instead.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.errors import ConfigError, InputError
from dataforge.io.atomic import atomic_write_text
from dataforge.io.safety import MARKER, check_outputs, is_dataforge_folder, write_marker
from dataforge.train import checkpoints
from dataforge.train.options import JOB_KEYS, TrainOptions, load_options, read_config_file
from dataforge.train.registry import get_backend

RECORD = "dataforge_train.json"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
WORKER_ENV = "DATAFORGE_TRAIN_WORKER"


@dataclass
class Resolved:
    backend_name: str
    backend: object
    options: TrainOptions
    model_dir: Path
    data: list[str]
    output: Path
    model_config: dict


@dataclass
class TrainRun:
    output: Path
    backend: str
    kind: str
    metrics: dict
    counts: dict
    global_step: int
    artifacts: list[str]
    extra: dict = field(default_factory=dict)
    rejects_path: str | None = None
    resumed_from: str | None = None
    world_size: int = 1

    @property
    def metrics_path(self) -> Path:
        return self.output / METRICS


def resolve(backend: str | None, model, data, output, *, config=None, sets=(), options: dict | None = None) -> Resolved:
    """Backend, validated options and paths; fast (no torch), raises ConfigError/InputError."""
    from dataforge.train.memory import read_model_config

    file_values = read_config_file(config)
    backend = backend or file_values.get("backend")
    model = model or file_values.get("model")
    data = data or file_values.get("data")
    output = output or file_values.get("output")
    for name, value in (("--backend", backend), ("--model", model), ("--data", data), ("-o/--output", output)):
        if not value:
            raise ConfigError(f"{name} is required", f"pass {name} or set `{name.lstrip('-').split('/')[0]}:` "
                              "in the --config file")
    obj = get_backend(str(backend))
    opts = load_options(obj.options_model, config, sets, backend=str(backend), base=options)
    # Absolute: it is written into the record, the model card and the adapter's config, which are read from
    # other folders later (a relative path would only work from today's working directory).
    model_dir = Path(os.path.abspath(model))
    model_config = read_model_config(model_dir)
    problems = list(getattr(obj, "check_model", lambda o, c: [])(opts, model_config))
    if problems:
        raise ConfigError(f"backend '{backend}' with this model: {problems[0]}", "change the option named above")
    data_list = [str(d) for d in (data if isinstance(data, (list, tuple)) else [data])]
    out = Path(output)
    check_outputs([out], [data_list, str(model)], kind="dir", labels=["-o"])  # io/safety.py: never destroy
    return Resolved(str(backend), obj, opts, model_dir, data_list, out, model_config)


def check_environment(res: Resolved) -> None:
    problems = res.backend.check_environment(res.options)
    if problems:
        raise ConfigError(f"backend '{res.backend_name}' cannot run here: {problems[0]}",
                          problems[1] if len(problems) > 1 else "see `dataforge plugins`")


def check_output(out: Path, resume: bool) -> None:
    if resume:
        if not (out / CHECKPOINTS).is_dir():
            raise ConfigError(f"--resume: {out} holds no checkpoints to resume from",
                              "run without --resume to start a new training")
        if not _is_training_folder(out):
            raise ConfigError(f"--resume: {out} is not a folder dataforge trained into (no {MARKER}, no "
                              "dataforge checkpoint); it is left as it is", "pass the -o folder of a dataforge run")
        return
    if out.exists() and (not out.is_dir() or any(p.name != MARKER for p in out.iterdir())):
        what = "a training run" if (out / CHECKPOINTS).exists() or (out / RECORD).exists() else "files"
        raise ConfigError(f"{out} already holds {what}",
                          "pass --resume to continue it, or choose an empty or new -o folder")


def _is_training_folder(out: Path) -> bool:
    """Marked by dataforge, or (a run from before the marker) holding dataforge's own checkpoints or record."""
    return is_dataforge_folder(out) or (out / RECORD).is_file() or bool(checkpoints.scan(out / CHECKPOINTS)[0])


def load_tokenizer(model_dir: Path):
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(model_dir))
    except (OSError, ValueError) as exc:
        raise InputError(f"{model_dir}: cannot load the tokenizer ({exc})",
                         "the model folder needs its tokenizer files (tokenizer.json / tokenizer.model)") from None
    if tok.pad_token is None:
        if tok.eos_token is None:
            raise InputError(f"{model_dir}: the tokenizer has neither a pad nor an EOS token",
                             "add a pad token to the tokenizer (tokenizer.add_special_tokens) and save it")
        tok.pad_token = tok.eos_token  # labels come from the masks, so EOS stays trained
    return tok


def prepare(res: Resolved, tokenizer, *, mapping=None, fmt=None, strict=False, write_rejects=True):
    from dataforge.train.data import prepare_data
    from dataforge.train.render import check_template

    check_template(res.options.template, tokenizer, res.options.lang)
    # A backend that trains on other rows than SFT examples or pairs (RL prompts, unpaired KTO) prepares its own.
    prepare_rows = getattr(res.backend, "prepare_data", None) or prepare_data
    return prepare_rows(res.data, tokenizer, res.options, output=res.output, model_dir=res.model_dir,
                        mapping=mapping, fmt=fmt, strict=strict, write_rejects=write_rejects,
                        expect_kind=res.options.data_kind(), backend=res.backend_name)


def train(backend: str | None, model, data, output, *, config=None, sets=(), options: dict | None = None,
          dry_run: bool = False, resume: bool = False, nproc: int | None = None, accelerate_config=None,
          mapping=None, fmt=None, strict: bool = False, callbacks=None):
    """Train (or with dry_run, check and estimate); returns TrainRun or DryRun."""
    name = backend or read_config_file(config).get("backend")
    if name and getattr(hosted := get_backend(str(name)), "hosted", False):
        # A hosted service trains on the raw records and a model name: no tokenizer, no local model folder.
        return hosted.run_hosted(model, data, output, config=config, sets=sets, options=options, dry_run=dry_run,
                                 resume=resume, nproc=nproc, accelerate_config=accelerate_config, mapping=mapping,
                                 fmt=fmt, strict=strict)
    res = resolve(backend, model, data, output, config=config, sets=sets, options=options)
    check_environment(res)
    if accelerate_config is not None and not Path(accelerate_config).is_file():
        raise ConfigError(f"--accelerate-config {accelerate_config}: no such file",
                          "write one with `accelerate config --config_file FILE`")
    if nproc is not None and nproc < 1:
        raise ConfigError(f"--nproc {nproc}: must be at least 1")
    if not dry_run:
        check_output(res.output, resume)
    tokenizer = load_tokenizer(res.model_dir)
    prepared = prepare(res, tokenizer, mapping=mapping, fmt=fmt, strict=strict)
    if dry_run:
        from dataforge.train.dryrun import build_report

        return build_report(res, tokenizer, prepared, world_size=nproc or 1)
    point = _resume_point(res, prepared.fingerprint) if resume else None
    claim_output(res.output, res.backend_name)
    if (nproc and nproc > 1) or accelerate_config:
        from dataforge.train.launch import launch

        if callbacks:
            raise ConfigError("callbacks cannot be passed to worker processes (--nproc/--accelerate-config)",
                              "train in one process to use Python callbacks")
        launch(res, prepared, resume=point is not None, nproc=nproc or 1, accelerate_config=accelerate_config)
        return read_run(res.output)
    return execute(res, tokenizer, prepared, point, callbacks=callbacks or [])


def claim_output(out: Path, backend: str) -> None:
    """Create the output folder and mark it as dataforge's: only what is inside may later be replaced."""
    out.mkdir(parents=True, exist_ok=True)
    write_marker(out, f"train -b {backend}")


def _resume_point(res: Resolved, fingerprint: str):
    point, broken = checkpoints.find_resume_point(res.output / CHECKPOINTS, fingerprint=fingerprint,
                                                  backend=res.backend_name)
    checkpoints.discard(broken)
    checkpoints.trim_metrics(res.output / METRICS, point.step)
    return point


def execute(res: Resolved, tokenizer, prepared, point, *, callbacks=(), rank: int = 0, world_size: int = 1) -> TrainRun:
    """Run the backend on prepared data; rank 0 writes the record and the model card."""
    from dataforge.progress import is_quiet
    from dataforge.train.protocol import TrainJob

    if rank == 0:
        claim_output(res.output, res.backend_name)
    res.output.mkdir(parents=True, exist_ok=True)
    job = TrainJob(backend=res.backend_name, model_dir=res.model_dir, output_dir=res.output, options=res.options,
                   tokenizer=tokenizer, train_rows=prepared.train, eval_rows=prepared.eval, data_kind=prepared.kind,
                   fingerprint=prepared.fingerprint, checkpoint_dir=res.output / CHECKPOINTS,
                   resume_from=point.path if point else None, metrics_path=res.output / METRICS,
                   callbacks=list(callbacks), rank=rank, world_size=world_size, quiet=is_quiet())
    started = time.time()
    result = res.backend.train(job)
    run = TrainRun(output=res.output, backend=res.backend_name, kind=result.kind, metrics=dict(result.metrics),
                   counts=prepared.counts(), global_step=result.global_step, artifacts=list(result.artifacts),
                   extra=dict(result.extra), rejects_path=prepared.rejects_path,
                   resumed_from=str(point.path) if point else None, world_size=world_size)
    if rank == 0:
        write_record(res, prepared, run, seconds=time.time() - started, world_size=world_size)
    return run


def _file_hashes(paths: list[str]) -> dict[str, str]:
    out = {}
    for p in paths:
        path = Path(p)
        if not path.is_file():
            continue
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[p] = h.hexdigest()
    return out


def _versions() -> dict[str, str]:
    out = {}
    for name in ("dataforge", "dataforge-hf-trainers", "torch", "transformers", "trl", "peft", "accelerate",
                 "bitsandbytes"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return out


def write_record(res: Resolved, prepared, run: TrainRun, *, seconds: float, world_size: int) -> dict:
    """dataforge_train.json (the resolved config and results) and README.md (the model card), written last."""
    from dataforge.train.card import model_card

    cfg = res.model_config
    record = {
        "backend": res.backend_name,
        "output": os.path.abspath(res.output),
        "base_model": {"path": str(res.model_dir), "arch": (cfg.get("architectures") or ["?"])[0],
                       "layers": cfg.get("num_hidden_layers"), "hidden": cfg.get("hidden_size")},
        "data": {"paths": res.data, "shape": prepared.shape, "kind": prepared.kind, "counts": prepared.counts(),
                 "fingerprint": prepared.fingerprint, "file_hashes": _file_hashes(res.data),
                 "rejects_path": prepared.rejects_path, "tokens": prepared.tokens},
        "options": res.options.model_dump(mode="json"),
        "result": {"kind": run.kind, "metrics": run.metrics, "global_step": run.global_step,
                   "artifacts": run.artifacts, "extra": run.extra},
        "resumed_from": run.resumed_from,
        "world_size": world_size,
        "seconds": round(seconds, 3),
        "versions": _versions(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    atomic_write_text(res.output / "README.md", model_card(record))
    atomic_write_text(res.output / RECORD, json.dumps(record, indent=2, default=str))
    return record


def read_run(output: Path) -> TrainRun:
    path = Path(output) / RECORD
    if not path.is_file():
        raise InputError(f"{output}: no finished training run here ({RECORD} missing)")
    rec = json.loads(path.read_text(encoding="utf-8"))
    r = rec["result"]
    return TrainRun(output=Path(output), backend=rec["backend"], kind=r["kind"], metrics=r["metrics"],
                    counts=rec["data"]["counts"], global_step=r["global_step"], artifacts=r["artifacts"],
                    extra=r.get("extra", {}), rejects_path=rec["data"].get("rejects_path"),
                    resumed_from=rec.get("resumed_from"), world_size=rec.get("world_size", 1))


__all__ = ["train", "resolve", "execute", "read_run", "TrainRun", "Resolved", "JOB_KEYS"]
