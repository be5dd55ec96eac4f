"""The request journal: one SQLite file (WAL mode) next to the output.

Each request is a row keyed by `request_key` (model, messages, params) with
its state: `sent` (went out, no answer recorded yet), `done` (a good
completion, its text and usage) or `failed` (with the reason). A rerun of the
same command looks every request up first: `done` ones are not sent again,
`failed` and `sent` ones are. Writes are buffered and committed every
`flush_every` seconds and at the end of a run, so a process killed at any
moment leaves a consistent file that lost at most the last fraction of a
second (whose requests are simply sent again). The journal never holds an
API key: only the model name, the completion and the (redacted) reason.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from dataforge.errors import InputError

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

_UPSERT = """INSERT INTO requests (key, state, model, content, finish_reason, prompt_tokens,
completion_tokens, attempts, reason, updated) VALUES (?,?,?,?,?,?,?,?,?,?)
ON CONFLICT(key) DO UPDATE SET state=excluded.state, model=excluded.model, content=excluded.content,
finish_reason=excluded.finish_reason, prompt_tokens=excluded.prompt_tokens,
completion_tokens=excluded.completion_tokens, attempts=excluded.attempts, reason=excluded.reason,
updated=excluded.updated"""
# A request sent again after failing goes back to `sent`; a `done` row is never downgraded.
_SENT = """INSERT INTO requests (key, state, model, updated) VALUES (?, 'sent', ?, ?)
ON CONFLICT(key) DO UPDATE SET state='sent', updated=excluded.updated WHERE requests.state != 'done'"""


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

    def __init__(self, path: str | os.PathLike, *, fresh: bool = False, flush_every: float = 0.05):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.flush_every = flush_every
        try:
            self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO info VALUES ('version', ?)", (VERSION,))
            if fresh:
                self._db.execute("DELETE FROM requests")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: cannot use the request journal ({exc})",
                             "delete the file or pass --fresh to start a new one") from exc
        self._sent: list[tuple] = []
        self._rows: list[tuple] = []
        self._pending: dict[str, Entry] = {}
        self._last_flush = time.monotonic()

    def get(self, key: str) -> Entry | None:
        entry = self._pending.get(key)
        if entry is not None:
            return entry
        row = self._db.execute(
            "SELECT key, state, model, content, finish_reason, prompt_tokens, completion_tokens, attempts,"
            " reason FROM requests WHERE key=?", (key,)).fetchone()
        return Entry(*row) if row else None

    def mark_sent(self, key: str, model: str) -> None:
        self._sent.append((key, model, time.time()))

    def record(self, key: str, *, state: str, model: str, content: str | None, finish_reason: str | None,
               prompt_tokens: int, completion_tokens: int, attempts: int, reason: str | None) -> None:
        entry = Entry(key, state, model, content, finish_reason, prompt_tokens, completion_tokens, attempts,
                      reason)
        self._pending[key] = entry
        self._rows.append((key, state, model, content, finish_reason, prompt_tokens, completion_tokens,
                           attempts, reason, time.time()))

    def maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Commit buffered writes in one transaction."""
        self._last_flush = time.monotonic()
        if not self._sent and not self._rows:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if self._sent:
                db.executemany(_SENT, self._sent)
            if self._rows:
                db.executemany(_UPSERT, self._rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._sent, self._rows = [], []
        self._pending.clear()

    def counts(self) -> dict[str, int]:
        self.flush()
        return dict(self._db.execute("SELECT state, COUNT(*) FROM requests GROUP BY state").fetchall())

    def close(self) -> None:
        if self._db is None:
            return
        self.flush()
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError:
            pass  # another process holds it; the WAL is still consistent
        self._db.close()
        self._db = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *_):
        self.close()
