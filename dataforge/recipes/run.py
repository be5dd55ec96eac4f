"""YAML recipes: a list of stages that run the same library calls as the commands.

A recipe file looks like this:

    name: quickstart
    workdir: demo_out/quickstart
    stages:
      dedup:
        data: sample_data/dolly_en.jsonl
      report:
        data: ${dedup.output}

Stage names are the command names (synth, translate, dedup, report, format,
train, eval, probe); a second stage of the same kind takes any name plus
`type: KIND`. `${stage.output}` points at an earlier stage's output.

Every stage is keyed by a hash of its options and the content of its input
files; a rerun skips stages whose key did not change and whose outputs are
still there, and reruns the rest; before a stage reruns, what its last run
wrote is removed only if it is inside the workdir and unchanged since (see
outputs.py). Option values are checked against the types of the
library function's parameters before anything runs. Secrets are never read from recipes: a
recipe with an `api_key` (or any key/token-looking entry) is refused.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from dataforge.errors import ConfigError, DataforgeError
from dataforge.io.atomic import atomic_write_text
from dataforge.recipes.outputs import STATE_NAME, record, remove_previous
from dataforge.recipes.stages import STAGE_KINDS
from dataforge.yamlfile import load_yaml_mapping, parse_scalar

STATE_FILE = STATE_NAME
# Options that name what a stage writes: never hashed as inputs; before the stage reruns, what the last
# run wrote there is removed if it is inside the workdir and unchanged (outputs.py).
OUTPUT_KEYS = ("output", "json_out", "clusters", "preview_html")
_SECRET_KEY = re.compile(r"(api[_-]?key|secret|password|(^|_)token$)", re.I)
_REF = re.compile(r"\$\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)\}")


@dataclass
class Stage:
    name: str
    kind: str
    raw: dict  # options as written, references not yet resolved


@dataclass
class Recipe:
    path: Path
    name: str
    workdir: Path
    stages: list[Stage]
    description: str = ""


@dataclass
class StageResult:
    name: str
    status: str  # "ran", "cached", "skipped"
    outputs: dict = field(default_factory=dict)
    seconds: float = 0.0


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(sorted(choices))}"


def _refuse_secrets(node: Any, where: str, source: Path) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if _SECRET_KEY.search(str(key)) and not str(key).endswith("_env"):
                raise ConfigError(
                    f"{source}: '{where}{key}' looks like a secret; recipes never hold API keys or tokens",
                    "remove it and set it in the environment (e.g. OPENAI_API_KEY); "
                    "use `api_key_env: NAME` to say which variable to read")
            _refuse_secrets(value, f"{where}{key}.", source)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _refuse_secrets(value, f"{where}{i}.", source)


def apply_overrides(data: dict, overrides: list[str] | tuple[str, ...]) -> dict:
    """`--set train.epochs=2` sets stages.train.epochs; `--set workdir=x` sets a top-level key."""
    for item in overrides or ():
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise ConfigError(f"--set '{item}' is not KEY=VALUE", "e.g. --set train.epochs=2")
        parts = path.split(".")
        node = data if len(parts) == 1 else data.setdefault("stages", {})
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                if part not in node:
                    raise ConfigError(f"--set {path}: no stage '{part}' in this recipe",
                                      _suggest(part, node.keys()))
                raise ConfigError(f"--set {path}: '{part}' is not a section")
            node = node[part]
        node[parts[-1]] = parse_scalar(value)
    return data


def load_recipe(path: str | os.PathLike, overrides=()) -> Recipe:
    path = Path(path)
    data = load_yaml_mapping(path, missing_hint="see recipes/ for examples",
                             shape_message="a recipe is a mapping with `name`, `workdir` and `stages`")
    _refuse_secrets(data, "", path)
    data = apply_overrides(data, overrides)
    _refuse_secrets(data, "", path)
    unknown = set(data) - {"name", "description", "workdir", "stages"}
    for key in sorted(unknown):
        raise ConfigError(f"{path}: unknown top-level key '{key}'",
                          _suggest(key, ["name", "description", "workdir", "stages"]))
    stages_raw = data.get("stages")
    if not isinstance(stages_raw, dict) or not stages_raw:
        raise ConfigError(f"{path}: `stages` must map stage names to their options")
    kinds = STAGE_KINDS
    stages = []
    for name, options in stages_raw.items():
        if options is not None and not isinstance(options, dict):
            raise ConfigError(f"{path}: stages.{name} must map option names to values, not"
                              f" {_yaml_kind(options)}", "see recipes/ for examples")
        options = dict(options or {})
        kind = options.pop("type", name)
        if kind not in kinds:
            raise ConfigError(f"{path}: unknown stage '{kind}' (stages.{name})", _suggest(kind, kinds))
        stages.append(Stage(name=name, kind=kind, raw=options))
    recipe = Recipe(path=path, name=str(data.get("name") or path.stem), description=data.get("description", ""),
                    workdir=Path(data.get("workdir") or f"runs/{path.stem}"), stages=stages)
    for stage in stages:  # validate every stage before anything runs
        _validate(recipe, stage, _resolve_refs(stage, recipe, {s.name: {"output": "REF"} for s in stages}))
    return recipe


def _validate(recipe: Recipe, stage: Stage, options: dict) -> BaseModel:
    kind = STAGE_KINDS[stage.kind]
    model = _fit(recipe, stage, kind.options, options)
    if kind.extra_model is not None and model.model_extra:
        extra = kind.extra_model(options)
        if extra is not None:
            _fit(recipe, stage, extra, dict(model.model_extra))
    return model


def _yaml_kind(value: Any) -> str:
    words = {str: "a text", bool: "true/false", int: "a whole number", float: "a number", list: "a list",
             dict: "a mapping"}
    word = "null" if value is None else words.get(type(value), type(value).__name__)
    return word if isinstance(value, (list, dict)) or value is None else f"{word} ({value!r:.60})"


def _fit(recipe: Recipe, stage: Stage, model: type[BaseModel], options: dict) -> BaseModel:
    """`model(**options)`, or a ConfigError naming the file, stage, field and the type expected."""
    try:
        return model(**options)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            hint = _suggest(str(err["loc"][-1]), model.model_fields)
            raise ConfigError(f"{recipe.path}: stages.{stage.name}.{loc}: unknown option", hint) from None
        field_name = str(err["loc"][0]) if err["loc"] else ""
        expected = getattr(model, "expected", {}).get(field_name)
        if expected and field_name in options and err["type"] != "missing":
            value, got = options[field_name], _yaml_kind(options[field_name])
            index = next((p for p in err["loc"][1:] if isinstance(p, int)), None)
            if isinstance(value, list) and index is not None and index < len(value):
                got += f" whose item {index + 1} is {_yaml_kind(value[index])}"
            raise ConfigError(f"{recipe.path}: stages.{stage.name}.{field_name}: expected {expected}, got {got}",
                              f"see `dataforge {stage.kind} --help` for the option") from None
        raise ConfigError(f"{recipe.path}: stages.{stage.name}.{loc}: {err['msg']}",
                          f"see `dataforge {stage.kind} --help` for the option") from None


def _resolve_refs(stage: Stage, recipe: Recipe, outputs: dict[str, dict]) -> dict:
    def sub(value):
        if isinstance(value, str):
            def one(m):
                ref, attr = m.group(1), m.group(2)
                if ref not in outputs:
                    raise ConfigError(f"{recipe.path}: stages.{stage.name} refers to '${{{ref}.{attr}}}' "
                                      "but no earlier stage has that name",
                                      _suggest(ref, outputs) if outputs else "define that stage first")
                if attr not in outputs[ref]:
                    raise ConfigError(f"{recipe.path}: stage '{ref}' has no output '{attr}'",
                                      f"it has: {', '.join(outputs[ref])}")
                return str(outputs[ref][attr])
            return _REF.sub(one, value)
        if isinstance(value, list):
            return [sub(v) for v in value]
        if isinstance(value, dict):
            return {k: sub(v) for k, v in value.items()}
        return value

    return sub(stage.raw)


def _stage_key(kind: str, options: dict) -> str:
    """Hash of the stage kind, its options, and the content of every input path it names."""
    inputs = {k: (v if k in OUTPUT_KEYS else _fingerprint(v)) for k, v in options.items()}
    return hashlib.sha256(json.dumps([kind, inputs], sort_keys=True, default=str).encode()).hexdigest()


def _fingerprint(value: Any) -> Any:
    """Options with every existing input path replaced by a hash of its content."""
    if isinstance(value, str) and len(value) < 4096 and os.path.exists(value):
        return {"path": value, "content": _content_hash(Path(value))}
    if isinstance(value, list):
        return [_fingerprint(v) for v in value]
    if isinstance(value, dict):
        return {k: _fingerprint(v) for k, v in value.items()}
    return value


def _content_hash(path: Path) -> str:
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        h.update(str(f.relative_to(path) if f != path else "").encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _load_state(workdir: Path) -> dict:
    """Stage name -> {"key", "outputs", "written", "finished"}; anything malformed counts as no record."""
    try:
        state = json.loads((workdir / STATE_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    if not isinstance(state, dict):
        return {}
    return {name: entry for name, entry in state.items()
            if isinstance(entry, dict) and isinstance(entry.get("outputs", {}), dict)}


def run_recipe(recipe: Recipe, *, from_stage: str | None = None, only: str | None = None,
               echo: Callable[[str], None] = print,
               on_result: Callable[[str, Any], None] | None = None) -> list[StageResult]:
    """Run the stages in order; skip unchanged ones; stop at the first failure (earlier outputs stay).

    `on_result(kind, result)` receives each stage's library result (the CLI prints it).
    """
    names = [s.name for s in recipe.stages]
    for flag, value in (("--from", from_stage), ("--only", only)):
        if value is not None and value not in names:
            raise ConfigError(f"{flag} {value}: no such stage in {recipe.path}", _suggest(value, names))
    recipe.workdir.mkdir(parents=True, exist_ok=True)
    state = _load_state(recipe.workdir)
    outputs: dict[str, dict] = {}
    results: list[StageResult] = []
    started = from_stage is None
    for stage in recipe.stages:
        kind = STAGE_KINDS[stage.kind]
        options = _resolve_refs(stage, recipe, outputs)
        options.setdefault("output", str(recipe.workdir / kind.default_output.format(name=stage.name)))
        model = _validate(recipe, stage, options)
        key = _stage_key(stage.kind, model.model_dump(mode="json"))
        started = started or stage.name == from_stage
        selected = started and (only is None or stage.name == only)
        previous = state.get(stage.name, {})
        done_before = previous.get("key") == key and all(
            os.path.exists(p) for p in previous.get("outputs", {}).values() if isinstance(p, str))
        if not selected:
            outputs[stage.name] = previous.get("outputs") or {"output": options["output"]}
            results.append(StageResult(stage.name, "skipped", outputs[stage.name]))
            echo(f"[{stage.name}] not selected")
            continue
        if done_before and stage.name not in (from_stage, only):
            outputs[stage.name] = previous["outputs"]
            results.append(StageResult(stage.name, "cached", outputs[stage.name]))
            echo(f"[{stage.name}] unchanged since the last run, skipped")
            continue
        echo(f"[{stage.name}] running {stage.kind}")
        upcoming = {str(v) for k, v in model.model_dump().items() if k in OUTPUT_KEYS and v}
        remove_previous(stage.name, previous, recipe.workdir, upcoming, echo)
        t0 = time.perf_counter()
        try:
            result = kind.run(model, recipe.workdir)
        except DataforgeError as exc:
            raise type(exc)(f"stage '{stage.name}' failed: {exc.message}",
                            (exc.hint + "; " if exc.hint else "") +
                            f"earlier stages are kept; rerun with --from {stage.name}") from exc
        if on_result is not None:
            on_result(stage.kind, result)
        produced = {k: str(v) for k, v in model.model_dump().items() if k in OUTPUT_KEYS and v}
        outputs[stage.name] = produced
        state[stage.name] = {"key": key, "outputs": produced, "written": record(produced), "finished": time.time()}
        atomic_write_text(recipe.workdir / STATE_FILE, json.dumps(state, indent=2, default=str))
        results.append(StageResult(stage.name, "ran", produced, time.perf_counter() - t0))
    return results
