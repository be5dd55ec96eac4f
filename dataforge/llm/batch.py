"""OpenAI's Batch API: upload the requests as JSONL, create batches, poll them, download the answers.

    answers, failures = BatchClient(backend, ledger, plan).fetch(requests, loop, bar)

Each line of the uploaded file is the body the synchronous path would send
(`ChatRequest.body()`), with the request's journal hash as its `custom_id`, so
answers are matched back by the same hash and parsed by the backend's own
parser. Files are split at the API's limits (50,000 requests, 200 MB). The
`Ledger` (two tables in the journal's SQLite file) records each batch and its
request keys as soon as the batch exists, so a rerun after a crash or Ctrl-C
re-attaches to a batch still running instead of paying for another.
Polling starts at a fraction of a second and slows to `poll_max`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from dataforge.errors import DataforgeError
from dataforge.llm.breaker import Breaker
from dataforge.llm.types import ChatRequest, Completion, LLMError

MAX_REQUESTS = 50_000  # per input file (the API's limit)
MAX_BYTES = 200 * 1024 * 1024
TERMINAL = ("completed", "failed", "expired", "cancelled")


@dataclass
class BatchPlan:
    """`--batch`: how batches are made and waited for. `retry`: "sync" sends the requests a batch did
    not answer synchronously; "batch" (`--batch-retry`) puts them in up to `retry_rounds` follow-up batches."""

    retry: str = "sync"
    retry_rounds: int = 2
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES
    poll_first: float = 0.2  # seconds before the first status check; then x1.5 each time...
    poll_max: float = 30.0  # ...up to this


API_RETRIES = 5  # of one Batch API call on 408/409/429/5xx or a connection error


class BatchCancelled(DataforgeError):
    pass


class BatchAPIError(DataforgeError):
    def __init__(self, message: str, hint: str | None = None, *, status: int | None = None):
        super().__init__(message, hint)
        self.status = status


class Ledger:
    """The batches of a journal: created, and whether their answers were taken in."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY, state TEXT NOT NULL, requests INTEGER,
                                        created REAL);
    CREATE TABLE IF NOT EXISTS batch_keys (key TEXT NOT NULL, batch TEXT NOT NULL, PRIMARY KEY (key, batch));
    """

    def __init__(self, path: str | Path | None, *, fresh: bool = False):
        self.db = sqlite3.connect(str(path) if path else ":memory:", isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA busy_timeout=10000")
        self.db.executescript(self.SCHEMA)
        if fresh:  # --fresh: batches of earlier runs are not re-attached
            self.db.execute("UPDATE batches SET state='forgotten' WHERE state='open'")

    def add(self, batch_id: str, keys: list[str]) -> None:
        with self.db:  # one transaction: the batch and its keys or nothing
            self.db.execute("BEGIN")
            self.db.execute("INSERT OR REPLACE INTO batches VALUES (?, 'open', ?, ?)", (batch_id, len(keys), time.time()))
            self.db.executemany("INSERT OR IGNORE INTO batch_keys VALUES (?, ?)", [(k, batch_id) for k in keys])

    def open_for(self, keys: set[str]) -> dict[str, set[str]]:
        """Open batches holding any of `keys`: {batch id: the keys of `keys` it holds}."""
        found: dict[str, set[str]] = {}
        rows = self.db.execute("SELECT k.key, k.batch FROM batch_keys k JOIN batches b ON b.id = k.batch"
                               " WHERE b.state = 'open' ORDER BY b.created")
        taken: set[str] = set()
        for key, batch in rows:
            if key in keys and key not in taken:
                taken.add(key)
                found.setdefault(batch, set()).add(key)
        return found

    def close_batch(self, batch_id: str, state: str = "done") -> None:
        self.db.execute("UPDATE batches SET state=? WHERE id=?", (state, batch_id))

    def close(self) -> None:
        self.db.close()


def split(lines: list[bytes], max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES) -> list[list[bytes]]:
    """Cut the JSONL lines into files within the API's limits (a count and a size each)."""
    files, current, size = [], [], 0
    for line in lines:
        if current and (len(current) >= max_requests or size + len(line) + 1 > max_bytes):
            files.append(current)
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        files.append(current)
    return files


def request_line(request: ChatRequest) -> bytes:
    return orjson.dumps({"custom_id": request.key, "method": "POST", "url": "/v1/chat/completions",
                         "body": request.body()})


class BatchClient:
    """Drives batches through the backend's `openai.AsyncOpenAI` client (`files` and `batches`)."""

    def __init__(self, backend, ledger: Ledger, plan: BatchPlan):
        if hasattr(backend, "endpoints"):  # an EndpointPool (-c auto, several --base-url): the first server's
            backend = backend.endpoints[0].backend
        client = getattr(backend, "_client", None)
        if client is None or not hasattr(client, "batches"):
            from dataforge.errors import ConfigError

            raise ConfigError("--batch needs --backend openai (the OpenAI Batch API)",
                              "drop --batch to run a local model")
        self.backend, self.client, self.ledger, self.plan = backend, client, ledger, plan
        # connection failures go through the runner's circuit breaker rule: a server that is down is
        # reported in about as many seconds as without --batch, not after the whole retry budget
        self.breaker = Breaker(failures=4, seconds=8.0)
        self.created = 0  # batches created by this process
        self.attached = 0  # batches of an earlier run picked up again

    async def fetch(self, requests: list[ChatRequest], show, skip=()) -> tuple[dict[str, Completion],
                                                                             dict[str, str], list]:
        """Answers for `requests` by key, the reasons of those the batches could not answer, and the
        finished batch objects (for the caller to close in the ledger once the answers are kept).
        Open batches in `skip` (already read by this run) are not attached again."""
        wanted = {r.key: r for r in requests}
        running = {b: keys for b, keys in self.ledger.open_for(set(wanted)).items() if b not in skip}
        self.attached += len(running)
        covered = set().union(*running.values()) if running else set()
        fresh = [r for k, r in wanted.items() if k not in covered]
        ids = list(running)
        for chunk in split([request_line(r) for r in fresh], self.plan.max_requests, self.plan.max_bytes):
            ids.append(await self._create(chunk))
        batches = await self._wait(ids, len(wanted), show)
        answers: dict[str, Completion] = {}
        failures: dict[str, str] = {}
        for batch in batches:
            await self._collect(batch, wanted, answers, failures)
        for key in wanted:
            if key not in answers and key not in failures:
                failures[key] = "not answered by the batch"
        return answers, failures, batches

    async def _call(self, what: str, func, *args, **kwargs):
        """One Batch API call; 408/409/429/5xx and connection errors are retried (1, 2, 4 ... s), anything
        else is a DataforgeError saying what the server answered (the key scrubbed)."""
        import openai

        where = getattr(self.backend, "where", "the server")
        redact = getattr(self.backend, "redact", lambda text: text)
        for attempt in range(API_RETRIES + 1):
            try:
                result = await func(*args, **kwargs)
                self.breaker.success()
                return result
            except openai.APIStatusError as exc:
                status = exc.status_code
                if (status in (408, 409, 429) or status >= 500) and attempt < API_RETRIES:
                    await asyncio.sleep(min(30.0, 2.0 ** attempt))
                    continue
                body = exc.body if isinstance(exc.body, dict) else {}
                inner = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
                message = redact(str(inner.get("message") or exc.message or ""))[:300]
                if status == 404 and what in ("upload", "create"):
                    raise DataforgeError(f"{where} has no Batch API (HTTP 404 on the {what} request: {message})",
                                         "--batch needs OpenAI's Batch API (/v1/files, /v1/batches); drop --batch"
                                         " for servers without it (vLLM, Ollama, llama.cpp, TGI)") from None
                raise BatchAPIError(f"the Batch API at {where} refused the {what} request: HTTP {status}:"
                                    f" {message}", "check the key, --model and --base-url; rerun the same command"
                                    " to continue", status=status) from None
            except openai.APIConnectionError as exc:
                failure = LLMError(f"connection error: {redact(str(exc.__cause__ or exc))[:200]}",
                                   retryable=True, kind="connection")
                why = self.breaker.failure(failure, gave_up=attempt >= API_RETRIES)
                if why is not None:
                    raise self.breaker.error(why, failure, self.backend) from None
                if attempt < API_RETRIES:
                    probe = self.breaker.probe_every()  # never reached yet: find out soon whether it is down
                    await asyncio.sleep(min(30.0, 2.0 ** attempt, probe if probe is not None else 30.0))
                    continue
                raise DataforgeError(f"cannot reach the Batch API at {where} ({what}):"
                                     f" {redact(str(exc.__cause__ or exc))[:200]}",
                                     "check the network and --base-url; rerun the same command to continue"
                                     " (a running batch is picked up again)") from None

    async def _create(self, lines: list[bytes]) -> str:
        data = b"\n".join(lines) + b"\n"
        file = await self._call("upload", self.client.files.create,
                                file=("dataforge-batch.jsonl", data, "application/jsonl"), purpose="batch")
        batch = await self._call("create", self.client.batches.create, input_file_id=file.id,
                                 endpoint="/v1/chat/completions", completion_window="24h",
                                 metadata={"generator": "dataforge"})
        keys = [orjson.loads(line)["custom_id"] for line in lines]
        self.ledger.add(batch.id, keys)  # before any wait: a crash from here on re-attaches
        self.created += 1
        return batch.id

    async def _wait(self, ids: list[str], total: int, show) -> list:
        delay = self.plan.poll_first
        while True:
            batches = [await self._retrieve(i) for i in ids]
            show(_status_text(batches), sum(_count(b, "completed") + _count(b, "failed") for b in batches))
            if all(b.status in TERMINAL for b in batches):
                return batches
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, self.plan.poll_max)

    async def _retrieve(self, batch_id: str):
        try:
            return await self._call("status", self.client.batches.retrieve, batch_id)
        except BatchAPIError as exc:
            if exc.status == 404:  # recorded by an earlier run, unknown here (another account or server)
                self.ledger.close_batch(batch_id, "unknown")
                raise DataforgeError(f"batch {batch_id}, recorded in the journal, is unknown to the server"
                                     " (HTTP 404)", "run the same command again to send its requests in a new"
                                     " batch") from None
            raise

    async def _collect(self, batch, wanted, answers, failures) -> None:
        if batch.status == "failed":
            self.ledger.close_batch(batch.id, "failed")  # a rerun makes a new batch, not attach to this one
            errors = "; ".join(f"{e.message}" + (f" (line {e.line})" if e.line else "")
                               for e in ((batch.errors and batch.errors.data) or []))[:500]
            raise DataforgeError(f"batch {batch.id} failed at the server: {errors or 'no reason given'}",
                                 "check the requests it names; rerun to try a new batch, or without --batch to send"
                                 " them synchronously")
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await self._call("download", self.client.files.content, file_id)
            for raw in content.content.splitlines():
                if raw.strip():
                    self._line(raw, wanted, answers, failures)

    def _line(self, raw: bytes, wanted, answers, failures) -> None:
        try:
            line = orjson.loads(raw)
            key = line["custom_id"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return  # not a line we can match to a request: its request is retried
        if key not in wanted:
            return
        response = line.get("response") or {}
        status = response.get("status_code")
        body = response.get("body")
        if status == 200 and body is not None:
            try:
                answers[key] = self.backend._parse(orjson.dumps(body))  # the synchronous path's parser
                failures.pop(key, None)
                return
            except LLMError as exc:
                failures[key] = exc.reason
                return
        error = line.get("error")
        if not error and isinstance(body, dict):
            error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        reason = f"HTTP {status}: {message}" if status else f"batch error: {message or 'no reason given'}"
        failures.setdefault(key, self.backend.redact(reason)[:300] if hasattr(self.backend, "redact") else reason)


def _count(batch, name: str) -> int:
    counts = batch.request_counts
    return int(getattr(counts, name, 0) or 0) if counts is not None else 0


def _status_text(batches) -> str:
    states: dict[str, int] = {}
    for b in batches:
        states[b.status] = states.get(b.status, 0) + 1
    state = ", ".join(f"{n} {s}" if len(batches) > 1 else s for s, n in states.items())
    done = sum(_count(b, "completed") for b in batches)
    failed = sum(_count(b, "failed") for b in batches)
    total = sum(_count(b, "total") for b in batches)
    name = batches[0].id if len(batches) == 1 else f"{len(batches)} batches"
    return f"{name}: {state} · {done:,}/{total:,} done" + (f" · {failed:,} failed" if failed else "")
