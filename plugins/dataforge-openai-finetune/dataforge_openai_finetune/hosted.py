"""One hosted fine-tuning run: check the data, upload, create the job, follow it, write the results.

    >>> from dataforge_openai_finetune import finetune
    >>> run = finetune("gpt-4o-mini-2024-07-18", "data.jsonl", "out/ft", sets=["epochs=3"])  # doctest: +SKIP
    >>> run.extra["fine_tuned_model"]                                                        # doctest: +SKIP

`dataforge train --backend openai` lands here (the backend is `hosted`, so
the core hands over before loading a tokenizer or a model folder). The
order keeps mistakes cheap: options, model name, key and output folder are
checked first, then the data is converted and checked (a file OpenAI would
refuse stops here, before any upload), then the file is uploaded and the job
created, each recorded in the output folder at once so `--resume` reattaches.

Output folder: train.jsonl (+ validation.jsonl) as uploaded, openai_job.json
(ids), events.jsonl, metrics.jsonl, results.csv, result.json, README.md, and
dataforge_train.json (the core's run record, so `read_run` works on it).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from pathlib import Path

from dataforge.errors import ConfigError, DataforgeError
from dataforge.io.atomic import atomic_write_text
from dataforge.io.safety import write_marker
from dataforge.progress import is_quiet, progress_bar
from dataforge.train.options import load_options, read_config_file
from dataforge_openai_finetune import export as exp
from dataforge_openai_finetune import jobs
from dataforge_openai_finetune.card import hosted_card
from dataforge_openai_finetune.options import OpenAIOptions

RESULT = "result.json"
NAME = "openai"


def _say(text: str) -> None:
    if not is_quiet():
        print(text, file=sys.stderr, flush=True)


def resolve(model, data, output, *, config=None, sets=(), options=None) -> tuple[str, list[str], Path, OpenAIOptions]:
    file_values = read_config_file(config)
    model, data, output = (model or file_values.get("model"), data or file_values.get("data"),
                           output or file_values.get("output"))
    for flag, value in (("--model", model), ("--data", data), ("-o/--output", output)):
        if not value:
            raise ConfigError(f"{flag} is required", f"pass {flag} or set `{flag.lstrip('-').split('/')[0]}:` "
                              "in the --config file")
    opts = load_options(OpenAIOptions, config, sets, backend=NAME, base=options)
    model = str(model)
    if Path(model).is_dir():
        raise ConfigError(f"--model {model} is a local folder, but the openai backend fine-tunes a hosted model "
                          "by name", "pass a name such as gpt-4o-mini-2024-07-18, or use a local backend "
                          "(lora, full, ...) for this folder")
    paths = [str(d) for d in (data if isinstance(data, (list, tuple)) else [data])]
    out = Path(output)
    if any(Path(p).resolve() == out.resolve() for p in paths):
        raise ConfigError(f"{out}: the output folder would overwrite the data", "choose another -o")
    return model, paths, out, opts


def check_output(out: Path, resume: bool) -> jobs.JobState | None:
    state = jobs.JobState.load(out) if out.is_dir() else None
    if resume:
        if state is None or not (state.training_file or state.job_id):
            raise ConfigError(f"--resume: {out} holds no OpenAI fine-tuning job to reattach to",
                              "run without --resume to start one")
        return state
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        what = f"the OpenAI job {state.job_id}" if state and state.job_id else "files"
        raise ConfigError(f"{out} already holds {what}", "pass --resume to reattach to it, or choose an empty or "
                          "new -o folder")
    return None


def finetune(model, data, output, *, config=None, sets=(), options: dict | None = None, dry_run: bool = False,
             resume: bool = False, nproc: int | None = None, accelerate_config=None, mapping=None, fmt=None,
             strict: bool = False, on_event=None):
    """Run (or with dry_run, check) a hosted fine-tuning job; returns a TrainRun (or a DryRun)."""
    model, paths, out, opts = resolve(model, data, output, config=config, sets=sets, options=options)
    if (nproc and nproc > 1) or accelerate_config:
        raise ConfigError("--nproc/--accelerate-config do not apply: the openai backend trains on OpenAI's servers",
                          "drop them")
    problems = jobs.environment_problems(opts)
    if problems:
        raise ConfigError(f"backend 'openai' cannot run here: {problems[0]}", problems[1])
    state = None if dry_run else check_output(out, resume)
    export = exp.build(paths, out, eval_split=opts.eval_split, seed=opts.seed,
                       epochs=opts.epochs if isinstance(opts.epochs, int) else None,
                       price_per_1m_tokens=opts.price_per_1m_tokens, mapping=mapping, fmt=fmt, strict=strict)
    try:
        method = opts.method_for(export.kind)
    except ValueError as exc:
        raise ConfigError(f"backend 'openai': {exc}", "set method=auto, or use data of the other kind") from None
    for line in export.report.lines():
        _say(line)
    if dry_run:
        return _dry_run(model, opts, method, export)
    if state is not None:
        _check_same_run(state, out, model, export)
    else:
        state = jobs.JobState(model=model, method=method, fingerprint=export.fingerprint)
    export.write(out)
    write_marker(out, "train -b openai")  # the folder is dataforge's: a later run may replace it
    api = jobs.Api(opts)
    state.base_url = api.where
    resumed = state.job_id
    _submit(api, state, out, opts, model, method, export)
    try:
        with progress_bar("openai fine-tuning", unit="steps") as bar:
            done = jobs.follow(api, state.job_id, poll_interval=opts.poll_interval, max_wait=opts.max_wait,
                               bar=bar, on_event=on_event)
    except jobs.Stopped as stop:
        raise _stopped(stop, state, out, opts) from None
    state.status = done.job.status
    state.save(out)
    result = _write_results(api, done, state, out, opts, model, method, export, paths)
    if done.job.status != "succeeded":
        reason = jobs.failure_reason(done.job, done.events, api.redact)
        raise DataforgeError(f"OpenAI fine-tuning job {state.job_id} {done.job.status}: {reason}",
                             "fix the cause, then start a new job with another -o folder (events: "
                             f"{out / 'events.jsonl'}, uploaded data: {out / exp.TRAIN_FILE})")
    _say(f"fine-tuned model: {result['fine_tuned_model']} (job {state.job_id})")
    from dataforge.train.run import TrainRun

    return TrainRun(output=out, backend=NAME, kind="hosted", metrics=result["metrics"], counts=export.counts(),
                    global_step=int(result["metrics"].get("step", 0)), artifacts=result["artifacts"],
                    extra={k: result[k] for k in ("job_id", "fine_tuned_model", "status", "method", "training_file",
                                                  "validation_file", "result_files", "trained_tokens")},
                    rejects_path=export.rejects_path, resumed_from=resumed)


def _check_same_run(state: jobs.JobState, out: Path, model: str, export) -> None:
    if state.fingerprint and state.fingerprint != export.fingerprint:
        raise ConfigError(f"--resume with different data: {out} holds job {state.job_id or '(not created)'} for "
                          "other training data", "resume with the data of the first run, or choose a new -o folder")
    if state.model and state.model != model:
        raise ConfigError(f"--resume with another model: {out} holds a job for {state.model}, not {model}",
                          f"pass --model {state.model}, or choose a new -o folder")


def _submit(api: jobs.Api, state: jobs.JobState, out: Path, opts: OpenAIOptions, model: str, method: str,
            export) -> None:
    """Upload what is not uploaded yet and create the job unless it exists; record each id at once."""
    for key, attr in (("train", "training_file"), ("validation", "validation_file")):
        if key in export.files and getattr(state, attr) is None:
            name = export.files[key]["name"]
            with api.errors(f"uploading {name}", "nothing was created; rerun the same command"):
                uploaded = api.client.files.create(file=(name, export.bodies[key], "application/jsonl"),
                                                   purpose="fine-tune")
            setattr(state, attr, uploaded.id)
            state.save(out)
            _say(f"uploaded {name} as {uploaded.id}")
    if state.job_id is not None:
        _say(f"reattaching to job {state.job_id}")
        return
    body = {"model": model, "training_file": state.training_file,
            "method": {"type": method, method: {"hyperparameters": opts.hyperparameters(method)}}}
    for key in ("suffix", "seed"):
        if getattr(opts, key) is not None:
            body[key] = getattr(opts, key)
    if state.validation_file:
        body["validation_file"] = state.validation_file
    with api.errors("creating the fine-tuning job", "the file is uploaded; rerun with --resume to try again"):
        job = api.client.fine_tuning.jobs.create(**body)
    state.job_id, state.status = job.id, job.status
    state.save(out)
    _say(f"created job {job.id} ({method}, base {model})")


def _stopped(stop: jobs.Stopped, state: jobs.JobState, out: Path, opts: OpenAIOptions) -> DataforgeError:
    if opts.cancel_on_interrupt and stop.interrupted:
        status = cancel(out, options=opts)
        return DataforgeError(f"{stop.reason}; asked the server to cancel job {state.job_id} (status: {status})",
                              "start a new run (another -o folder) to train again")
    return DataforgeError(f"{stop.reason}; it keeps running on the server",
                          f"rerun the same command with --resume to reattach (job id in {out / jobs.STATE})")


def cancel(output, *, options: OpenAIOptions | None = None, sets=()) -> str:
    """Cancel the job recorded in `output`; returns the status the server reports."""
    out = Path(output)
    state = jobs.JobState.load(out)
    if state is None or not state.job_id:
        raise ConfigError(f"{out}: no OpenAI fine-tuning job recorded here", "pass the output folder of a run")
    api = jobs.Api(options or load_options(OpenAIOptions, None, sets, backend=NAME))
    with api.errors(f"cancelling job {state.job_id}"):
        job = api.client.fine_tuning.jobs.cancel(state.job_id)
    state.status = job.status
    state.save(out)
    return job.status


def _result_metrics(out: Path, files: list[str], metric_events: list[dict]) -> dict:
    """Final metrics: the last value of each column of the results CSV, else of the metrics events."""
    rows: list[dict] = []
    if files:
        for row in csv.DictReader(io.StringIO((out / files[0]).read_text(encoding="utf-8"))):
            rows.append({k: float(v) for k, v in row.items() if k and v not in ("", None)})
    rows = rows or [{k: v for k, v in m.items() if isinstance(v, (int, float))} for m in metric_events]
    metrics: dict = {}
    for row in rows:
        metrics.update(row)
    losses = [r["train_loss"] for r in rows if "train_loss" in r]
    if losses:
        metrics["first_logged_loss"], metrics["last_logged_loss"] = losses[0], losses[-1]
    if "step" in metrics:
        metrics["step"] = int(metrics["step"])
    return metrics


def _write_results(api, done, state, out, opts, model, method, export, paths) -> dict:
    job = done.job
    artifacts = [exp.TRAIN_FILE] + ([exp.VALID_FILE] if "validation" in export.files else [])
    atomic_write_text(out / "events.jsonl", "".join(json.dumps(e, default=str) + "\n" for e in done.events))
    atomic_write_text(out / "metrics.jsonl", "".join(json.dumps(m, default=str) + "\n" for m in done.metrics))
    files = jobs.download_results(api, job, out) if job.status == "succeeded" else []
    artifacts += ["events.jsonl", "metrics.jsonl", *files, RESULT, "README.md", jobs.STATE]
    hyper = job.hyperparameters.model_dump(exclude_none=True) if getattr(job, "hyperparameters", None) else {}
    method_obj = getattr(job, "method", None)
    inner = getattr(method_obj, method, None) if method_obj is not None else None
    if inner is not None and getattr(inner, "hyperparameters", None) is not None:
        hyper.update(inner.hyperparameters.model_dump(exclude_none=True))
    result = {
        "backend": NAME, "output": str(out), "status": job.status, "job_id": job.id,
        "fine_tuned_model": job.fine_tuned_model, "base_model": model, "method": method, "base_url": api.where,
        "training_file": state.training_file, "validation_file": state.validation_file,
        "result_files": list(job.result_files or []), "trained_tokens": job.trained_tokens,
        "hyperparameters": hyper, "metrics": _result_metrics(out, files, done.metrics),
        "error": jobs.failure_reason(job, done.events, api.redact) if job.status != "succeeded" else None,
        "estimated_cost": export.report.cost, "estimated_training_tokens": export.report.billed_tokens,
        "data": {"paths": paths, "shape": export.shape, "kind": export.kind, "counts": export.counts(),
                 "fingerprint": export.fingerprint, "files": export.files, "rejects_path": export.rejects_path},
        "options": opts.shown(), "created_at": job.created_at, "finished_at": job.finished_at,
        "artifacts": artifacts, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    atomic_write_text(out / RESULT, json.dumps(result, indent=2, default=str))
    if job.status == "succeeded":
        atomic_write_text(out / "README.md", hosted_card(result))
        _write_run_record(result)
    return result


def _write_run_record(result: dict) -> None:
    """dataforge_train.json in the core's shape, so dataforge.train.run.read_run reads this folder too."""
    from dataforge.train.run import RECORD

    record = {"backend": NAME, "output": result["output"], "base_model": {"name": result["base_model"]},
              "data": {k: v for k, v in result["data"].items() if k != "files"}, "options": result["options"],
              "result": {"kind": "hosted", "metrics": result["metrics"],
                         "global_step": int(result["metrics"].get("step", 0)), "artifacts": result["artifacts"],
                         "extra": {k: result[k] for k in ("job_id", "fine_tuned_model", "status", "method")}},
              "resumed_from": None, "finished": result["finished"]}
    atomic_write_text(Path(result["output"]) / RECORD, json.dumps(record, indent=2, default=str))


def _dry_run(model: str, opts: OpenAIOptions, method: str, export):
    from dataforge.train.dryrun import DryRun

    rep = export.report
    checks = [("backend", "ok", f"openai (hosted), method {method}, base model {model}"),
              ("data", "ok", f"{export.shape} shape, {export.kind}: {rep.examples:,} examples for training, "
                             f"{len(export.valid):,} for validation, {export.rejected:,} rejected"),
              ("OpenAI rules", "ok", f"at least 10 examples; every example passes ({rep.examples:,})")]
    checks += [("guidance", "note", g) for g in rep.guidance]
    cost = "-" if rep.cost is None else f"${rep.cost:,.2f}"
    memory = [("training tokens", f"{rep.billed_tokens:,}", f"{rep.epochs} epoch(s)"
               + ("" if rep.epochs_given else " (OpenAI's default for this size)")
               + (", estimated for o200k_base" if rep.estimated else "")),
              ("estimated cost", cost, "set price_per_1m_tokens for an estimate" if rep.cost is None else ""),
              ("local memory", "0", "trained on OpenAI's servers")]
    example = exp.chat_of(export.train[0]) if export.train else {}
    return DryRun(backend=NAME, options=opts.shown(), checks=checks, memory=memory, total_bytes=0.0, trainable=0,
                  params=0, steps=0, counts=export.counts(), example=example)
