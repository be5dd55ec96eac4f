"""The Batch API on the loopback server: /v1/files and /v1/batches, with scripted outcomes.

    >>> srv = LoopbackServer(fake_model).start()                          # doctest: +SKIP
    >>> store = batch_store(srv)
    >>> store.script = BatchScript(outcome="expired", expire=("SLOW",))   # lines mentioning SLOW are left out

Files are kept in memory (upload as multipart form data, GET .../content).
A batch is worked through when it is first retrieved after being created
(unless `script.outcome` is "hold": then it stays `in_progress` until the
script changes, for crash/re-attach tests). Each line is answered by the
server's own `reply` (so a batch answers exactly what a synchronous request
would), except that, keyed by the line's content and how often that request
came in a batch before, never by arrival order:

- `expire` substrings: the line is left unanswered the first time (an expired
  batch's missing rows; the batch ends `expired` when any line was left out);
- `fail` substrings: the line goes to the error file (HTTP 500) the first time;
- `outcome`: "completed" (the default), "expired", "cancelled" (lines matching
  `expire` are left out; the rest answered, as a batch cancelled midway), or
  "failed" (nothing answered, `errors` says why).

`store.created` counts batches created; `store.lines` counts each request key
received in a batch file. Answered lines also count in `server.log.received` (so
`reply(request, attempt)` sees them), never in `server.log.total` (HTTP requests).
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass

import orjson

from dataforge.llm.faults import Fault, Reply
from dataforge.llm.loopback_http import error_body as _error
from dataforge.llm.loopback_http import send_bytes as _send_raw
from dataforge.llm.loopback_http import send_json as _send
from dataforge.llm.types import body_key


@dataclass
class BatchScript:
    outcome: str = "completed"  # completed | expired | cancelled | failed | hold | absent (404 for all)
    expire: tuple = ()
    fail: tuple = ()


class BatchStore:
    def __init__(self):
        self.script = BatchScript()
        self.files: dict[str, dict] = {}
        self.data: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.created = 0
        self.cancel_requests = 0
        self.lines: collections.Counter[str] = collections.Counter()


def batch_store(server) -> BatchStore:
    store = getattr(server, "_batch_store", None)
    if store is None:
        store = server._batch_store = BatchStore()
    return store


def dispatch(server, method: str, path: str, headers: dict, body: bytes, writer) -> bool:
    store = batch_store(server)
    if store.script.outcome == "absent":  # a server without the Batch API (vLLM, Ollama...)
        return _send(writer, 404, _error(f"no route {method} {path}", "not_found"))
    if server.api_key is not None and headers.get("authorization") != f"Bearer {server.api_key}":
        return _send(writer, 401, _error("Incorrect API key provided", "invalid_api_key"))
    parts = [p for p in path.split("/") if p]  # v1, files|batches, id, action
    parts = parts[1:] if parts and parts[0] == "v1" else parts
    kind, ident, action = (parts + [None, None, None])[:3]
    if kind == "files":
        if method == "POST" and ident is None:
            return _send(writer, 200, _upload(store, headers, body))
        if ident in store.files:
            if action == "content":
                return _send_raw(writer, 200, store.data[ident])
            return _send(writer, 200, store.files[ident])
    if kind == "batches":
        if method == "POST" and ident is None:
            return _create(store, orjson.loads(body or b"{}"), writer)
        batch = store.batches.get(ident or "")
        if batch is not None:
            if method == "POST" and action == "cancel":
                store.cancel_requests += 1
                if batch["status"] not in ("completed", "failed", "expired", "cancelled"):
                    _finish(server, store, batch, "cancelled")
                return _send(writer, 200, batch)
            batch["polled"] = batch.get("polled", 0) + 1  # (not an API field: tests wait on it)
            if batch["status"] == "in_progress" and store.script.outcome != "hold":
                _finish(server, store, batch, store.script.outcome)
            return _send(writer, 200, batch)
    return _send(writer, 404, _error(f"no route {method} {path}", "not_found"))


def _upload(store: BatchStore, headers: dict, body: bytes) -> dict:
    fields = _multipart(headers.get("content-type", ""), body)
    file_id = f"file-{len(store.files) + 1}"
    data = fields.get("file", b"")
    store.data[file_id] = data
    store.files[file_id] = _file_object(file_id, "dataforge-batch.jsonl", len(data),
                                        fields.get("purpose", b"batch").decode())
    return store.files[file_id]


def _file_object(file_id: str, name: str, size: int, purpose: str) -> dict:
    return {"id": file_id, "object": "file", "bytes": size, "created_at": int(time.time()), "filename": name,
            "purpose": purpose, "status": "processed"}


def _multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """{field name: bytes} of a multipart/form-data body."""
    boundary = content_type.partition("boundary=")[2].strip().strip('"').encode()
    fields = {}
    for part in body.split(b"--" + boundary):
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        name = head.partition(b'name="')[2].partition(b'"')[0].decode()
        fields[name] = content[:-2] if content.endswith(b"\r\n") else content
    return fields


def _create(store: BatchStore, request: dict, writer) -> bool:
    file_id = request.get("input_file_id")
    if file_id not in store.files:
        return _send(writer, 400, _error(f"no file {file_id}", "invalid_request_error"))
    store.created += 1
    lines = [ln for ln in store.data[file_id].splitlines() if ln.strip()]
    batch = {"id": f"batch_{store.created}", "object": "batch", "endpoint": request.get("endpoint"),
             "errors": None, "input_file_id": file_id, "completion_window": request.get("completion_window"),
             "status": "in_progress", "output_file_id": None, "error_file_id": None,
             "created_at": int(time.time()), "in_progress_at": int(time.time()),
             "expires_at": int(time.time()) + 86400, "metadata": request.get("metadata"),
             "request_counts": {"total": len(lines), "completed": 0, "failed": 0}}
    store.batches[batch["id"]] = batch
    return _send(writer, 200, batch)


def _finish(server, store: BatchStore, batch: dict, outcome: str) -> None:
    now = int(time.time())
    if outcome == "failed":
        batch.update(status="failed", failed_at=now,
                     errors={"object": "list", "data": [{"code": "invalid_request", "message":
                                                         "scripted failure", "line": 1, "param": None}]})
        return
    script = store.script
    out, err = [], []
    left_out = 0
    for n, raw in enumerate(store.data[batch["input_file_id"]].splitlines()):
        if not raw.strip():
            continue
        line = orjson.loads(raw)
        body = line["body"]
        key = body_key(body)
        seen = store.lines[key]
        store.lines[key] += 1
        text = orjson.dumps(body.get("messages")).decode()
        first = seen == 0
        if outcome == "cancelled" or script.expire:
            if first and any(s in text for s in script.expire):
                left_out += 1
                continue
        if first and any(s in text for s in script.fail):
            err.append(_line(n, line, 500, {"error": {"message": "scripted failure of this line",
                                                      "type": "server_error"}}))
            continue
        attempt = server.log.received[key]  # a batch line is a request received, as a synchronous one is
        server.log.received[key] += 1
        reply = server.reply(body, attempt) if server._reply_takes_attempt else server.reply(body)
        if isinstance(reply, Fault) and reply.reply is not None:  # a scripted reply behind a fault
            reply = reply.reply
        if isinstance(reply, Fault):
            status = reply.status if reply.kind == "status" else 500
            err.append(_line(n, line, status, {"error": {"message": reply.message, "type": "server_error"}}))
            continue
        reply = reply if isinstance(reply, Reply) else Reply(reply)
        out.append(_line(n, line, 200, server._completion(body, reply)))
    batch["request_counts"] = {"total": batch["request_counts"]["total"], "completed": len(out),
                               "failed": len(err)}
    for name, rows in (("output_file_id", out), ("error_file_id", err)):
        if rows:
            file_id = f"file-{len(store.files) + 1}"
            store.data[file_id] = b"\n".join(rows) + b"\n"
            store.files[file_id] = _file_object(file_id, f"{batch['id']}_{name}.jsonl", len(store.data[file_id]),
                                                "batch_output")
            batch[name] = file_id
    if outcome == "cancelled":
        batch.update(status="cancelled", cancelled_at=now)
    elif left_out or outcome == "expired":
        batch.update(status="expired", expired_at=now)
    else:
        batch.update(status="completed", completed_at=now)


def _line(n: int, line: dict, status: int, body: dict) -> bytes:
    return orjson.dumps({"id": f"batch_req_{n}", "custom_id": line.get("custom_id"),
                         "response": {"status_code": status, "request_id": f"req_{n}", "body": body},
                         "error": None})
