"""langdetect in worker processes, fed in the background while the report does other work.

langdetect is pure Python (a few hundred texts per CPU-second), so the report
runs it in separate processes: `python -m dataforge.quality.langpool`, one
JSON list of texts per input line, one JSON list of (language, probability)
per output line. Plain subprocesses rather than multiprocessing: they start
the same way from a console script, a notebook or a test runner, and never
fork polars' thread pool. A worker that dies costs time, not results: its
batches are detected again in-process.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time

SEED = 0
MIN_CHARS = 25
TRUNCATE = 300
NOT_LANGS = ("empty", "too short", "unknown")

# Code, URLs, emails, numbers and punctuation say nothing about the language and mislead
# langdetect ("221 = 13 × 17" is not Portuguese): they are removed before detection.
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`|https?://\S+|\S+@\S+", re.S)
_NOT_LETTERS = re.compile(r"[\d\W_]+")


def clean(text: str) -> str:
    return " ".join(_NOT_LETTERS.sub(" ", _CODE.sub(" ", text)).split())


def detect_batch(texts: list[str]) -> list[tuple[str, float]]:
    """(language, probability) of each text, or ("empty" | "too short" | "unknown", 0.0)."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = SEED  # the same text gets the same answer, in any process
    out = []
    for text in texts:
        if not text.strip():
            out.append(("empty", 0.0))
            continue
        stripped = clean(text[:TRUNCATE * 2])
        if len(stripped) < MIN_CHARS:
            out.append(("too short", 0.0))
            continue
        try:
            best = detect_langs(stripped[:TRUNCATE])[0]
            out.append((best.lang, round(best.prob, 3)))
        except LangDetectException:  # no letters left at all
            out.append(("unknown", 0.0))
    return out


class _Worker:
    """One process, a thread writing its input and a thread reading its answers as they come."""

    def __init__(self, done: dict):
        self.proc = subprocess.Popen([sys.executable, "-m", "dataforge.quality.langpool"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=_child_env())
        self.inbox: queue.Queue = queue.Queue()
        self.sent: list[int] = []  # batch ids, in the order the worker answers them
        self.threads = [threading.Thread(target=self._feed, daemon=True),
                        threading.Thread(target=self._collect, args=(done,), daemon=True)]
        for th in self.threads:
            th.start()

    def _feed(self) -> None:
        try:
            while (item := self.inbox.get()) is not None:
                self.proc.stdin.write(json.dumps(item).encode() + b"\n")
                self.proc.stdin.flush()
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):  # the worker died; DetectorPool.results() redoes its batches
            pass

    def _collect(self, done: dict) -> None:
        # answer k belongs to sent[k]: it was appended before the batch was queued
        k = 0
        for line in self.proc.stdout:
            done[self.sent[k]] = [tuple(x) for x in json.loads(line)]
            k += 1


class DetectorPool:
    """submit() batches as they come; results() waits for all of them, in submission order."""

    def __init__(self, workers: int = 0):
        self.batches: list[list[str]] = []
        self._workers: list[_Worker] = []
        self._want = workers
        self._done: dict[int, list] = {}
        self.started = time.perf_counter()

    @property
    def workers(self) -> int:
        return len(self._workers)

    def submit(self, texts: list[str]) -> None:
        batch_id = len(self.batches)
        self.batches.append(texts)
        if self._want and not self._workers:
            self._start()
        if self._workers:
            worker = self._workers[batch_id % len(self._workers)]
            worker.sent.append(batch_id)
            worker.inbox.put(texts)

    def _start(self) -> None:
        for _ in range(self._want):
            try:
                self._workers.append(_Worker(self._done))
            except OSError:
                break

    def results(self, bar=None) -> list[tuple[str, float]]:
        for w in self._workers:
            w.inbox.put(None)  # no more input: the worker ends after its last answer
        shown = 0
        while any(th.is_alive() for w in self._workers for th in w.threads):
            time.sleep(0.1)
            now = sum(len(v) for v in list(self._done.values()))
            if bar is not None and now > shown:
                bar.advance(now - shown)
                shown = now
        for w in self._workers:
            w.proc.wait()
        for i, texts in enumerate(self.batches):
            if i not in self._done:
                self._done[i] = detect_batch(texts)
        if bar is not None:
            bar.advance(sum(len(b) for b in self.batches) - shown)
        return [r for i in range(len(self.batches)) for r in self._done[i]]

    def close(self) -> None:
        """Stop any worker still running (the report failed or was interrupted)."""
        for w in self._workers:
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait()


def _child_env() -> dict:
    # The worker must import this same dataforge, even when it runs from a source tree.
    import dataforge

    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(dataforge.__file__)))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _serve() -> None:
    """Worker process: one JSON list of texts per input line -> one JSON list of results per line."""
    for line in sys.stdin.buffer:
        sys.stdout.write(json.dumps(detect_batch(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
