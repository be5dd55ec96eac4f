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
    from dataforge.recipes import load_recipe, run_recipe

    loaded = load_recipe(recipe, overrides)
    if check:
        click.echo(f"{loaded.path}: valid; workdir {loaded.workdir}")
        for stage in loaded.stages:
            click.echo(f"  {stage.name} ({stage.kind})")
        return
    results = run_recipe(loaded, from_stage=from_stage, only=only, echo=click.echo)
    click.echo("\nstage outputs:")
    for r in results:
        outs = ", ".join(f"{k}={v}" for k, v in r.outputs.items())
        click.echo(f"  {r.name:<10} {r.status:<7} {outs}")
