"""Languages per field with langdetect: on every row, or on a seeded sample with intervals.

langdetect is far slower than everything else in the report (a few hundred
texts a second per core), so the report decides up front and says what it did:

- at most `sample` rows are checked (default 2,000). A dataset that size or
  smaller is checked whole and its shares are exact; a larger one is checked
  on a random sample drawn with a fixed seed, and every share carries a 95%
  Wilson interval (with the finite-population correction);
- each text is cut to its first 300 characters (enough for langdetect to be
  sure; it makes long texts as cheap as short ones);
- texts under 20 characters are not detected ("too short": langdetect guesses
  wildly on them);
- detection runs in worker processes, in the background, while the rest of
  the report is computed, when there are enough texts to pay for starting them.

langdetect is seeded (`DetectorFactory.seed = 0`), so the same text always
gets the same answer, in any process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time

import numpy as np
import polars as pl

from dataforge.quality.findings import Finding
from dataforge.quality.stats import share, wilson

DEFAULT_SAMPLE = 2000
SEED = 0
MIN_CHARS = 25
TRUNCATE = 300
CONFIDENT = 0.9  # a mismatch needs both texts detected at least this sure
PARALLEL_FROM = 1200  # texts; below this, starting worker processes costs more than it saves
CHUNK = 200
NOT_LANGS = ("empty", "too short", "unknown")


# Code, URLs, emails, numbers and punctuation say nothing about the language and mislead
# langdetect ("221 = 13 × 17" is not Portuguese): they are removed before detection.
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`|https?://\S+|\S+@\S+", re.S)
_NOT_LETTERS = re.compile(r"[\d\W_]+")


def clean(text: str) -> str:
    return " ".join(_NOT_LETTERS.sub(" ", _CODE.sub(" ", text)).split())


def detect_batch(texts: list[str]) -> list[tuple[str, float]]:
    """(language, probability) of each text; runs in worker processes too."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = SEED
    out = []
    for text in texts:
        stripped = clean(text) if text.strip() else ""
        if not text.strip():
            out.append(("empty", 0.0))
        elif len(stripped) < MIN_CHARS:
            out.append(("too short", 0.0))
        else:
            try:
                best = detect_langs(stripped[:TRUNCATE])[0]
                out.append((best.lang, round(best.prob, 3)))
            except LangDetectException:  # no letters at all (numbers, symbols)
                out.append(("unknown", 0.0))
    return out


class LanguageJob:
    """Detection over a sample of rows; `start()` returns at once, `finish()` collects."""

    def __init__(self, frame: pl.DataFrame, fields, answer_fields, sample: int = DEFAULT_SAMPLE,
                 workers: int | None = None):
        self.rows_total = frame.height
        self.fields, self.answer_fields = tuple(fields), tuple(answer_fields)
        self.sample = max(int(sample), 1)
        self.sampled = self.rows_total > self.sample
        if self.sampled:
            picked = np.sort(np.random.default_rng(SEED).choice(self.rows_total, self.sample, replace=False))
            sub = frame.select(pl.all().gather(picked))
        else:
            sub = frame
        self.frame = sub.select("row", "id", "lang", *self.fields)
        # cut long texts here already (cleaning removes some characters, so keep a margin)
        self.texts = [t[:TRUNCATE * 2] for name in self.fields for t in self.frame[name].fill_null("").to_list()]
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
        self._procs: list[tuple[subprocess.Popen, list[threading.Thread]]] = []
        self._done: dict[int, list] = {}  # first text index of a chunk -> its results
        self._started = 0.0

    def start(self) -> "LanguageJob":
        """Start worker processes (when there are enough texts) and feed them in the background."""
        self._started = time.perf_counter()
        if self.workers > 1 and len(self.texts) >= PARALLEL_FROM:
            chunk_ids = list(range(0, len(self.texts), CHUNK))
            for w in range(self.workers):
                mine = chunk_ids[w::self.workers]
                try:
                    proc = subprocess.Popen([sys.executable, "-m", "dataforge.quality.languages"],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_child_env())
                except OSError:
                    break
                batches = [self.texts[i:i + CHUNK] for i in mine]
                threads = [threading.Thread(target=_feed, args=(proc, batches), daemon=True),
                           threading.Thread(target=_collect, args=(proc, mine, self._done), daemon=True)]
                for th in threads:
                    th.start()
                self._procs.append((proc, threads))
        return self

    def finish(self, bar=None) -> tuple[dict, pl.DataFrame]:
        """The languages section, and (row, lang) labels of the answer field for per-language plots."""
        shown = 0
        while any(th.is_alive() for _, threads in self._procs for th in threads):
            time.sleep(0.1)
            now = sum(len(v) for v in list(self._done.values()))
            if bar is not None and now > shown:
                bar.advance(now - shown)
                shown = now
        for proc, _ in self._procs:
            proc.wait()
        # A worker that died (killed, out of memory) costs time, not results: its chunks are redone here.
        for i in range(0, len(self.texts), CHUNK):
            if i not in self._done:
                self._done[i] = detect_batch(self.texts[i:i + CHUNK])
        if bar is not None:
            bar.advance(len(self.texts) - shown)
        results = [r for i in sorted(self._done) for r in self._done[i]]
        elapsed = time.perf_counter() - self._started
        return self._section(results, elapsed, len(self._procs) or 1)

    def close(self) -> None:
        """Stop any worker still running (the report failed or was interrupted)."""
        for proc, _ in self._procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def _section(self, results, elapsed: float, workers: int) -> tuple[dict, pl.DataFrame]:
        n = self.frame.height
        labels = {}
        for i, name in enumerate(self.fields):
            chunk = results[i * n:(i + 1) * n]
            labels[name] = pl.DataFrame({"lang": [r[0] for r in chunk], "prob": [r[1] for r in chunk]},
                                        schema={"lang": pl.String, "prob": pl.Float64})
        detected = sum(1 for r in results if r[0] not in NOT_LANGS)
        data = {
            "method": self.method(),
            "sampled": self.sampled, "rows_checked": n, "rows_total": self.rows_total, "seed": SEED,
            "min_chars": MIN_CHARS, "truncate_chars": TRUNCATE, "workers": workers,
            "texts": len(results), "texts_detected": detected, "seconds": round(elapsed, 2),
            "texts_per_second": round(len(results) / elapsed, 1) if elapsed > 0 else None,
            "fields": {name: self._field(labels[name]) for name in self.fields},
            "mismatch": {a: self._mismatch(labels["instruction"], labels[a]) for a in self.answer_fields},
            "declared": self._declared(labels[self.answer_fields[0]]),
        }
        main = self.frame.select("row").with_columns(labels[self.answer_fields[0]]["lang"])
        return data, main

    def method(self) -> str:
        scope = (f"a random sample of {self.sample:,} of {self.rows_total:,} rows (seed {SEED}); shares carry"
                 " 95% Wilson intervals" if self.sampled else f"all {self.rows_total:,} rows (exact shares)")
        return (f"langdetect (seeded) on {scope}; each text cut to its first {TRUNCATE} characters;"
                f" code, numbers and punctuation are removed first, and texts left with under {MIN_CHARS} characters"
                " are not detected")

    def _field(self, lab: pl.DataFrame) -> dict:
        counts = dict(lab["lang"].value_counts(sort=True).iter_rows())
        langs = {k: v for k, v in counts.items() if k not in NOT_LANGS}
        base = sum(langs.values())
        population = self.rows_total if self.sampled else None
        shares = {}
        for lang, c in langs.items():
            low, high = wilson(c, base, population) if self.sampled else (share(c, base), share(c, base))
            shares[lang] = {"count": c, "share": share(c, base), "low": low, "high": high}
        return {"counts": counts, "detected": base, "shares": shares,
                "not_detected": {k: counts.get(k, 0) for k in NOT_LANGS}}

    def _mismatch(self, instr: pl.DataFrame, answer: pl.DataFrame) -> dict:
        both = pl.DataFrame({"id": self.frame["id"], "a": instr["lang"], "pa": instr["prob"],
                             "b": answer["lang"], "pb": answer["prob"]})
        sure = both.filter((pl.col("pa") >= CONFIDENT) & (pl.col("pb") >= CONFIDENT))
        diff = sure.filter(pl.col("a") != pl.col("b"))
        low, high = wilson(diff.height, sure.height, self.rows_total if self.sampled else None)
        pairs = (diff.group_by("a", "b").len().sort("len", descending=True).head(8))
        return {"compared": sure.height, "count": diff.height, "share": share(diff.height, sure.height),
                "low": low, "high": high, "examples": diff["id"].head(5).to_list(),
                "pairs": [{"instruction": a, "answer": b, "count": c} for a, b, c in pairs.iter_rows()]}

    def _declared(self, answer: pl.DataFrame) -> dict | None:
        declared = self.frame["lang"].fill_null("")
        if (declared != "").sum() == 0:
            return None
        both = pl.DataFrame({"id": self.frame["id"], "declared": declared.str.to_lowercase(),
                             "lang": answer["lang"], "prob": answer["prob"]})
        sure = both.filter((pl.col("declared") != "") & (pl.col("prob") >= CONFIDENT))
        # "zh" declared vs "zh-cn" detected is a match: compare the primary subtag
        diff = sure.filter(pl.col("declared").str.split("-").list.first()
                           != pl.col("lang").str.split("-").list.first())
        return {"compared": sure.height, "count": diff.height, "share": share(diff.height, sure.height),
                "examples": diff["id"].head(5).to_list()}


def findings(data: dict, answer_fields) -> list[Finding]:
    found = []
    scope = "of sampled rows" if data["sampled"] else "of rows"
    for name, m in data["mismatch"].items():
        # a rejected answer in another language is often the point of the pair: shown, not flagged
        if m["count"] == 0 or name != answer_fields[0]:
            continue
        sev = "medium" if m["share"] >= 0.02 else "low"
        ci = f" (95% CI {m['low']:.1%}–{m['high']:.1%})" if data["sampled"] else ""
        top = ", ".join(f"{p['instruction']}→{p['answer']} ×{p['count']}" for p in m["pairs"][:3])
        found.append(Finding(
            f"language_mismatch:{name}", sev, f"{name} language differs from the instruction's",
            f"{m['count']:,} of {m['compared']:,} confidently detected rows {scope}: {m['share']:.1%}{ci}; {top}.",
            m["count"], m["share"], m["examples"], "languages", name))
    dec = data.get("declared")
    if dec and dec["count"]:
        sev = "medium" if dec["share"] >= 0.02 else "low"
        found.append(Finding("language_declared_mismatch", sev, "declared 'lang' differs from the detected language",
                             f"{dec['count']:,} of {dec['compared']:,} rows {scope} ({dec['share']:.1%}).",
                             dec["count"], dec["share"], dec["examples"], "languages", answer_fields[0]))
    main = data["fields"].get(answer_fields[0], {})
    shares = main.get("shares", {})
    if shares:
        top = ", ".join(f"{lang} {s['share']:.0%}" for lang, s in list(shares.items())[:4])
        title = (f"one language: {next(iter(shares))}" if len(shares) == 1
                 else f"{len(shares)} languages in {answer_fields[0]}")
        found.append(Finding("languages", "info", title, f"{top}. {data['method']}.", 0, 0.0, [], "languages"))
    return found


def _feed(proc: subprocess.Popen, batches: list[list[str]]) -> None:
    try:
        for batch in batches:
            proc.stdin.write(json.dumps(batch).encode() + b"\n")
        proc.stdin.close()
    except (BrokenPipeError, OSError):  # the worker died; finish() redoes its chunks
        pass


def _collect(proc: subprocess.Popen, mine: list[int], done: dict) -> None:
    # Read as results come, so a full stdout pipe never stalls the worker.
    for i in mine:
        line = proc.stdout.readline()
        if not line:
            return
        done[i] = [tuple(x) for x in json.loads(line)]


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
