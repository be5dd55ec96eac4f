"""The `dataforge` group: global flags, lazy subcommands, one-line errors.

Subcommands live in their own modules and are imported only when run (or
when --help lists them), so `dataforge --help` stays fast and never imports
torch. A DataforgeError prints `error:` and `hint:` lines and exits 1, and so
does a full disk, a forbidden path or exhausted memory (cli/crashes.py); with
--debug the traceback is shown too. SIGTERM exits 143 after the cleanup ran.
"""

from __future__ import annotations

import importlib
import sys

import click

from dataforge import __version__

# name -> "module:attribute"; each module keeps heavy imports inside the command body.
COMMANDS = {
    "inspect": "dataforge.cli.io_cmds:inspect_cmd",
    "convert": "dataforge.cli.io_cmds:convert_cmd",
    "report": "dataforge.cli.report_cmd:report_cmd",
    "synth": "dataforge.cli.synth_cmd:synth_cmd",
    "dedup": "dataforge.cli.dedup_cmd:dedup_cmd",
    "translate": "dataforge.cli.translate_cmd:translate_cmd",
    "format": "dataforge.cli.format_cmd:format_cmd",
    "templates": "dataforge.cli.format_cmd:templates_cmd",
    "train": "dataforge.cli.train_cmd:train_cmd",
    "plugins": "dataforge.cli.train_cmd:plugins_cmd",
    "merge": "dataforge.cli.train_cmd:merge_cmd",
    "run": "dataforge.cli.run_cmd:run_cmd",
    "eval": "dataforge.cli.eval_cmd:eval_cmd",
    "probe": "dataforge.cli.eval_cmd:probe_cmd",
    "chat": "dataforge.cli.chat_cmd:chat_cmd",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx):
        from dataforge.cli.crashes import Terminated, describe, sigterm_raises
        from dataforge.errors import DataforgeError

        def debug() -> bool:  # read when it fails: the group callback sets it inside invoke
            return bool(ctx.obj and ctx.obj.get("debug"))

        try:
            with sigterm_raises():
                return super().invoke(ctx)
        except DataforgeError as exc:
            if debug():
                raise
            _error(exc.message, exc.hint)
            ctx.exit(1)
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            click.echo("terminated" if terminated else "interrupted", err=True)
            ctx.exit(143 if terminated else 130)
        except (OSError, MemoryError, RecursionError, UnicodeEncodeError) as exc:
            described = None if debug() else describe(exc)
            if described is None:
                raise
            _error(*described)
            ctx.exit(1)


def _error(message: str, hint: str | None) -> None:
    click.secho(f"error: {message}", err=True, fg="red")
    if hint:
        click.echo(f"hint: {hint}", err=True)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="dataforge")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars; only results and errors.")
@click.pass_context
def cli(ctx, debug: bool, quiet: bool):
    """Make fine-tuning datasets and train on them.

    Generate (synth), translate, deduplicate, check (report), format and train;
    `dataforge run` chains them from a YAML recipe.
    """
    from dataforge.io.safety import set_command
    from dataforge.progress import set_quiet

    set_command(ctx.invoked_subcommand or "dataforge")
    _safe_streams()
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["quiet"] = quiet
    set_quiet(quiet)


def _safe_streams() -> None:
    """A terminal that cannot show some characters (PYTHONIOENCODING=ascii) gets \\uXXXX escapes, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def main() -> None:  # console script entry point
    cli(prog_name="dataforge")


if __name__ == "__main__":
    sys.exit(main())
