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


def overwrite_option(func):
    """--overwrite: let a folder output replace an existing *file* of that name (never a folder of files
    dataforge did not write). Every output check inside the command sees it (safety.overwriting)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, overwrite: bool = False, **kwargs):
        from dataforge.io.safety import overwriting

        with overwriting(overwrite):
            return func(*args, **kwargs)

    return click.option("--overwrite", is_flag=True,
                        help="Let a folder output replace an existing file of that name. Folders holding files"
                             " dataforge did not write are never replaced.")(wrapper)


def allow_empty_option(func):
    """--allow-empty: exit 0 when rows were read but none written (default: exit 1 with the reasons,
    and an earlier output at the same path is kept rather than replaced by an empty one)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from dataforge.io.safety import keeping_earlier_outputs

        with keeping_earlier_outputs(not kwargs.get("allow_empty", False)):
            return func(*args, **kwargs)

    return click.option("--allow-empty", is_flag=True,
                        help="Succeed (exit 0) even when no row was written; by default a run that reads rows"
                             " but writes none fails with the most common reasons.")(wrapper)
