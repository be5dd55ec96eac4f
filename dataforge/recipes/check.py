"""`dataforge run --check`: the values a recipe's stages would trip over, found before anything runs.

Types and option names are checked when the recipe loads (run.py); this checks what is cheap to
check beyond them: template names (the packs, with the stage's template_dir), backend names (the
trainer plugins' entry points, translate's and synth's backends) and that every input file exists,
except those an earlier stage writes (`${stage.output}` or a path an earlier stage names as output).
"""

from __future__ import annotations

import glob
import os

from dataforge.errors import ConfigError, DataforgeError

_INPUT_KEYS = ("data", "eval_data", "against", "template_dir")
_REF = "${"


def check_recipe(recipe) -> None:
    """Raise ConfigError naming the file, stage and option of the first value that cannot work."""
    produced: set[str] = set()
    for stage in recipe.stages:
        raw = stage.raw
        where = f"{recipe.path}: stages.{stage.name}"
        try:
            _check_template(stage.kind, raw)
            _check_backend(stage.kind, raw)
        except DataforgeError as exc:
            raise ConfigError(f"{where}: {exc.message}", exc.hint) from None
        for key in _INPUT_KEYS:
            for value in _paths(raw.get(key)):
                if _REF in value or os.path.normpath(value) in produced or _exists(value):
                    continue
                raise ConfigError(f"{where}.{key}: {value}: no such file or folder",
                                  "check the path (relative paths start from the folder you run in)")
        out = raw.get("output")
        if isinstance(out, str):
            produced.add(os.path.normpath(out))


def _paths(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _exists(value: str) -> bool:
    from dataforge.io.dataset_info import split_ref

    if os.path.exists(value) or split_ref(value) is not None:
        return True
    return any(ch in value for ch in "*?[") and bool(glob.glob(value, recursive=True))


def _check_template(kind: str, raw: dict) -> None:
    template = raw.get("template")
    if kind not in ("format", "eval") or not isinstance(template, str) or _REF in template:
        return
    template_dir = raw.get("template_dir")
    if isinstance(template_dir, str) and _REF in template_dir:
        return  # written by an earlier stage: nothing to look in yet
    if template == "chat" or template.startswith("chat:"):
        folder = template[5:]
        if folder and _REF not in folder and not os.path.exists(folder):
            raise ConfigError(f"template: {template}: no tokenizer folder {folder}", "check the path")
        return
    from dataforge.templates.pack import find_pack, pack_dirs

    find_pack(template, pack_dirs(template_dir))


def _check_backend(kind: str, raw: dict) -> None:
    backend = raw.get("backend")
    if not isinstance(backend, str) or _REF in backend:
        return
    if kind in ("train", "probe"):
        from dataforge.train.registry import _entry_points

        names = sorted({ep.name for ep in _entry_points()})
        if names and backend not in names:  # none installed: the stage says how to install them
            import difflib

            close = difflib.get_close_matches(backend, names, n=1, cutoff=0.5)
            raise ConfigError(f"backend: unknown backend '{backend}'",
                              (f"did you mean '{close[0]}'? " if close else "")
                              + f"installed: {', '.join(names)} (see `dataforge plugins`)")
    elif kind in ("translate", "synth"):
        from dataforge.llm import BACKENDS

        if backend not in BACKENDS:
            raise ConfigError(f"backend: unknown backend '{backend}'", f"use one of: {', '.join(BACKENDS)}")
