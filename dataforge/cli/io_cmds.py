"""`dataforge inspect` and `dataforge convert`."""

from __future__ import annotations

import json

import click

from dataforge.cli.options import allow_empty_option, input_options, overwrite_option
from dataforge.io.export import TARGETS


@click.command("inspect")
@click.argument("data", nargs=-1, required=True)
@input_options
@click.option("-n", "--samples", default=3, show_default=True, help="Sample rows to show.")
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False),
              help="Also write the unreadable rows to this JSONL file.")
@click.option("--json", "as_json", is_flag=True, help="Print the inspection as JSON.")
def inspect_cmd(data, mapping, fmt, strict, samples, rejects_path, as_json):
    """Show a dataset's shape, row count, columns, fill rates, samples and bad rows.

    \b
    dataforge inspect data.jsonl
    dataforge inspect seed_tasks.jsonl --map context=instances.0.input --map output=instances.0.output
    dataforge inspect --dataset-info LLaMA-Factory/data/dataset_info.json --dataset dpo_en_demo
    """
    from dataforge.inspect import inspect_dataset

    result = inspect_dataset(list(data), mapping=mapping, fmt=fmt, samples=samples,
                             rejects_path=rejects_path)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for f in result.files:
        console.print(f"[bold]{f['path']}[/bold]  type={f['type']}  shape={f['shape']}")
    console.print(f"kind: {result.kind}   rows: {result.rows:,}   good: {result.good:,}"
                  f"   rejected: {result.rejected:,}")
    if result.renamed:
        console.print(f"{result.renamed:,} rows repeat an earlier row's id: kept as ID-2, ID-3, ..."
                      " (original in meta.original_id)")
    table = Table("column", "present", "filled")
    for col, rate in result.columns.items():
        table.add_row(col, f"{rate['present']:.1%}", f"{rate['filled']:.1%}")
    console.print(table)
    for i, row in enumerate(result.samples, 1):
        console.print(f"[bold]sample {i}[/bold]", json.dumps(row, ensure_ascii=False)[:600])
    if result.rejected:
        console.print("[bold red]bad rows[/bold red]")
        for reason, count in sorted(result.reject_reasons.items(), key=lambda kv: -kv[1]):
            console.print(f"  {count:>6,}  {reason}")
        for ex in result.reject_examples:
            console.print(f"  e.g. {ex['where']}: {ex['reason']}")
    elif result.rows == 0:
        console.print("[yellow]the input has no rows (empty file)[/yellow]")


@click.command("convert")
@click.argument("data", nargs=-1, required=True)
@click.option("-o", "--output", "out", required=True, type=click.Path(),
              help="Output path; the suffix picks the file type (.jsonl .jsonl.gz .jsonl.zst .json"
                   " .parquet .csv, or a folder for a datasets folder).")
@click.option("--to", "to", type=click.Choice(TARGETS),
              help="Target shape (default: dataforge's own records). openai-preference is OpenAI's DPO JSONL;"
                   " llamafactory-alpaca/-sharegpt also write the dataset_info.json entry beside OUT.")
@input_options
@allow_empty_option
@overwrite_option
def convert_cmd(data, out, to, mapping, fmt, strict, allow_empty):
    """Convert a dataset from any supported shape to another.

    Rows the target cannot hold (a multi-turn chat as one Dolly row) are
    rejected with the reason into OUT.rejects.jsonl, never flattened.
    """
    from dataforge.convert import convert

    summary = convert(list(data), out, to=to, mapping=mapping, fmt=fmt, strict=strict, allow_empty=allow_empty)
    click.echo(summary.line())
    click.echo(f"output: {summary.output}")
    if summary.dataset_info:
        click.echo(f"dataset_info: {summary.dataset_info} (entry '{summary.dataset_name}')")
    if summary.rejects_path:
        click.echo(f"rejects: {summary.rejects_path}")
        for reason, count in sorted(summary.reasons.items(), key=lambda kv: -kv[1])[:5]:
            click.echo(f"  {count:>6,}  {reason}")
