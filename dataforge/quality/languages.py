"""Languages per field with the shared detector (dataforge.langid): on every row, or on a seeded random sample.

Detection (langdetect, for Latin, Cyrillic, Arabic and Devanagari text) is
far slower than everything else in the report (several hundred texts per
CPU-second), so the report decides up front and says what it did:

- at most `sample` rows are checked (default 2,000). A dataset that size or
  smaller is checked whole and its shares are exact; a larger one is checked
  on a uniform random sample of exactly `sample` rows (seeded), and every share
  carries a 95% Wilson interval (with the finite-population correction);
- each text goes to the shared detector (`dataforge.langid`): its script
  first (Han without Hangul or kana is Chinese, never Korean; Thai, Greek,
  Hebrew... decide alone, with no length floor), langdetect only among the
  script's languages for Latin, Cyrillic, Arabic and Devanagari text (under
  12 letters is "too short", a split vote is "unknown"); code and links are
  removed and only the first 400 characters are read;
- detection runs in a background worker process while the data is still
  being read, when the row count can be estimated up front (see `frame.py`):
  rows are drawn as they stream past with probability sample / estimate,
  then the draw is trimmed or topped up to exactly `sample` rows once the true
  count is known, which keeps it a uniform random sample.
"""

from __future__ import annotations

import os
import time

import numpy as np
import polars as pl

from dataforge.langid.detector import CONFIDENT as DETECT_CONFIDENT
from dataforge.langid.detector import MIN_LETTERS
from dataforge.langid.detector import SURE as DETECT_SURE
from dataforge.quality.findings import Finding
from dataforge.quality.langpool import NOT_LANGS, SEED, TRUNCATE, DetectorPool
from dataforge.quality.stats import share, wilson

DEFAULT_SAMPLE = 2000
PARALLEL_FROM = 1000  # texts; below this a worker process costs more than it saves
BATCH = 200
LISTED = 1000  # ids the JSON lists in full (the page shows the first five)


class LanguageSampler:
    """Which rows get detected, and their results. Feed it while reading (`offer`), then `finish`."""

    def __init__(self, fields, answer_fields, sample: int = DEFAULT_SAMPLE, expected_rows: int | None = None,
                 workers: int | None = None, parallel_from: int = PARALLEL_FROM, batch: int = BATCH):
        self.fields, self.answer_fields = tuple(fields), tuple(answer_fields)
        self.sample = max(int(sample), 1)
        self.expected = expected_rows
        # one worker per core but one: the reading (then polars) keeps the main process busy
        want = max(1, (os.cpu_count() or 1) - 1) if workers is None else workers
        expected_texts = min(self.sample, expected_rows or self.sample) * len(self.fields)
        self.pool = DetectorPool(want if want and expected_texts >= parallel_from else 0)
        self._p = min(1.0, self.sample / expected_rows) if expected_rows else None
        self._rows: list[int] = []  # row indices submitted, in order
        self._pending: list[tuple[int, list[str]]] = []
        self._batch = batch

    def offer(self, start: int, columns: dict[str, list[str]]) -> None:
        """Rows [start, start + n) have been read: draw some and send them to the detector."""
        if self._p is None:
            return
        n = len(columns[self.fields[0]])
        rng = np.random.default_rng([SEED, start])
        picked = np.flatnonzero(rng.random(n) < self._p) if self._p < 1 else np.arange(n)
        for i in picked.tolist():
            self._pending.append((start + i, [columns[f][i] for f in self.fields]))
        self._flush(self._batch)

    def _flush(self, at_least: int) -> None:
        while len(self._pending) >= at_least and self._pending:
            batch, self._pending = self._pending[:at_least], self._pending[at_least:]
            self._rows += [r for r, _ in batch]
            self.pool.submit([t[:TRUNCATE * 2] for _, texts in batch for t in texts])

    def finish(self, frame: pl.DataFrame, bar=None) -> tuple[dict, pl.DataFrame]:
        """Settle the sample on the true row count, wait for the detector; (section, answer labels)."""
        total = frame.height
        self.rows_total, self.sampled = total, total > self.sample
        self._flush(1)
        drawn = np.array(self._rows, dtype=np.int64)
        rng = np.random.default_rng([SEED, 1])
        if not self.sampled:
            keep, extra = drawn, np.setdiff1d(np.arange(total), drawn)  # a census: every row
        elif len(drawn) > self.sample:  # a uniform subset of a uniform draw is uniform
            keep, extra = np.sort(rng.choice(drawn, self.sample, replace=False)), np.empty(0, np.int64)
        else:  # top up from the rows not drawn, uniformly
            rest = np.setdiff1d(np.arange(total), drawn)
            keep, extra = drawn, np.sort(rng.choice(rest, self.sample - len(drawn), replace=False))
        texts = frame.select(pl.col(f).fill_null("").gather(extra) for f in self.fields).rows()
        for start in range(0, len(extra), self._batch):
            self._rows += extra[start:start + self._batch].tolist()
            self.pool.submit([t[:TRUNCATE * 2] for row in texts[start:start + self._batch] for t in row])
        if bar is not None:
            bar.update(total=sum(len(b) for b in self.pool.batches))
        try:
            flat = self.pool.results(bar)
        finally:
            self.pool.close()
        k = len(self.fields)
        by_row = {r: flat[i * k:(i + 1) * k] for i, r in enumerate(self._rows)}
        keep = np.sort(keep if len(extra) == 0 else np.concatenate([keep, extra]))
        results = [by_row[int(r)] for r in keep]
        self.frame = frame.select("row", "id", "lang", *self.fields).select(pl.all().gather(keep))
        labels = {f: pl.DataFrame({"lang": [r[i][0] for r in results], "prob": [r[i][1] for r in results],
                                   "sure": [bool(r[i][2]) for r in results]},
                                  schema={"lang": pl.String, "prob": pl.Float64, "sure": pl.Boolean})
                  for i, f in enumerate(self.fields)}
        elapsed = time.perf_counter() - self.pool.started
        return self._section(labels, len(self._rows) * k, elapsed, max(self.pool.workers, 1))

    def close(self) -> None:
        self.pool.close()

    def _section(self, labels: dict, texts: int, elapsed: float, workers: int) -> tuple[dict, pl.DataFrame]:
        n = self.frame.height
        detected = sum(int((~lab["lang"].is_in(NOT_LANGS)).sum()) for lab in labels.values())
        data = {
            "method": self.method(),
            "sampled": self.sampled, "rows_checked": n, "rows_total": self.rows_total, "seed": SEED,
            "min_letters": MIN_LETTERS, "truncate_chars": TRUNCATE, "workers": workers,
            "texts": texts, "texts_detected": detected, "seconds": round(elapsed, 2),
            # langdetect's own speed: texts per CPU-second of one process (excludes start-up and waiting)
            "texts_per_second": round(texts / self.pool.detect_seconds, 1) if self.pool.detect_seconds else None,
            "during_read": self._p is not None and self.pool.workers > 0,
            "fields": {name: self._field(labels[name]) for name in self.fields},
            "mismatch": {a: self._mismatch(labels["instruction"], labels[a]) for a in self.answer_fields},
            "declared": self._declared(labels[self.answer_fields[0]]),
        }
        main = self.frame.select("row").with_columns(labels[self.answer_fields[0]]["lang"])
        return data, main

    def method(self) -> str:
        scope = (f"a uniform random sample of {self.sample:,} of {self.rows_total:,} rows (seed {SEED}); shares"
                 " carry 95% Wilson intervals" if self.sampled else f"all {self.rows_total:,} rows (exact shares)")
        # no quotes or apostrophes: the page shows this text verbatim (HTML-escaped)
        return (f"the script first, then langdetect (seeded) among the languages of that script, on {scope};"
                f" each text cut to its first {TRUNCATE} characters after code and links are removed; Chinese,"
                f" Japanese, Korean, Thai and other one-language scripts are decided by their script (no length"
                f" floor); Latin, Cyrillic, Arabic and Devanagari texts with under {MIN_LETTERS} letters are too"
                f" short, answers under {DETECT_CONFIDENT:.0%} sure are unknown, and mismatches count only answers"
                f" that are sure (by script, or langdetect at {DETECT_SURE:.0%} with the function words agreeing)")

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
        # only sure answers on both sides: a script, or langdetect >= 0.9 that the function words do not contradict
        both = pl.DataFrame({"id": self.frame["id"], "a": instr["lang"], "sa": instr["sure"],
                             "b": answer["lang"], "sb": answer["sure"]})
        sure = both.filter(pl.col("sa") & pl.col("sb"))
        diff = sure.filter(pl.col("a") != pl.col("b"))
        low, high = wilson(diff.height, sure.height, self.rows_total if self.sampled else None)
        pairs = (diff.group_by("a", "b").len().sort("len", descending=True).head(8))
        return {"compared": sure.height, "count": diff.height, "share": share(diff.height, sure.height),
                "low": low, "high": high, "examples": diff["id"].head(5).to_list(),
                "ids_listed": diff["id"].head(LISTED).to_list(),
                "pairs": [{"instruction": a, "answer": b, "count": c} for a, b, c in pairs.iter_rows()]}

    def _declared(self, answer: pl.DataFrame) -> dict | None:
        declared = self.frame["lang"].fill_null("")
        if (declared != "").sum() == 0:
            return None
        both = pl.DataFrame({"id": self.frame["id"], "declared": declared.str.to_lowercase(),
                             "lang": answer["lang"], "sure": answer["sure"]})
        sure = both.filter((pl.col("declared") != "") & pl.col("sure"))
        # "zh" declared vs "zh-cn" detected is a match: compare the primary subtag
        diff = sure.filter(pl.col("declared").str.split("-").list.first()
                           != pl.col("lang").str.split("-").list.first())
        return {"compared": sure.height, "count": diff.height, "share": share(diff.height, sure.height),
                "examples": diff["id"].head(5).to_list(), "ids_listed": diff["id"].head(LISTED).to_list()}


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

