"""`dataforge train`, `dataforge plugins` and `dataforge merge`."""

from __future__ import annotations

import json

import click

from dataforge.cli.options import input_options


def _console():
    from rich.console import Console

    return Console()


def _table(title: str, headers, rows):
    from rich.table import Table

    table = Table(*headers, title=title, title_justify="left")
    for row in rows:
        table.add_row(*[str(c) for c in row])
    return table


@click.command("train")
@click.option("--backend", "-b", help="Trainer backend (see `dataforge plugins`): full, freeze, lora, qlora, dpo, "
                                      "reward, or a third-party one.")
@click.option("--model", "-m", type=click.Path(file_okay=False), help="Local model folder (save_pretrained output).")
@click.option("--data", "-d", multiple=True, help="Training data (any shape dataforge reads); repeatable.")
@click.option("-o", "--output", type=click.Path(), help="Output folder: adapter or model, tokenizer, config, "
                                                        "metrics.jsonl, README.md, checkpoints/.")
@click.option("--config", "-c", "config", type=click.Path(dir_okay=False),
              help="YAML file of options (and optionally backend/model/data/output); flags override it.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override one option, e.g. --set r=8.")
@click.option("--dry-run", is_flag=True, help="Check options, data and template and print the memory estimate; "
                                              "load no weights.")
@click.option("--resume", is_flag=True, help="Continue from the last complete checkpoint in the output folder.")
@click.option("--nproc", type=int, help="Processes for distributed data parallel training (torchrun; gloo on CPU).")
@click.option("--accelerate-config", type=click.Path(dir_okay=False),
              help="Launch through `accelerate launch` with this config (FSDP, DeepSpeed).")
@click.option("--help-options", is_flag=True, help="List the backend's options with defaults and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the result (or dry-run report) as JSON.")
@input_options
def train_cmd(backend, model, data, output, config, sets, dry_run, resume, nproc, accelerate_config, help_options,
              as_json, mapping, fmt, strict):
    """Fine-tune a model on a dataset with a pluggable backend.

    \b
    dataforge train -b lora -m models/tiny -d sample_data/dolly_en.jsonl -o out/lora --set r=8
    dataforge train -b dpo -m models/tiny -d prefs.jsonl -o out/dpo --dry-run
    dataforge train -c train.yaml --set learning_rate=1e-4 --resume
    """
    if help_options:
        return _print_options(backend)
    from dataforge.io.safety import check_outputs
    from dataforge.train.run import train

    check_outputs([output], [data, model, config], kind="dir", labels=["-o"])  # train decides about contents
    result = train(backend, model, list(data) or None, output, config=config, sets=sets, dry_run=dry_run,
                   resume=resume, nproc=nproc, accelerate_config=accelerate_config, mapping=mapping, fmt=fmt,
                   strict=strict)
    if dry_run:
        return _print_dry_run(result, as_json)
    if as_json:
        click.echo(json.dumps({"output": str(result.output), "backend": result.backend, "kind": result.kind,
                               "global_step": result.global_step, "world_size": result.world_size, "metrics": result.metrics,
                               "counts": result.counts, "extra": result.extra}, indent=2, default=str))
        return
    m = result.metrics
    click.echo(f"trained {result.backend} for {result.global_step} steps"
               + (f" in {result.world_size} processes" if result.world_size > 1 else "")
               + (f" (resumed from {result.resumed_from})" if result.resumed_from else ""))
    if "first_logged_loss" in m:
        click.echo(f"loss: {m['first_logged_loss']:.4f} (first logged) -> {m['last_logged_loss']:.4f} (last)")
    skip = ("eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "eval_num_tokens", "eval_epoch")
    for key in sorted(k for k in m if k.startswith("eval_") and k not in skip):
        click.echo(f"{key}: {m[key]:.4f}")
    if result.extra.get("ranks_in_sync") is False:
        click.secho("warning: the processes ended with different weights (ranks out of sync)", err=True, fg="yellow")
    c = result.counts
    click.echo(f"rows: {c['read']:,} read, {c['train']:,} trained, {c['eval']:,} held out, {c['rejected']:,} rejected")
    if result.rejects_path:
        click.echo(f"rejects: {result.rejects_path}")
    click.echo(f"output: {result.output} ({'adapter' if result.kind == 'adapter' else 'model'}, tokenizer, "
               "dataforge_train.json, metrics.jsonl, README.md)")


def _print_options(backend):
    from dataforge.errors import ConfigError
    from dataforge.train.options import describe_options
    from dataforge.train.registry import get_backend

    if not backend:
        raise ConfigError("--help-options needs --backend NAME")
    obj = get_backend(backend)
    _console().print(_table(f"options of backend '{backend}' (--set KEY=VALUE or YAML)",
                            ("option", "default", "description"), describe_options(obj.options_model)))


def _print_dry_run(report, as_json):
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
        return
    console = _console()
    console.print(_table(f"dry run: backend '{report.backend}' (no weights loaded)", ("check", "", "detail"),
                         report.checks))
    console.print(_table("memory estimate", ("item", "size", "note"), report.memory))
    if report.example:
        shown = {k: (v[:300] + "…" if isinstance(v, str) and len(v) > 300 else v) for k, v in report.example.items()}
        console.print("[bold]first row as the model sees it[/bold]")
        console.print(json.dumps(shown, ensure_ascii=False, indent=2), markup=False, highlight=False)


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def plugins_cmd(as_json):
    """List trainer backends (entry points in group `dataforge.trainers`) and whether they load."""
    from dataforge.train.registry import GROUP, list_backends

    infos = list_backends()
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in infos], indent=2))
        return
    if not infos:
        click.echo(f"no trainer backends installed (entry-point group '{GROUP}'); "
                   "pip install -e plugins/dataforge-hf-trainers")
        return
    rows = [(i.name, i.distribution, i.version, i.description if i.ok else f"[red]failed to load: {i.error}[/red]")
            for i in infos]
    _console().print(_table(f"trainer backends (entry-point group '{GROUP}')",
                            ("backend", "distribution", "version", "description"), rows))
    broken = [i for i in infos if not i.ok]
    if broken:
        click.echo(f"{len(broken)} backend(s) failed to load: " + ", ".join(f"{i.name} ({i.error})" for i in broken),
                   err=True)


@click.command("merge")
@click.option("--base", required=True, type=click.Path(file_okay=False), help="The base model folder.")
@click.option("--adapter", required=True, type=click.Path(file_okay=False), help="The LoRA/QLoRA adapter folder.")
@click.option("-o", "--output", required=True, type=click.Path(), help="Folder for the merged model.")
@click.option("--dtype", default="auto", show_default=True,
              type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
              help="dtype of the merged weights (auto: the base's; a QLoRA base: its compute dtype).")
@click.option("--json", "as_json", is_flag=True, help="Print the verification as JSON.")
def merge_cmd(base, adapter, output, dtype, as_json):
    """Merge a LoRA adapter into its base weights and verify the logits match."""
    from dataforge.io.safety import check_outputs
    from dataforge.train.merge import merge_adapter

    check_outputs([output], [base, adapter], kind="folder", with_rejects=False, labels=["-o"])
    r = merge_adapter(base, adapter, output, dtype=dtype)
    if as_json:
        click.echo(json.dumps(r.to_dict(), indent=2))
        return
    src = " (base de-quantised from 4-bit)" if r.dequantized_from_4bit else ""
    click.echo(f"merged {adapter} into {base}{src} -> {r.output} ({r.dtype})")
    for line in r.lines():  # the float32 check (the gate), then the 16-bit rounding (reported only)
        click.echo(line)
