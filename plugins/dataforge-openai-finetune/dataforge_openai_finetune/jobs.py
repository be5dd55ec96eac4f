"""Talking to the fine-tuning API: the client, the job record in the output folder, following a job.

Every step that creates something on the server (the uploaded file, the
job) is recorded in `OUT/openai_job.json` as soon as the server answers, so
`--resume` after a crash or Ctrl-C reattaches instead of uploading or
creating again. The API key is read from the environment, handed to the
client and scrubbed from every message this module produces; it is never
written anywhere.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dataforge.errors import ConfigError, DataforgeError, require
from dataforge.io.atomic import atomic_write_text
from dataforge.io.paths import safe_filename
from dataforge.llm.openai_backend import safe_url
from dataforge.llm.secrets import Redactor, read_api_key

STATE = "openai_job.json"
TERMINAL = ("succeeded", "failed", "cancelled")
HINTS = {401: "check the key in the variable named by api_key_env (default OPENAI_API_KEY)",
         403: "check the key's permissions (fine-tuning needs them) and base_url",
         404: "check --model (a model you may fine-tune) and base_url (it usually ends in /v1)",
         429: "you hit a rate or quota limit; wait and rerun with --resume"}


def api_key(options) -> str | None:
    """The key (surrounding whitespace stripped), or None when none is set (a local server given by
    base_url may not need one). A key with control characters inside is a ConfigError that does not show it."""
    return read_api_key(options.api_key_env)[0]


def environment_problems(options) -> list[str]:
    import importlib.util

    if importlib.util.find_spec("openai") is None:
        return ["the openai package is not installed", "pip install openai"]
    if api_key(options) is None and options.resolved_base_url() is None:
        return [f"no API key: the environment variable {options.api_key_env} is not set",
                f"export {options.api_key_env}=... (or --set api_key_env=NAME); keys are never read from files"]
    return []


class Api:
    """The `openai` client plus what turns its exceptions into clear, key-free errors."""

    def __init__(self, options):
        openai = require("openai", feature="OpenAI fine-tuning")
        self.base_url = options.resolved_base_url()
        key, raw = read_api_key(options.api_key_env)
        self.redact = Redactor([key or "", raw or ""])  # every spelling: stripped, raw, escaped
        self.openai = openai
        self.client = openai.OpenAI(api_key=key or "not-needed", base_url=self.base_url,
                                    timeout=options.request_timeout, max_retries=2)
        del key, raw

    @property
    def where(self) -> str:
        return safe_url(self.base_url)

    @contextlib.contextmanager
    def errors(self, action: str, hint: str | None = None):
        """Raise DataforgeError naming `action` for any API failure."""
        openai = self.openai
        try:
            yield
        except openai.APIStatusError as exc:
            msg = _message(exc.body) or exc.response.reason_phrase or ""
            raise DataforgeError(f"{action}: HTTP {exc.status_code} from {self.where}: {self.redact(msg)[:400]}",
                                 HINTS.get(exc.status_code, hint)) from None
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            raise DataforgeError(f"{action}: cannot reach {self.where} ({self.redact(str(cause))[:200]})",
                                 hint or "check the network and base_url, then rerun with --resume") from None


def _message(body) -> str:
    if isinstance(body, dict):
        inner = body.get("error", body)
        return str(inner.get("message") or "") if isinstance(inner, dict) else str(inner)
    return str(body or "")


@dataclass
class JobState:
    """OUT/openai_job.json: ids only (never a key), rewritten atomically after each server-side step."""

    base_url: str = ""
    model: str = ""
    method: str = ""
    fingerprint: str = ""
    training_file: str | None = None
    validation_file: str | None = None
    job_id: str | None = None
    status: str | None = None
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    @classmethod
    def load(cls, output: Path) -> JobState | None:
        path = Path(output) / STATE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{path}: unreadable job record ({exc})",
                              "remove the output folder to start a new job") from None

    def save(self, output: Path) -> None:
        atomic_write_text(Path(output) / STATE, json.dumps(asdict(self), indent=2))


class Stopped(Exception):
    """Following ended before the job did (Ctrl-C or max_wait); the job keeps running."""

    def __init__(self, reason: str, job=None, interrupted: bool = False):
        super().__init__(reason)
        self.reason, self.job, self.interrupted = reason, job, interrupted


@dataclass
class Followed:
    job: object  # the final FineTuningJob
    events: list[dict]  # oldest first
    metrics: list[dict]  # the data of every metrics event, oldest first


def follow(api: Api, job_id: str, *, poll_interval: float, max_wait: float | None = None, bar=None,
           on_event=None) -> Followed:
    """Poll the job and its events until a terminal status; raises Stopped on Ctrl-C or after max_wait."""
    seen: set[str] = set()
    events: list[dict] = []
    metrics: list[dict] = []
    started = time.monotonic()
    job = None
    try:
        while True:
            with api.errors(f"following job {job_id}", "the job keeps running on the server; --resume reattaches"):
                job = api.client.fine_tuning.jobs.retrieve(job_id)
                fresh = []
                for ev in api.client.fine_tuning.jobs.list_events(job_id, limit=100):  # newest first
                    if ev.id in seen:
                        break
                    fresh.append(ev)
            for ev in reversed(fresh):
                seen.add(ev.id)
                record = {"id": ev.id, "created_at": ev.created_at, "level": ev.level, "type": ev.type,
                          "message": api.redact(ev.message), "data": ev.data}
                events.append(record)
                if ev.type == "metrics" and isinstance(ev.data, dict):
                    metrics.append(dict(ev.data))
                if on_event is not None:
                    on_event(record)
            _show(bar, job, metrics, events)
            if job.status in TERMINAL:
                return Followed(job, events, metrics)
            if max_wait is not None and time.monotonic() - started >= max_wait:
                raise Stopped(f"job {job_id} is still {job.status} after max_wait={max_wait:g} s", job)
            time.sleep(poll_interval)
    except KeyboardInterrupt:
        raise Stopped(f"interrupted while following job {job_id}", job, interrupted=True) from None


def _show(bar, job, metrics: list[dict], events: list[dict]) -> None:
    if bar is None:
        return
    last = metrics[-1] if metrics else {}
    loss = last.get("train_loss")
    text = f"openai {job.status}" + (f" loss {loss:.4f}" if isinstance(loss, (int, float)) else "")
    if not metrics and events:
        text += f" - {events[-1]['message'][:50]}"
    fields = {"description": text}
    if isinstance(last.get("total_steps"), int):
        fields["total"] = last["total_steps"]
    if isinstance(last.get("step"), int):
        fields["completed"] = last["step"]
    if job.status == "succeeded" and "total" in fields:
        fields["completed"] = fields["total"]
    bar.update(**fields)


def failure_reason(job, events: list[dict], redact) -> str:
    """The server's reason for a failed or cancelled job: its error, else the last warning/error event."""
    err = getattr(job, "error", None)
    if err is not None and getattr(err, "message", None):
        code = f" [{err.code}" + (f", param {err.param}" if err.param else "") + "]" if err.code else ""
        return redact(err.message) + code
    for ev in reversed(events):
        if ev["level"] in ("error", "warn") or "cancel" in ev["message"].lower():
            return ev["message"]
    return "no reason given by the server"


def download_results(api: Api, job, output: Path) -> list[str]:
    """Fetch the job's result files (per-step metrics CSV) into OUT; returns the names written."""
    names = []
    for i, fid in enumerate(getattr(job, "result_files", None) or []):
        with api.errors(f"downloading result file {fid}", "the model is trained; rerun with --resume to retry"):
            body = api.client.files.content(fid).content
        # the id comes from the server: reduced to a plain name so it can never point outside OUT
        name = "results.csv" if i == 0 else f"results-{safe_filename(fid)}.csv"
        atomic_write_text(output / name, body.decode("utf-8", errors="replace"))
        names.append(name)
    return names
