"""Options shared by every command that reads data, so they are spelled the same everywhere."""

from __future__ import annotations

import click

FILE_TYPES = ("jsonl", "json", "parquet", "csv", "hf")


def mapping_options(func):
    """--map FIELD=COLUMN (repeatable) and --format TYPE."""
    func = click.option("--format", "fmt", type=click.Choice(FILE_TYPES),
                        help="Read the input as this file type whatever its name.")(func)
    func = click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
                        help="Read COLUMN as the record field FIELD, e.g. --map output=answer.")(func)
    return func


def input_options(func):
    """--map FIELD=COLUMN (repeatable), --format TYPE, --strict."""
    func = click.option("--strict", is_flag=True,
                        help="Stop at the first bad row instead of sending it to the rejects file.")(func)
    return mapping_options(func)


def echo_summary(text: str) -> None:
    click.echo(text)
