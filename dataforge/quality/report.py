"""`build_report`: read a dataset once, measure everything, return the report as a dict.

    >>> from dataforge.quality import build_report, write_html
    >>> report = build_report("sample_data/dolly_en.jsonl")            # doctest: +SKIP
    >>> [f["title"] for f in report["findings"][:3]]                   # doctest: +SKIP
    >>> write_html(report, "report.html")                              # doctest: +SKIP

The dict is the single source of truth: `--json` writes it as is, and the HTML
page is drawn only from it, so every number on the page is in the JSON.
"""

from __future__ import annotations

import datetime as _dt
import time

import numpy as np
import polars as pl

from dataforge import __version__
from dataforge.progress import progress_bar
from dataforge.quality import duplicates, languages, lengths, preference, readiness, repetition, signals
from dataforge.quality.findings import Finding, by_rate, plural, rank
from dataforge.quality.frame import (
    ANSWER_FIELDS,
    estimate_rows,
    load_frame,
    release_freed_memory,
    with_sliced_columns,
)
from dataforge.quality.ngrams import chunks
from dataforge.quality.tokens import estimate_expr, load_tokenizer

SCHEMA = 1
SNIPPET = 700  # characters of each field kept for example rows


def build_report(data, *, tokenizer=None, sample: int = languages.DEFAULT_SAMPLE,
                 max_length: int = readiness.DEFAULT_MAX_LENGTH, mapping=None, fmt: str | None = None,
                 strict: bool = False, rejects_path=None, lang_workers: int | None = None) -> dict:
    """Measure DATA (paths, as read_dataset takes them) and return the report dict."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    counter = load_tokenizer(tokenizer)  # a bad --tokenizer fails before any reading
    job: list[languages.LanguageSampler] = []

    def on_open(ds):  # start detecting languages on rows as they are read (see languages.py)
        answers = ANSWER_FIELDS[ds.kind]
        job.append(languages.LanguageSampler(("instruction", *answers), answers, sample, estimate_rows(ds),
                                             lang_workers))
        return job[0].offer

    try:
        loaded = load_frame(data, mapping=mapping, fmt=fmt, rejects_path=rejects_path, strict=strict,
                            on_open=on_open)
    except BaseException:
        for j in job:
            j.close()
        raise
    timings["read"] = _lap(clock)
    frame, fields, answers = loaded.frame, loaded.text_fields, loaded.answer_fields
    report = {
        "schema": SCHEMA, "tool": f"dataforge {__version__}",
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "input": {"data": [str(d) for d in (data if isinstance(data, (list, tuple)) else [data])],
                  "files": loaded.files, "shape": loaded.shape, "kind": loaded.kind, "fields": list(fields)},
        "settings": {"sample": sample, "max_length": max_length, "tokenizer": str(tokenizer) if tokenizer else None,
                     "seed": languages.SEED},
        "rows": {"read": loaded.read, "usable": frame.height, "rejected": loaded.rejected},
        "rejects": loaded.rejects,
    }
    found: list[Finding] = []
    if loaded.rejected:
        rej = loaded.rejects
        top = "; ".join(f"{r} ×{n}" for r, n in list(rej["by_reason"].items())[:3])
        found.append(Finding("rejected_rows", by_rate(loaded.rejected, loaded.read, high=0.05, medium=0.0),
                             f"{plural(loaded.rejected)} could not be read", f"{top}. Listed under 'Rejected rows'"
                             + (f" and in {rej['file']}." if rej["file"] else "."),
                             loaded.rejected, loaded.rejected / loaded.read, [], "rejects"))
    if frame.height == 0:
        job[0].close()
        loaded.duplicates.close()
        found.append(Finding("no_usable_rows", "high", "no usable rows", "every row was rejected; see below.",
                             loaded.read, 1.0, [], "rejects"))
        report.update(findings=[f.to_dict() for f in rank(found)], examples={}, timings=timings)
        return report

    try:
        t = time.perf_counter()
        # dedup's decisions first, while the frame has only its text columns: the MinHash band keys of
        # every distinct row (144 bytes each) then never coincide with the measured columns (peak memory)
        dup_found = loaded.duplicates.finish()
        release_freed_memory()
        dup_seconds = time.perf_counter() - t
        frame = _measure(frame, fields, answers, counter, timings)
        with progress_bar("analysing", total=6, unit="steps") as bar:
            t = time.perf_counter()
            report["lengths"] = lengths.section(frame, fields, counter.note)
            found += lengths.findings(report["lengths"], frame.height)
            bar.advance()
            dup = duplicates.section(frame, loaded.kind, dup_found)  # what `dedup` with defaults would remove
            report["duplicates"] = dup
            found += duplicates.findings(dup, frame.height, loaded.kind)
            timings["duplicates"] = round(_lap(t) + dup_seconds, 2)
            bar.advance()
            t = time.perf_counter()
            sigs, _ = signals.section(frame, fields, answers)
            sigs["categories"] = signals.categories(frame) if loaded.kind == "instruction" else None
            report["signals"] = sigs
            found += signals.findings(sigs, frame.height, loaded.kind)
            report["repetition"] = repetition.section(frame, answers)
            found += repetition.findings(report["repetition"], frame.height)
            timings["signals"] = _lap(t)
            bar.advance()
            report["preference"] = preference.section(frame) if loaded.kind == "preference" else None
            if report["preference"]:
                found += preference.findings(report["preference"], frame.height)
            bar.advance()
            report["readiness"] = readiness.section(frame, max_length, counter.exact)
            found += readiness.findings(report["readiness"])
            bar.advance(2)
        t = time.perf_counter()
        with progress_bar("languages", unit="texts") as bar:
            lang, labels = job[0].finish(frame, bar)
        report["languages"] = lang
        report["lengths"]["by_language"] = lengths.by_language(frame, fields, labels, report["lengths"])
        found += languages.findings(lang, answers)
        timings["languages_wait"] = _lap(t)
    finally:
        job[0].close()
        loaded.duplicates.close()
    ranked = rank(found)
    report["findings"] = [f.to_dict() for f in ranked]
    report["examples"] = examples(frame, fields, report)
    timings["total"] = _lap(clock)
    report["timings"] = timings
    return report


def _measure(frame: pl.DataFrame, fields, answers, counter, timings: dict):
    """Add per-field length, word, repetition and token columns."""
    t = time.perf_counter()
    frame = lengths.add_char_columns(frame, (*fields, "system"))
    rows = frame.height
    words = {name: np.zeros(rows, np.uint32) for name in fields}
    reps = {name: np.zeros(rows, np.float32) for name in answers}
    with progress_bar("measuring", total=rows, unit="rows") as bar:
        for part in chunks(frame, fields):
            for name, ch in part.items():
                n = len(ch.words)
                words[name][ch.start:ch.start + n] = ch.words
                if name in reps:
                    reps[name][ch.start:ch.start + n] = repetition.ratios(ch.rows, ch.hashes, ch.full, ch.start, n)
            bar.advance(n)
    extra = {f"{name}__words": w for name, w in words.items()}
    extra.update({f"{name}__repetition": r for name, r in reps.items()})
    frame = frame.with_columns([pl.Series(k, v) for k, v in extra.items()])
    timings["measure"] = _lap(t)
    t = time.perf_counter()
    if counter.exact:
        with progress_bar("tokens", total=rows * (len(fields) + 1), unit="texts") as bar:
            counted = [pl.Series(f"{f}__tokens", counter.count(frame[f], bar)) for f in (*fields, "system")]
        frame = frame.with_columns(counted)
    else:
        frame = with_sliced_columns(frame, [estimate_expr(f).alias(f"{f}__tokens") for f in (*fields, "system")])
    frame = frame.with_columns(readiness.row_tokens_expr(fields))
    release_freed_memory()  # the chunks' word lists and token lists are gone: give their pages back
    timings["tokens"] = _lap(t)
    return frame


def examples(frame: pl.DataFrame, fields, report: dict) -> dict:
    """Snippets of every row a finding or table links to, keyed by id (secrets masked)."""
    flagged: dict[str, list[str]] = {}
    for f in report["findings"]:
        for rid in f["examples"]:
            flagged.setdefault(rid, []).append(f["title"])
    near = report.get("duplicates", {}).get("near") or {}
    for p in near.get("example_pairs", []):
        for rid, other in ((p["a"], p["b"]), (p["b"], p["a"])):
            flagged.setdefault(rid, []).append(f"near-duplicate of {other}")
    if not flagged:
        return {}
    rows = frame.filter(pl.col("id").is_in(list(flagged))).select("row", "id", "file", "line", *fields)
    files = [f["path"] for f in report["input"]["files"]]
    out = {}
    for r in rows.iter_rows(named=True):
        entry = {"row": r["row"], "where": f"{files[r['file']] if r['file'] < len(files) else ''}:{r['line']}",
                 "flagged": list(dict.fromkeys(flagged[r["id"]]))}
        for name in fields:
            text = r[name] or ""
            entry[name] = signals.redact(text[:SNIPPET]) + ("…" if len(text) > SNIPPET else "")
        out[r["id"]] = entry
    return out


def _lap(start: float) -> float:
    return round(time.perf_counter() - start, 2)
