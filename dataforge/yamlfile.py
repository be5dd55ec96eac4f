"""Reading a YAML mapping (recipes, training configs) with errors that point at the line."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from dataforge.errors import ConfigError


def load_yaml_mapping(path: str | os.PathLike, *, missing_hint: str, shape_message: str) -> dict:
    """The mapping in `path`; a missing file, bad YAML (with its line) or a non-mapping is a ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file", missing_hint)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: {shape_message}")
    return data


def parse_scalar(text: str):
    """A `--set key=VALUE` value read as YAML (`2` -> 2, `[a, b]` -> list), or the text as it is."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text
