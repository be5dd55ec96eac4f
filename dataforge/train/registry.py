"""Trainer backends found through the entry-point group `dataforge.trainers`.

The built-in backends (full, freeze, lora, qlora, dpo, reward) come from the
`dataforge-hf-trainers` distribution and are registered exactly like a third
party's: in its pyproject.toml,

    [project.entry-points."dataforge.trainers"]
    lora = "dataforge_hf_trainers.backends:LORA"

A backend whose import fails is listed with its error (never skipped
silently), and asking for it by name raises that error with a hint.
"""

from __future__ import annotations

import difflib
import importlib.metadata as md
from dataclasses import dataclass
from typing import Any

from dataforge.errors import ConfigError
from dataforge.train.protocol import check_backend_object

GROUP = "dataforge.trainers"
BUILTIN_DIST = "dataforge-hf-trainers"


@dataclass
class BackendInfo:
    name: str
    distribution: str
    version: str
    description: str
    target: str  # "module:attr" of the entry point
    backend: Any = None  # the loaded object, None when loading failed
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {"name": self.name, "distribution": self.distribution, "version": self.version,
                "description": self.description, "target": self.target, "ok": self.ok, "error": self.error}


def _entry_points() -> list[md.EntryPoint]:
    eps = md.entry_points(group=GROUP)
    seen, out = set(), []
    for ep in eps:  # the same dist can appear twice on sys.path (editable + site); keep the first
        key = (ep.name, ep.value)
        if key not in seen:
            seen.add(key)
            out.append(ep)
    return out


def _load(ep: md.EntryPoint) -> BackendInfo:
    dist = getattr(ep, "dist", None)
    info = BackendInfo(name=ep.name, distribution=dist.metadata["Name"] if dist else "?",
                       version=dist.version if dist else "?", description="", target=ep.value)
    try:
        obj = ep.load()
        if isinstance(obj, type):  # a class is instantiated once
            obj = obj()
    except Exception as exc:  # report any import failure, with its type
        info.error = f"{type(exc).__name__}: {exc}"
        return info
    problem = check_backend_object(obj, ep.name)
    if problem:
        info.error = problem
        return info
    if obj.name != ep.name:
        info.error = f"entry point '{ep.name}' loads a backend named '{obj.name}'"
        return info
    info.backend = obj
    info.description = str(obj.description)
    return info


def list_backends() -> list[BackendInfo]:
    """Every registered backend, loaded; failures carry their error."""
    return sorted((_load(ep) for ep in _entry_points()), key=lambda i: (i.distribution != BUILTIN_DIST, i.name))


def get_backend(name: str):
    """The backend object registered as `name`, or a ConfigError that says what exists."""
    eps = [ep for ep in _entry_points() if ep.name == name]
    if not eps:
        names = sorted({ep.name for ep in _entry_points()})
        if not names:
            raise ConfigError("no trainer backends are installed",
                              f"pip install -e plugins/{BUILTIN_DIST} (or `make setup`)")
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ConfigError(f"unknown backend '{name}'", f"{hint}installed: {', '.join(names)} (see `dataforge plugins`)")
    if len({ep.value for ep in eps}) > 1:
        where = ", ".join(f"{ep.value} ({ep.dist.metadata['Name'] if ep.dist else '?'})" for ep in eps)
        raise ConfigError(f"backend name '{name}' is registered more than once: {where}",
                          "uninstall one of the distributions")
    info = _load(eps[0])
    if not info.ok:
        raise ConfigError(f"backend '{name}' from {info.distribution} {info.version} failed to load: {info.error}",
                          "fix or reinstall that plugin; `dataforge plugins` lists every backend's status")
    return info.backend
