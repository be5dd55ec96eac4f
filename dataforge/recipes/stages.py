"""The built-in recipe stages: each one is the library function its command calls.

A stage's options are derived from that function's keyword parameters, so a
recipe accepts exactly what the Python call accepts (a typo is an unknown
option, with a suggestion) and stays in step with the library as it grows.
`output` is the stage's output path; `data`, `eval_data` and friends keep the
function's own names.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import re
import typing
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, create_model


@dataclasses.dataclass
class StageKind:
    """How one kind of stage is validated and run."""

    options: type[BaseModel]  # pydantic model with extra="forbid"
    run: Callable[[BaseModel, Path], Any]  # (options, workdir) -> the library call's result
    default_output: str  # file name inside the workdir when `output` is not given
    # For a function taking **options: options -> a model the extra options must fit (or None)
    extra_model: Callable[[dict], type[BaseModel] | None] | None = None


# stage kind -> how it runs; run.py reads it, nothing here imports run.py
STAGE_KINDS: dict[str, StageKind] = {}


def register_stage(name: str, kind: StageKind) -> None:
    STAGE_KINDS[name] = kind


# stage -> (function "module:attr", the function's name for the output path, default output name)
_FUNCTIONS = {
    "dedup": ("dataforge.dedup:dedup", "out", "{name}.jsonl"),
    "report": ("dataforge.quality.make:make_report", "out", "{name}.html"),
    "format": ("dataforge.formatting:format_dataset", "out", "{name}.jsonl"),
    "translate": ("dataforge.translate:translate", "out", "{name}.jsonl"),
    "train": ("dataforge.train:train", "output", "{name}"),
    "eval": ("dataforge.eval:evaluate", "output", "{name}"),
    "probe": ("dataforge.eval.probe:probe", "output", "{name}"),
    "synth": ("dataforge.synth.run:run_method", "out", "{name}.jsonl"),
}
# Parameters a recipe may not set: they belong to interactive use or to Python callers.
_HIDDEN = {"callbacks", "echo", "progress", "policy", "judge"}
# A function taking `policy` (translate) gets these RunPolicy fields as plain stage options, as synth has them.
_POLICY_OPTIONS = ("concurrency", "timeout", "max_retries", "max_retry_wait", "rpm", "tpm", "max_tokens")


def _load(target: str) -> Callable:
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


# ----- value types from the functions' annotations --------------------------------------------
# YAML gives str/int/float/bool/list/dict/null; recipes are checked strictly against those
# (no "3" for 3, no true for 1), so `--check` catches what would crash the stage later.
_SCALARS = {"str": str, "int": int, "float": float, "bool": bool, "dict": dict, "list": list, "tuple": list,
            "os.PathLike": str, "PathLike": str, "Path": str, "pathlib.Path": str}
_WORDS = {str: "a text", int: "a whole number", float: "a number", bool: "true or false", dict: "a mapping",
          list: "a list"}
# Parameters without annotations, typed by what the commands pass for them.
_BY_NAME = {"data": "str | list[str]", "eval_data": "str | list[str]", "against": "str | list[str]",
            "adapters": "str | list[str]", "model": "str", "base": "str", "tokenizer": "str",
            "template_dir": "str", "fractions": "list[float]", "sets": "list[str]"}
_ITEM = re.compile(r"(list|tuple)\[\s*(\w+)\s*(?:,\s*\.\.\.\s*)?\]")


def _split_union(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    return parts + [text[start:].strip()]


def _one_type(text: str):
    if text in _SCALARS:
        return _SCALARS[text]
    m = _ITEM.fullmatch(text)
    if m and m.group(2) in ("str", "int", "float", "bool"):
        return list[_SCALARS[m.group(2)]]
    if text.startswith("dict["):
        return dict
    return None


def _words(tp) -> str:
    item = typing.get_args(tp)
    if item:
        return f"a list of {_WORDS[item[0]][2:]}s" if item[0] is not bool else "a list of true/false"
    return _WORDS[tp]


def value_type(annotation: str | None) -> tuple[Any, str]:
    """(type for pydantic, what a user is told is expected) for an annotation string; (Any, "") if unknown."""
    if not annotation:
        return Any, ""
    parts = _split_union(annotation)
    optional = "None" in parts
    types = [_one_type(p) for p in parts if p != "None"]
    if not types or any(t is None for t in types):
        return Any, ""
    unique = list(dict.fromkeys(types))
    tp = unique[0] if len(unique) == 1 else typing.Union[tuple(unique)]  # noqa: UP007 - built at runtime
    words = " or ".join(_words(t) for t in unique) + (" (or null)" if optional else "")
    return (tp | None if optional else tp), words


def _annotation(name: str, param: inspect.Parameter) -> str | None:
    ann = param.annotation
    if isinstance(ann, str):
        return ann
    if ann is inspect.Parameter.empty:
        return _BY_NAME.get(name)
    return getattr(ann, "__name__", None)


def options_model(stage: str, func: Callable, out_param: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    expected: dict[str, str] = {}
    params = inspect.signature(func).parameters
    # A function taking **options (synth) checks its own option names; the model passes them through.
    extra = "allow" if any(p.kind == p.VAR_KEYWORD for p in params.values()) else "forbid"
    for name, param in params.items():
        if name in _HIDDEN or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        field_name = "output" if name == out_param else name
        required = param.default is inspect.Parameter.empty and field_name != "output"
        tp, words = value_type("str" if field_name == "output" and param.annotation is inspect.Parameter.empty
                               else _annotation(name, param))
        default = param.default if param.default is not inspect.Parameter.empty else None
        if isinstance(default, tuple):
            default = list(default)  # YAML has lists, not tuples: the typed field is a list
        fields[field_name] = (tp, ... if required else default)
        if words:
            expected[field_name] = words
    if "policy" in params:
        for f in _policy_fields():
            if f.name not in fields:
                tp, words = value_type(f.type if isinstance(f.type, str) else getattr(f.type, "__name__", None))
                fields[f.name] = (tp, None)
                if words:
                    expected[f.name] = words
    model = create_model(f"{stage.title()}Stage", __config__=ConfigDict(extra=extra, strict=True), **fields)
    model.expected = expected
    return model


def _synth_extra_model(options: dict) -> type[BaseModel] | None:
    """synth takes **options: check them against SynthOptions, RunPolicy and the method's own options."""
    from dataforge.synth.run import METHOD_FUNCTIONS, RunPolicy, SynthOptions

    method = options.get("method")
    if method not in METHOD_FUNCTIONS:
        return None  # run_method names the methods
    return _dataclass_model(method, (SynthOptions, RunPolicy, METHOD_FUNCTIONS[method][1]))


@functools.lru_cache(maxsize=16)
def _dataclass_model(method: str, classes: tuple) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    expected: dict[str, str] = {}
    for cls in classes:
        for f in dataclasses.fields(cls):
            if f.name in ("policy", "progress", "handle_sigint"):
                continue
            tp, words = value_type(f.type if isinstance(f.type, str) else getattr(f.type, "__name__", None))
            fields[f.name] = (tp, None)
            if words:
                expected[f.name] = words
    model = create_model(f"Synth{method.title()}Options", __config__=ConfigDict(extra="forbid", strict=True),
                         **fields)
    model.expected = expected
    return model


def _policy_fields() -> list:
    from dataforge.llm.policy import RunPolicy

    return [f for f in dataclasses.fields(RunPolicy) if f.name in _POLICY_OPTIONS]


def _make_run(func: Callable, out_param: str) -> Callable[[BaseModel, Path], Any]:
    def run(options: BaseModel, workdir: Path) -> dict:
        kwargs = options.model_dump()
        kwargs[out_param] = kwargs.pop("output")
        if "policy" in inspect.signature(func).parameters:
            from dataforge.llm.policy import RunPolicy

            chosen = {f.name: kwargs.pop(f.name) for f in _policy_fields() if f.name in kwargs}
            kwargs["policy"] = RunPolicy(**{k: v for k, v in chosen.items() if v is not None})
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
        self.extra_model = _synth_extra_model if stage == "synth" else None

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
