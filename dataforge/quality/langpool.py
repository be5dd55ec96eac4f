"""Language detection in worker processes, fed in the background while the report does other work.

The detector (`dataforge.langid`) ends in langdetect, which is pure Python
(several hundred texts per CPU-second), so the report runs it in separate
processes: `python -m dataforge.quality.langpool`, one
JSON list of texts per input line, one JSON list of (language, probability, sure)
per output line. Plain subprocesses rather than multiprocessing: they start
the same way from a console script, a notebook or a test runner, and never
fork polars' thread pool. A worker that dies costs time, not results: its
batches are detected again in-process.

Ctrl-C is the parent's to handle: a worker runs in its own session (the
terminal's SIGINT goes to the foreground process group, which would give each
worker a KeyboardInterrupt traceback) and ignores SIGINT; it ends when its
input closes, which happens when the parent finishes, is interrupted or dies.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

from dataforge.langid import NOT_LANGS, PREFIX, SEED, identify  # noqa: F401 - re-exported for the report

TRUNCATE = PREFIX  # characters of each text that are looked at
_WARM_UP = "a first text to load the language profiles before anything is timed"


def detect_batch(texts: list[str]) -> list[tuple[str, float, bool]]:
    """(language, probability, sure) of each text, or ("empty" | "too short" | "unknown", 0.0, False).

    The shared detector (`dataforge.langid`): the script first (Han without
    Hangul or kana is Chinese, never Korean), langdetect only among the
    languages of a Latin, Cyrillic, Arabic or Devanagari text; `sure` when
    the script decided, or langdetect did and the function words agree.
    """
    out = []
    for text in texts:
        guess = identify(text)
        out.append((guess.lang, round(guess.prob, 3), guess.sure) if guess.status == "ok"
                   else (guess.status, 0.0, False))
    return out


IN_FLIGHT = 2  # batches handed to a worker ahead of its answers; the rest wait in the shared queue


class _Worker:
    """One process, a thread feeding it from the pool's queue and a thread reading its answers."""

    def __init__(self, todo: queue.Queue, batches: list, done: dict):
        self.proc = subprocess.Popen([sys.executable, "-m", "dataforge.quality.langpool"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=_child_env(),
                                     start_new_session=True)  # out of reach of the terminal's Ctrl-C
        self.sent: list[int] = []  # batch ids, in the order the worker answers them
        self._room = threading.Semaphore(IN_FLIGHT)
        self.threads = [threading.Thread(target=self._feed, args=(todo, batches), daemon=True),
                        threading.Thread(target=self._collect, args=(done,), daemon=True)]
        for th in self.threads:
            th.start()

    def _feed(self, todo: queue.Queue, batches: list) -> None:
        try:
            while True:
                self._room.acquire()  # take a batch only when the worker is about to need one
                batch_id = todo.get()
                if batch_id is None:
                    break
                self.sent.append(batch_id)
                self.proc.stdin.write(json.dumps(batches[batch_id]).encode() + b"\n")
                self.proc.stdin.flush()
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):  # the worker died; DetectorPool.results() redoes its batches
            pass

    def _collect(self, done: dict) -> None:
        # answer k belongs to sent[k]: it was appended before the batch was written
        k = 0
        for line in self.proc.stdout:
            answer = json.loads(line)
            done[self.sent[k]] = ([tuple(x) for x in answer["results"]], answer["seconds"])
            k += 1
            self._room.release()


class DetectorPool:
    """submit() batches as they come; results() waits for all of them, in submission order.

    Batches wait in one queue; workers take them as they go. When the report
    has nothing else to do, results() takes from the same queue too, so the
    main process detects alongside the workers instead of idling.
    """

    def __init__(self, workers: int = 0):
        self.batches: list[list[str]] = []
        self._todo: queue.Queue = queue.Queue()
        self._workers: list[_Worker] = []
        self._want = workers
        self._done: dict[int, tuple[list, float]] = {}  # batch id -> (results, seconds detecting)
        self.detect_seconds = 0.0
        self.started = time.perf_counter()

    @property
    def workers(self) -> int:
        return len(self._workers)

    def submit(self, texts: list[str]) -> None:
        self.batches.append(texts)
        if self._want and not self._workers:
            self._start()
        self._todo.put(len(self.batches) - 1)

    def _start(self) -> None:
        for _ in range(self._want):
            try:
                self._workers.append(_Worker(self._todo, self.batches, self._done))
            except OSError:
                break

    def results(self, bar=None) -> list[tuple[str, float]]:
        warm = False
        shown = 0

        def progress() -> None:
            nonlocal shown
            now = sum(len(v[0]) for v in list(self._done.values()))
            if bar is not None and now > shown:
                bar.advance(now - shown)
                shown = now

        while True:  # help the workers with what they have not taken yet
            try:
                batch_id = self._todo.get_nowait()
            except queue.Empty:
                break
            if not warm:
                detect_batch([_WARM_UP])  # load the profiles outside the timed part
                warm = True
            self._done[batch_id] = _timed(self.batches[batch_id])
            progress()
        for _ in self._workers:
            self._todo.put(None)  # no more input: each worker ends after its last answer
        while any(th.is_alive() for w in self._workers for th in w.threads):
            time.sleep(0.1)
            progress()
        for w in self._workers:
            w.proc.wait()
        for i in range(len(self.batches)):  # batches of a worker that died
            if i not in self._done:
                self._done[i] = _timed(self.batches[i])
        progress()
        self.detect_seconds = sum(self._done[i][1] for i in range(len(self.batches)))
        return [r for i in range(len(self.batches)) for r in self._done[i][0]]

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


def _timed(texts: list[str]) -> tuple[list, float]:
    start = time.process_time()
    results = detect_batch(texts)
    return results, time.process_time() - start


def _serve() -> None:
    """Worker process: one JSON list of texts per input line -> {"results", "seconds"} per line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and closes our input
    detect_batch([_WARM_UP])
    try:
        for line in sys.stdin.buffer:
            results, seconds = _timed(json.loads(line))
            sys.stdout.write(json.dumps({"results": results, "seconds": seconds}) + "\n")
            sys.stdout.flush()
    except BrokenPipeError:  # the parent is gone: nobody wants the answers
        os._exit(0)


if __name__ == "__main__":
    _serve()
