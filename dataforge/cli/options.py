"""Options shared by every command that reads data, so they are spelled the same everywhere."""

from __future__ import annotations

import click

FILE_TYPES = ("jsonl", "json", "parquet", "csv", "hf", "txt")


def mapping_options(func):
    """--map FIELD=COLUMN (repeatable) and --format TYPE."""
    func = click.option("--format", "fmt", type=click.Choice(FILE_TYPES),
                        help="Read the input as this file type whatever its name.")(func)
    func = click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
                        help="Read COLUMN as the record field FIELD, e.g. --map output=answer.")(func)
    return func


def input_options(func):
    """--map FIELD=COLUMN (repeatable), --format TYPE, --strict, --dataset-info FILE --dataset NAME."""
    func = click.option("--strict", is_flag=True,
                        help="Stop at the first bad row instead of sending it to the rejects file.")(func)
    return dataset_options(mapping_options(func))


def _data_optional(ctx: click.Context, _param, value):
    # With --dataset-info, DATA may be left out: relax the argument before click checks it (eager
    # options are processed first); the wrapper below still insists on one of the two.
    if value is not None:
        for param in ctx.command.params:
            if isinstance(param, click.Argument) and param.name in _DATA_NAMES:
                param.required = False
    return value


_DATA_NAMES = ("data", "seeds")


def dataset_options(func):
    """--dataset-info FILE --dataset NAME: read one dataset of a LLaMA-Factory dataset_info.json, by the format
    its entry declares. It travels to the command as the data path `FILE#NAME` (dataforge.io.dataset_info)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, dataset_info=None, dataset=None, **kwargs):
        key = next((k for k in _DATA_NAMES if k in kwargs), None)
        if dataset_info is None and dataset is None:
            if key is not None and not kwargs[key] and _required(key):
                raise click.UsageError(f"Missing argument '{key.upper()}...'.")
            return func(*args, **kwargs)
        if dataset_info is None or dataset is None:
            raise click.UsageError("--dataset-info FILE and --dataset NAME go together")
        from dataforge.io.dataset_info import ref

        if key is None:
            raise click.UsageError("this command does not read a dataset from --dataset-info")
        kwargs[key] = (*kwargs[key], ref(dataset_info, dataset))
        return func(*args, **kwargs)

    def _required(key: str) -> bool:
        ctx = click.get_current_context(silent=True)
        params = ctx.command.params if ctx is not None else []
        return any(isinstance(p, click.Argument) and p.name == key for p in params)

    wrapper = click.option("--dataset", "dataset", metavar="NAME",
                           help="With --dataset-info: the dataset (entry) to read.")(wrapper)
    return click.option("--dataset-info", "dataset_info", type=click.Path(dir_okay=False, exists=True),
                        is_eager=True, callback=_data_optional,
                        help="LLaMA-Factory's dataset_info.json: read --dataset NAME by the format its entry"
                             " declares (DATA may then be left out).")(wrapper)


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
