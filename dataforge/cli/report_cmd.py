"""`dataforge report`: a dataset quality report (HTML page, JSON, terminal summary)."""

from __future__ import annotations

import click

from dataforge.cli.options import input_options


@click.command("report")
@click.argument("data", nargs=-1, required=True)
@click.option("-o", "--output", "out", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="The HTML page (self-contained: opens offline).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False),
              help="Also write every number of the report as JSON to this file.")
@click.option("--tokenizer", metavar="DIR|FILE.model",
              help="Count tokens exactly with this tokenizer: a Hugging Face tokenizer folder, a tokenizer.json,"
                   " or a SentencePiece .model (default: estimate from per-script rates of OpenAI's o200k_base).")
@click.option("--compare", "compare", metavar="OTHER",
              help="A second dataset to show side by side (e.g. before/after dedup or translation).")
@click.option("--sample", default=2000, show_default=True, type=click.IntRange(min=1),
              help="Detect languages on at most this many rows (a seeded random sample above it, with"
                   " confidence intervals).")
@click.option("--max-length", default=2048, show_default=True, type=click.IntRange(min=1),
              help="Context length in tokens: rows longer than this are reported.")
@input_options
def report_cmd(data, out, json_out, tokenizer, compare, sample, max_length, mapping, fmt, strict):
    """Report what is in a dataset: lengths, languages, duplicates, content signals,
    preference-pair checks and fine-tuning readiness.

    Writes one HTML page (-o), optionally the same numbers as JSON (--json), and
    prints the worst findings. Rows that cannot be read are listed in the report
    and written to OUT.rejects.jsonl.
    """
    from pathlib import Path

    from dataforge.io.safety import check_outputs
    from dataforge.quality.make import make_report
    from dataforge.quality.terminal import print_summary

    check_outputs([out, json_out], [data, compare, tokenizer], kind="file", labels=["-o", "--json"])

    report = make_report(list(data), out, json_out=json_out, compare=compare, tokenizer=tokenizer, sample=sample,
                         max_length=max_length, mapping=mapping, fmt=fmt, strict=strict)
    print_summary(report)
    click.echo(f"report: {Path(out)}")
    if json_out:
        click.echo(f"json: {Path(json_out)}")
    for rep in (report, report.get("compare", {}).get("other")):
        if rep and rep["rejects"].get("file"):
            click.echo(f"rejects: {rep['rejects']['file']}")
