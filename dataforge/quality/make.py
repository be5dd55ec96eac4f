"""`make_report`: the whole `dataforge report` job as one library call (used by recipes too)."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from dataforge.io import atomic_write_text, rejects_path_for
from dataforge.io.safety import check_outputs


def make_report(data, out: str | os.PathLike = "report.html", *, json_out: str | os.PathLike | None = None,
                compare=None, tokenizer=None, sample: int = 2000, max_length: int = 2048, mapping=None,
                fmt: str | None = None, strict: bool = False) -> dict:
    """Measure DATA, write the HTML page to `out` (and the numbers to `json_out`); return the report dict."""
    from dataforge.quality.compare import compare_reports
    from dataforge.quality.html import write_html
    from dataforge.quality.report import build_report

    options = dict(tokenizer=tokenizer, sample=sample, max_length=max_length, mapping=mapping, fmt=fmt,
                   strict=strict)
    data = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    check_outputs([out, json_out], [data, compare, tokenizer], kind="file", labels=["-o", "--json"])  # io/safety.py
    report = build_report(data, rejects_path=rejects_path_for(out), **options)
    if compare:
        other = build_report(compare, rejects_path=rejects_path_for(f"{out}.compare"), **options)
        report["compare"] = compare_reports(report, other)
    write_html(report, Path(out))
    if json_out:
        atomic_write_text(json_out, orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY,
                                                 default=str).decode())
    return report
