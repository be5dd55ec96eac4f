"""`dataforge run`: a YAML recipe -> typed stages, each the library call its command makes.

    >>> from dataforge.recipes import load_recipe, run_recipe
    >>> recipe = load_recipe("recipes/quickstart.yaml", overrides=["train.epochs=2"])  # doctest: +SKIP
    >>> run_recipe(recipe)                                                             # doctest: +SKIP

- `run.py`: load a recipe (secrets refused, `--set` overrides, every stage validated) and run its
  stages in order, skipping those whose options and inputs did not change.
- `stages.py`: the stage registry; each built-in stage's options come from its function's signature.
- `check.py`: `dataforge run --check` (template and backend names, input files) before a run.
- `outputs.py`: what a stage wrote, and the rule for deleting only that before it reruns.

Dependencies point one way: run -> stages, outputs; check stands alone.
"""

from __future__ import annotations

from dataforge.recipes.check import check_recipe
from dataforge.recipes.run import Recipe, Stage, StageResult, apply_overrides, load_recipe, run_recipe

__all__ = ["Recipe", "Stage", "StageResult", "apply_overrides", "check_recipe", "load_recipe", "run_recipe"]
