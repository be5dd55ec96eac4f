"""`dataforge run RECIPE.yaml`: run a recipe's stages, skipping the unchanged ones."""

from __future__ import annotations

import click


@click.command("run")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="STAGE.KEY=VALUE",
              help="Override a stage option, e.g. --set train.epochs=2 (repeatable).")
@click.option("--from", "from_stage", metavar="STAGE", help="Rerun from this stage on, even if unchanged.")
@click.option("--only", metavar="STAGE", help="Run only this stage (its inputs must exist).")
@click.option("--check", is_flag=True, help="Validate the recipe and list its stages; run nothing.")
def run_cmd(recipe, overrides, from_stage, only, check):
    """Run a YAML recipe (see recipes/): synth, translate, dedup, report, format, train, eval, probe."""
    from dataforge.recipes import check_recipe, load_recipe, run_recipe

    loaded = load_recipe(recipe, overrides)
    check_recipe(loaded)  # template and backend names, input files: fail before any stage runs
    if check:
        click.echo(f"{loaded.path}: valid; workdir {loaded.workdir}")
        for stage in loaded.stages:
            click.echo(f"  {stage.name} ({stage.kind})")
        return
    results = run_recipe(loaded, from_stage=from_stage, only=only, echo=click.echo, on_result=print_stage_result)
    click.echo("\nstage outputs:")
    for r in results:
        outs = ", ".join(f"{k}={v}" for k, v in r.outputs.items())
        click.echo(f"  {r.name:<10} {r.status:<7} {outs}")


def print_stage_result(kind: str, result) -> None:
    """Print what the stage's own command would print about its result."""
    if kind == "eval":
        from dataforge.cli.eval_cmd import _print_eval

        _print_eval(result.data)
    elif kind == "report":
        from dataforge.quality.terminal import print_summary

        print_summary(result)
    elif kind == "train" and hasattr(result, "metrics"):
        m = result.metrics
        click.echo(f"  trained {result.backend} for {result.global_step} steps")
        if "first_logged_loss" in m and "last_logged_loss" in m:
            click.echo(f"  loss: {m['first_logged_loss']:.4f} (first logged) -> {m['last_logged_loss']:.4f} (last)")
        if result.extra.get("fine_tuned_model"):
            click.echo(f"  fine-tuned model: {result.extra['fine_tuned_model']}")
    elif hasattr(result, "lines"):
        for line in result.lines():
            click.echo(f"  {line}")
    elif hasattr(result, "line"):
        click.echo(f"  {result.line()}")
