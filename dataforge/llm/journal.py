"""The request journal: one SQLite file (WAL mode) next to the output.

Each request is a row keyed by `request_key` (model, messages, params) with
its state: `sent` (went out, no answer recorded yet), `done` (a good
completion, its text and usage) or `failed` (with the reason). A rerun of the
same command looks every request up first: `done` ones are not sent again,
`failed` and `sent` ones are. Writes are handed to a writer thread that
commits them within `flush_every` seconds (10 ms) whatever the caller's event
loop is busy with, so a process killed at any moment leaves a consistent file
that lost at most the answers of its last few milliseconds (whose requests are
simply sent again). One run at a time: the journal is locked for the process
that opened it (`dataforge.llm.runlock`). The journal never holds an API key:
only the model name, the completion and the (redacted) reason.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from dataforge.errors import InputError
from dataforge.llm.runlock import RunLock

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    model TEXT,
    content TEXT,
    finish_reason TEXT,
    prompt_tokens INTEGER DEFAULT 0,
    completion_tokens INTEGER DEFAULT 0,
    attempts INTEGER DEFAULT 0,
    reason TEXT,
    updated REAL
);
CREATE TABLE IF NOT EXISTS info (name TEXT PRIMARY KEY, value TEXT);
"""
VERSION = "1"
BUSY_TIMEOUT_MS = 10_000  # how long to wait for another program holding the file (never a dataforge run)

# Each batch goes out as one multi-row statement (an implicit transaction of its own): the sqlite3
# module lets go of the GIL for every step, and each step would then wait up to the switch interval
# (5 ms) to get it back from a busy thread; executemany of 64 rows could take a third of a second.
_UPSERT = ("INSERT INTO requests (key, state, model, content, finish_reason, prompt_tokens, completion_tokens,"
           " attempts, reason, updated) VALUES {values} ON CONFLICT(key) DO UPDATE SET state=excluded.state,"
           " model=excluded.model, content=excluded.content, finish_reason=excluded.finish_reason,"
           " prompt_tokens=excluded.prompt_tokens, completion_tokens=excluded.completion_tokens,"
           " attempts=excluded.attempts, reason=excluded.reason, updated=excluded.updated", 10)
# A request sent again after failing goes back to `sent`; a `done` row is never downgraded.
_SENT = ("INSERT INTO requests (key, state, model, updated) VALUES {values} ON CONFLICT(key) DO UPDATE"
         " SET state='sent', updated=excluded.updated WHERE requests.state != 'done'", 3)
_MAX_PARAMS = 30_000 if sqlite3.sqlite_version_info >= (3, 32, 0) else 990


def _write_rows(db: sqlite3.Connection, statement: tuple[str, int], rows: list[tuple]) -> None:
    sql, width = statement
    if width == 3:  # the state of a `sent` row is part of the statement, not a parameter
        one = "(?, 'sent', ?, ?)"
    else:
        one = "(" + ",".join("?" * width) + ")"
    per = _MAX_PARAMS // width
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        db.execute(sql.format(values=",".join([one] * len(chunk))), [v for row in chunk for v in row])


@dataclass(slots=True)
class Entry:
    key: str
    state: str
    model: str | None
    content: str | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    attempts: int
    reason: str | None


def journal_path_for(out: str | os.PathLike) -> Path:
    """`data.jsonl` -> `data.jsonl.journal.sqlite` (next to the output)."""
    out = Path(str(out).rstrip("/"))
    return out.with_name(out.name + ".journal.sqlite")


class Journal:
    """Open (or create) a journal; `fresh=True` forgets every recorded request first."""

    def __init__(self, path: str | os.PathLike, *, fresh: bool = False, flush_every: float = 0.01):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.flush_every = flush_every
        self._lock = RunLock(self.path)  # before anything is read or written
        self.created = not self.path.exists()  # close() removes a journal it created that stayed empty
        self._db = self._wdb = None
        try:
            self._db = self._connect()
            self._db.executescript(SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO info VALUES ('version', ?)", (VERSION,))
            if fresh:
                self._db.execute("DELETE FROM requests")
            self._wdb = self._connect()  # the writer's own connection: reads never wait on a commit
        except sqlite3.DatabaseError as exc:
            self._close_connections()
            self._lock.release()
            raise _open_error(self.path, exc) from exc
        self._buf = threading.Lock()      # guards the buffers below
        self._committing = threading.Lock()
        self._sent: list[tuple] = []
        self._rows: list[tuple[Entry, float]] = []
        self._pending: dict[str, Entry] = {}
        self._wake = threading.Event()
        self._closing = False
        self._failure: BaseException | None = None
        self._writer = threading.Thread(target=self._write_loop, name="dataforge-journal", daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a killed process
        return db

    def get(self, key: str) -> Entry | None:
        entry = self._pending.get(key)
        if entry is not None:
            return entry
        row = self._db.execute(
            "SELECT key, state, model, content, finish_reason, prompt_tokens, completion_tokens, attempts,"
            " reason FROM requests WHERE key=?", (key,)).fetchone()
        return Entry(*row) if row else None

    def mark_sent(self, key: str, model: str) -> None:
        with self._buf:
            self._sent.append((key, model, time.time()))
        self._wake.set()

    def record(self, key: str, *, state: str, model: str, content: str | None, finish_reason: str | None,
               prompt_tokens: int, completion_tokens: int, attempts: int, reason: str | None) -> None:
        self._raise_failure()
        entry = Entry(key, state, model, content, finish_reason, prompt_tokens, completion_tokens, attempts,
                      reason)
        with self._buf:
            self._pending[key] = entry
            self._rows.append((entry, time.time()))
        self._wake.set()

    def flush(self) -> None:
        """Commit everything recorded so far, now."""
        self._raise_failure()
        self._commit()

    # -- the writer ------------------------------------------------------------
    def _write_loop(self) -> None:
        while True:
            self._wake.wait()
            if self._closing:
                return
            time.sleep(self.flush_every)  # answers arriving meanwhile go into the same transaction
            self._wake.clear()
            try:
                self._commit()
            except BaseException as exc:  # e.g. disk full: the next record()/flush() raises it
                self._failure = exc
                return
            if self._closing:  # close() set it (and the event, which we may just have cleared)
                return

    def _commit(self) -> None:
        with self._committing:
            with self._buf:
                sent, rows, self._sent, self._rows = self._sent, self._rows, [], []
            if not sent and not rows:
                return
            try:
                if sent:
                    _write_rows(self._wdb, _SENT, sent)
                if rows:
                    _write_rows(self._wdb, _UPSERT, [(*_fields(e), when) for e, when in rows])
            except BaseException:
                with self._buf:  # keep them for the next try (the statements are idempotent)
                    self._sent, self._rows = sent + self._sent, rows + self._rows
                raise
            with self._buf:
                for entry, _ in rows:
                    if self._pending.get(entry.key) is entry:  # not recorded again meanwhile
                        del self._pending[entry.key]

    def _raise_failure(self) -> None:
        if self._failure is not None:
            exc = self._failure
            raise InputError(f"{self.path}: cannot write the request journal ({exc})",
                             "check the free space and permissions of its folder; finished requests up to"
                             " now are kept") from exc

    def counts(self) -> dict[str, int]:
        self.flush()
        return dict(self._db.execute("SELECT state, COUNT(*) FROM requests GROUP BY state").fetchall())

    def close(self) -> None:
        if self._db is None:
            return
        self._closing = True
        self._wake.set()
        self._writer.join()
        empty = False
        try:
            self._commit()
            try:
                self._wdb.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:
                pass  # a reader holds it; the WAL is still consistent
            empty = self.created and self._holds_nothing()
        finally:
            self._close_connections()
            try:
                if empty:  # a refused run (cost, options, input, server down) leaves no journal behind
                    for name in ("", "-wal", "-shm"):
                        Path(str(self.path) + name).unlink(missing_ok=True)
            finally:
                self._lock.release()

    def _holds_nothing(self) -> bool:
        """No request and no batch (dataforge.llm.batch keeps its ledger in the same file) recorded."""
        db = self._wdb
        if db.execute("SELECT EXISTS(SELECT 1 FROM requests)").fetchone()[0]:
            return False
        tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return not ("batches" in tables and db.execute("SELECT EXISTS(SELECT 1 FROM batches)").fetchone()[0])

    def _close_connections(self) -> None:
        for db in (self._db, self._wdb):
            if db is not None:
                db.close()
        self._db = self._wdb = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *_):
        self.close()


def _fields(entry: Entry) -> tuple:
    return (entry.key, entry.state, entry.model, entry.content, entry.finish_reason, entry.prompt_tokens,
            entry.completion_tokens, entry.attempts, entry.reason)


def _open_error(path: Path, exc: sqlite3.DatabaseError) -> InputError:
    if "locked" in str(exc) or "busy" in str(exc):
        # Another program (not a dataforge run: those hold the run lock) has the file open for writing.
        return InputError(f"{path}: the request journal is locked by another program ({exc})",
                          "close the program that has it open (e.g. an sqlite3 shell), then run the same command"
                          " again; the journal holds finished requests, keep it")
    return InputError(f"{path}: cannot use the request journal ({exc})",
                      "it is not a journal dataforge can read (damaged, or another program's file): move it"
                      " aside and run again to start a new one")
