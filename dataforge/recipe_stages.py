"""The built-in recipe stages: each one is the library function its command calls.

A stage's options are derived from that function's keyword parameters, so a
recipe accepts exactly what the Python call accepts (a typo is an unknown
option, with a suggestion) and stays in step with the library as it grows.
`output` is the stage's output path; `data`, `eval_data` and friends keep the
function's own names.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, create_model

from dataforge.recipes import StageKind, register_stage

# stage -> (function "module:attr", the function's name for the output path, default output name)
_FUNCTIONS = {
    "dedup": ("dataforge.dedup:dedup", "out", "{name}.jsonl"),
    "report": ("dataforge.quality.make:make_report", "out", "{name}.html"),
    "format": ("dataforge.formatting:format_dataset", "out", "{name}.jsonl"),
    "translate": ("dataforge.translate:translate", "out", "{name}.jsonl"),
    "train": ("dataforge.train:train", "output", "{name}"),
    "eval": ("dataforge.eval:evaluate", "output", "{name}"),
    "probe": ("dataforge.probe:probe", "output", "{name}"),
    "synth": ("dataforge.synth.run:run_method", "out", "{name}.jsonl"),
}
# Parameters a recipe may not set: they belong to interactive use or to Python callers.
_HIDDEN = {"callbacks", "echo", "progress", "policy", "judge"}


def _load(target: str) -> Callable:
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def _annotation(param: inspect.Parameter) -> Any:
    # Keep simple scalar/list types; anything richer is passed through as written in YAML.
    ann = param.annotation
    if isinstance(ann, str):
        simple = {"str": str, "int": int, "float": float, "bool": bool}
        parts = [p.strip() for p in ann.split("|")]
        types = [simple[p] for p in parts if p in simple]
        if len(types) == len(parts) - ("None" in parts):
            base = types[0] if len(types) == 1 else Any
            return base | None if "None" in parts else base
    return Any


def options_model(stage: str, func: Callable, out_param: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    params = inspect.signature(func).parameters
    # A function taking **options (synth) checks its own option names; the model passes them through.
    extra = "allow" if any(p.kind == p.VAR_KEYWORD for p in params.values()) else "forbid"
    for name, param in params.items():
        if name in _HIDDEN or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        field_name = "output" if name == out_param else name
        required = param.default is inspect.Parameter.empty and field_name != "output"
        fields[field_name] = (_annotation(param), ... if required else param.default
                              if param.default is not inspect.Parameter.empty else None)
    return create_model(f"{stage.title()}Stage", __config__=ConfigDict(extra=extra), **fields)


def _make_run(func: Callable, out_param: str) -> Callable[[BaseModel, Path], Any]:
    def run(options: BaseModel, workdir: Path) -> dict:
        kwargs = options.model_dump()
        kwargs[out_param] = kwargs.pop("output")
        positional = [n for n, p in inspect.signature(func).parameters.items()
                      if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is inspect.Parameter.empty]
        args = [kwargs.pop(n) for n in positional]
        return func(*args, **kwargs)
    return run


class _LazyStage(StageKind):
    """Imports the stage's library only when the recipe uses it."""

    def __init__(self, stage: str, target: str, out_param: str, default_output: str):
        self._stage, self._target, self._out = stage, target, out_param
        self.default_output = default_output
        self._model: type[BaseModel] | None = None

    @property
    def options(self) -> type[BaseModel]:  # type: ignore[override]
        if self._model is None:
            self._model = options_model(self._stage, _load(self._target), self._out)
        return self._model

    @property
    def run(self):  # type: ignore[override]
        return _make_run(_load(self._target), self._out)


for _stage, (_target, _out, _default) in _FUNCTIONS.items():
    register_stage(_stage, _LazyStage(_stage, _target, _out, _default))
