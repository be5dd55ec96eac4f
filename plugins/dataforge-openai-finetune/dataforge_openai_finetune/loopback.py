"""A scriptable stand-in for OpenAI's files and fine-tuning endpoints, on 127.0.0.1.

Tests and demos drive the real `openai` client against it, so uploads are
real multipart bodies and jobs are real JSON over a socket. Endpoints:

    POST /v1/files                          upload (multipart: file, purpose)
    GET  /v1/files/{id}/content             download (result files)
    POST /v1/fine_tuning/jobs               create a job
    GET  /v1/fine_tuning/jobs/{id}          retrieve (each call advances the job one tick)
    GET  /v1/fine_tuning/jobs/{id}/events   events, newest first (limit, after)
    POST /v1/fine_tuning/jobs/{id}/cancel   cancel

Like the real service it checks the training file against the method
(chat examples for supervised, input/preferred_output/non_preferred_output
for dpo, at least 10 examples) and fails the job in `validating_files` when
they do not match. `JobScript` says how a valid job ends: succeeded, failed
(with a scripted error), cancelled by the server, or running until someone
cancels it.

    >>> with FineTuneServer(JobScript(outcome="failed")) as srv:    # doctest: +SKIP
    ...     client = OpenAI(base_url=srv.url, api_key="x")
    ...     srv.log.uploads, srv.log.created, srv.log.requests

`python -m dataforge_openai_finetune.loopback --port 8765` serves one for manual tries.
"""

from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import itertools
import json
import math
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

TERMINAL = ("succeeded", "failed", "cancelled")
MIN_EXAMPLES = 10


@dataclass
class JobScript:
    """How a job whose files are valid behaves; each GET of the job is one tick."""

    outcome: str = "succeeded"  # succeeded | failed | cancelled | running (until POST .../cancel)
    steps_per_tick: int = 10
    stop_at_step: int = 3  # where a failed/cancelled outcome ends
    error_code: str = "internal_error"
    error_message: str = "The job failed due to an internal error."
    cancel_message: str = "Fine-tuning job cancelled from the dashboard."
    result_file: bool = True
    extra_result_ids: tuple[str, ...] = ()  # more result files under these ids (a hostile server: "../x")


@dataclass
class Log:
    requests: list[str] = field(default_factory=list)  # "METHOD /path?query"
    uploads: list[dict] = field(default_factory=list)  # id, filename, purpose, bytes
    created: list[dict] = field(default_factory=list)  # request bodies of job creations
    cancels: list[str] = field(default_factory=list)
    auth: set[str] = field(default_factory=set)  # Authorization headers seen


def _error(status: int, message: str, param: str | None = None, code: str | None = None):
    return status, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def file_problem(content: bytes, method: str) -> str | None:
    """Why OpenAI would fail a training file for this method (None: it is fine)."""
    lines = [ln for ln in content.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    for i, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except ValueError:
            return f"Invalid file format. Line {i} is not valid JSON."
        if method == "dpo":
            ok = (isinstance(row.get("input"), dict) and isinstance(row["input"].get("messages"), list)
                  and isinstance(row.get("preferred_output"), list) and isinstance(row.get("non_preferred_output"), list))
            if not ok:
                return (f"Invalid file format. Example {i} is not a preference example: expected input.messages, "
                        "preferred_output and non_preferred_output.")
        else:
            msgs = row.get("messages")
            if not isinstance(msgs, list) or not msgs or msgs[-1].get("role") != "assistant":
                return f"Invalid file format. Example {i}: expected a 'messages' list ending with an assistant message."
    if len(lines) < MIN_EXAMPLES:
        return f"Training file has {len(lines)} example(s), but must have at least {MIN_EXAMPLES} examples."
    return None


class Job:
    def __init__(self, server: FineTuneServer, job_id: str, body: dict, script: JobScript):
        self.server, self.id, self.body, self.script = server, job_id, body, script
        method = body.get("method") or {"type": "supervised"}
        self.method = method.get("type", "supervised")
        hyper = dict((method.get(self.method) or {}).get("hyperparameters") or body.get("hyperparameters") or {})
        train = server.files[body["training_file"]]
        self.examples = sum(1 for ln in train["content"].splitlines() if ln.strip())
        self.hyper = {"n_epochs": hyper.get("n_epochs", 3), "batch_size": hyper.get("batch_size", 1),
                      "learning_rate_multiplier": hyper.get("learning_rate_multiplier", 1.8)}
        if self.method == "dpo":
            self.hyper["beta"] = hyper.get("beta", 0.1)
        self.total_steps = max(1, math.ceil(self.examples * self.hyper["n_epochs"] / self.hyper["batch_size"]))
        self.tokens = len(train["content"]) // 4 * self.hyper["n_epochs"]
        self.status, self.step, self.error, self.model, self.results = "validating_files", 0, None, None, []
        self.created_at, self.finished_at = int(time.time()), None
        self.events: list[dict] = []
        self.event(f"Validating training file: {body['training_file']}")

    def event(self, message: str, level: str = "info", data: dict | None = None, kind: str = "message") -> None:
        self.events.append({"object": "fine_tuning.job.event", "id": f"ftevent-{next(self.server.ids):06d}",
                            "created_at": int(time.time()), "level": level, "message": message, "data": data or {},
                            "type": kind})

    def finish(self, status: str) -> None:
        self.status, self.finished_at = status, int(time.time())

    def tick(self) -> None:
        s = self.script
        if self.status in TERMINAL:
            return
        if self.status == "validating_files":
            problem = file_problem(self.server.files[self.body["training_file"]]["content"], self.method)
            if problem:
                self.error = {"code": "invalid_training_file", "message": problem, "param": "training_file"}
                self.event(problem, "error")
                return self.finish("failed")
            self.status = "queued"
            return self.event("Files validated, moving job to queued state")
        if self.status == "queued":
            self.status = "running"
            return self.event("Fine-tuning job started")
        for _ in range(s.steps_per_tick):
            if s.outcome in ("failed", "cancelled") and self.step >= s.stop_at_step:
                if s.outcome == "failed":
                    self.error = {"code": s.error_code, "message": s.error_message, "param": None}
                    self.event(s.error_message, "error")
                    return self.finish("failed")
                self.event(s.cancel_message, "warn")
                return self.finish("cancelled")
            if self.step >= self.total_steps:
                if s.outcome == "running":
                    return
                return self._succeed()
            self.step += 1
            data = {"step": self.step, "total_steps": self.total_steps, "train_loss": self.loss(self.step),
                    "train_mean_token_accuracy": round(1 - self.loss(self.step) / 4, 4)}
            if self.body.get("validation_file"):
                data["valid_loss"] = round(self.loss(self.step) * 1.1, 4)
            self.event(f"Step {self.step}/{self.total_steps}: training loss={data['train_loss']:.4f}", data=data,
                       kind="metrics")

    @staticmethod
    def loss(step: int) -> float:
        return round(2.5 * 0.9 ** step + 0.1, 4)

    def _succeed(self) -> None:
        suffix = self.body.get("suffix") or ""
        self.model = f"ft:{self.body['model']}:dataforge-loopback:{suffix}:{self.id[-6:]}"
        if self.script.result_file:
            rows = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
            rows += [f"{i},{self.loss(i)},{round(1 - self.loss(i) / 4, 4)},," for i in range(1, self.total_steps + 1)]
            body = ("\n".join(rows) + "\n").encode()
            self.results = [self.server.add_file("step_metrics.csv", "fine-tune-results", body)]
            self.results += [self.server.add_file("step_metrics.csv", "fine-tune-results", body, fid=fid)
                             for fid in self.script.extra_result_ids]
        self.event(f"New fine-tuned model created: {self.model}")
        self.event("The job has successfully completed")
        self.finish("succeeded")

    def to_dict(self) -> dict:
        hyper = {k: v for k, v in self.hyper.items() if k != "beta"}
        return {"object": "fine_tuning.job", "id": self.id, "model": self.body["model"], "created_at": self.created_at,
                "finished_at": self.finished_at, "fine_tuned_model": self.model, "organization_id": "org-loopback",
                "result_files": self.results, "status": self.status, "validation_file": self.body.get("validation_file"),
                "training_file": self.body["training_file"], "hyperparameters": hyper,
                "method": {"type": self.method, self.method: {"hyperparameters": self.hyper}},
                "trained_tokens": self.tokens if self.status == "succeeded" else None, "error": self.error,
                "seed": self.body.get("seed") or 0, "suffix": self.body.get("suffix"), "estimated_finish": None,
                "integrations": [], "metadata": None}


class FineTuneServer:
    """The server; `script` is a JobScript or a callable(create_body) -> JobScript."""

    def __init__(self, script=None, *, api_key: str | None = None, faults: dict | None = None, port: int = 0):
        self.script = script or JobScript()
        self.api_key = api_key  # when set, other keys get 401
        self.faults = {k: list(v) for k, v in (faults or {}).items()}  # "METHOD /path-prefix" -> statuses to return
        self.files: dict[str, dict] = {}
        self.jobs: dict[str, Job] = {}
        self.log = Log()
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> FineTuneServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FineTuneServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def add_file(self, filename: str, purpose: str, content: bytes, fid: str | None = None) -> str:
        fid = fid or f"file-{next(self.ids):06d}"
        self.files[fid] = {"id": fid, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                           "filename": filename, "purpose": purpose, "status": "processed", "content": content}
        return fid

    def public(self, fid: str) -> dict:
        return {k: v for k, v in self.files[fid].items() if k != "content"}

    # -- routing (called under the lock) --
    def handle(self, method: str, path: str, query: dict, headers, body: bytes):
        if method == "POST" and path == "/v1/files":
            return self._upload(headers, body)
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "files"] and len(parts) == 4 and parts[3] == "content" and method == "GET":
            fid = unquote(parts[2])  # the client percent-encodes ids ("../x" arrives as "..%2Fx")
            f = self.files.get(fid)
            return (200, f["content"]) if f else _error(404, f"No such File object: {fid}", "id")
        if parts[:3] != ["v1", "fine_tuning", "jobs"]:
            return _error(404, f"Unknown endpoint {method} {path}")
        if len(parts) == 3 and method == "POST":
            return self._create(json.loads(body or b"{}"))
        job = self.jobs.get(parts[3]) if len(parts) > 3 else None
        if job is None:
            return _error(404, f"Could not find fine-tune job: {parts[3] if len(parts) > 3 else ''}", "id")
        if len(parts) == 4 and method == "GET":
            job.tick()
            return 200, job.to_dict()
        if len(parts) == 5 and parts[4] == "events" and method == "GET":
            return 200, _page(job.events, query)
        if len(parts) == 5 and parts[4] == "cancel" and method == "POST":
            self.log.cancels.append(job.id)
            if job.status in TERMINAL:
                return _error(400, f"Job {job.id} has already completed and cannot be cancelled.")
            job.event("Fine-tuning job cancelled by user request", "warn")
            job.finish("cancelled")
            return 200, job.to_dict()
        return _error(404, f"Unknown endpoint {method} {path}")

    def _upload(self, headers, body: bytes):
        raw = b"Content-Type: " + headers.get("Content-Type", "").encode() + b"\r\n\r\n" + body
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        fields, filename, content = {}, "upload.jsonl", None
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name == "file":
                filename = part.get_filename() or filename
                content = part.get_payload(decode=True) or b""
            elif name:
                fields[name] = part.get_payload(decode=True).decode()
        if content is None or "purpose" not in fields:
            return _error(400, "Missing 'file' or 'purpose' in the multipart body")
        fid = self.add_file(filename, fields["purpose"], content)
        self.log.uploads.append(self.public(fid))
        return 200, self.public(fid)

    def _create(self, body: dict):
        self.log.created.append(body)
        if not body.get("model"):
            return _error(400, "Missing required parameter: 'model'.", "model")
        train = self.files.get(body.get("training_file") or "")
        if train is None or train["purpose"] != "fine-tune":
            return _error(400, f"invalid training_file: {body.get('training_file')}", "training_file")
        if body.get("validation_file") and body["validation_file"] not in self.files:
            return _error(400, f"invalid validation_file: {body['validation_file']}", "validation_file")
        if len(body.get("suffix") or "") > 64:
            return _error(400, "suffix must be at most 64 characters", "suffix")
        method = (body.get("method") or {}).get("type", "supervised")
        hyper = ((body.get("method") or {}).get(method) or {}).get("hyperparameters") or {}
        if method != "dpo" and "beta" in hyper:
            return _error(400, "beta is only valid for the dpo method", "method")
        script = self.script(body) if callable(self.script) else self.script
        job = Job(self, f"ftjob-{next(self.ids):06d}", body, dataclasses.replace(script))
        self.jobs[job.id] = job
        return 200, job.to_dict()


def _page(events: list[dict], query: dict) -> dict:
    newest = list(reversed(events))
    after = (query.get("after") or [None])[0]
    if after:
        ids = [e["id"] for e in newest]
        newest = newest[ids.index(after) + 1:] if after in ids else []
    limit = int((query.get("limit") or [20])[0])
    return {"object": "list", "data": newest[:limit], "has_more": len(newest) > limit}


def _handler(server: FineTuneServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

        def log_message(self, *args):  # quiet
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _serve(self, method: str) -> None:
            body = self._body()
            url = urlsplit(self.path)
            with server.lock:
                server.log.requests.append(f"{method} {self.path}")
                auth = self.headers.get("Authorization", "")
                server.log.auth.add(auth)
                fault = next((k for k, v in server.faults.items() if v and f"{method} {url.path}".startswith(k)), None)
                if fault is not None:
                    status, payload = _error(server.faults[fault].pop(0), "injected fault")
                elif server.api_key is not None and auth != f"Bearer {server.api_key}":
                    given = auth.removeprefix("Bearer ")  # echoed back, as the real service does
                    status, payload = _error(401, f"Incorrect API key provided: {given}.", code="invalid_api_key")
                else:
                    status, payload = server.handle(method, url.path, parse_qs(url.query), self.headers, body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream" if isinstance(payload, bytes)
                             else "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status >= 500 or status == 429:
                self.send_header("retry-after-ms", "5")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            self._serve("GET")

        def do_POST(self):  # noqa: N802
            self._serve("POST")

    return Handler


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="Serve a loopback OpenAI fine-tuning API on 127.0.0.1.")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--outcome", default="succeeded", choices=["succeeded", "failed", "cancelled", "running"])
    args = ap.parse_args()
    srv = FineTuneServer(JobScript(outcome=args.outcome), port=args.port).start()
    print(f"serving on {srv.url}  (export OPENAI_BASE_URL={srv.url}); Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
