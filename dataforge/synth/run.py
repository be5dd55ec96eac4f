"""One call for any synth method from flat options (what a recipe stage holds).

    >>> run_method("qa", "passages.txt", "qa.jsonl", model="m", base_url="http://127.0.0.1:8000/v1",
    ...            n=50, per_passage=2)                                   # doctest: +SKIP

Shared options go to SynthOptions, request policy options to RunPolicy, and
the rest to the method's own options class; an option none of them has is an
error naming the method's options.
"""

from __future__ import annotations

import dataclasses

from dataforge.errors import ConfigError
from dataforge.llm import RunPolicy
from dataforge.synth.backtranslate import BacktranslateOptions, backtranslate
from dataforge.synth.completion import CompletionOptions, completion
from dataforge.synth.engine import SynthOptions, SynthSummary
from dataforge.synth.evol import EvolOptions, evol_instruct
from dataforge.synth.magpie import MagpieOptions, magpie
from dataforge.synth.preference import PreferenceOptions, preference
from dataforge.synth.qa import QAOptions, qa
from dataforge.synth.self_instruct import SelfInstructOptions, self_instruct

METHOD_FUNCTIONS = {
    "self-instruct": (self_instruct, SelfInstructOptions),
    "evol-instruct": (evol_instruct, EvolOptions),
    "backtranslate": (backtranslate, BacktranslateOptions),
    "qa": (qa, QAOptions),
    "preference": (preference, PreferenceOptions),
    "completion": (completion, CompletionOptions),
    "magpie": (magpie, MagpieOptions),
}
NO_INPUT = ("magpie",)  # writes its instructions from the model alone


def _names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def run_method(method: str, data=None, out=None, **options) -> SynthSummary:
    """Run synth METHOD on `data` into `out`; options are the CLI's, in snake_case. magpie reads no data."""
    if method not in METHOD_FUNCTIONS:
        raise ConfigError(f"unknown synth method '{method}'", f"use one of: {', '.join(METHOD_FUNCTIONS)}")
    if out is None:
        raise ConfigError(f"synth {method}: no output path given")
    if method in NO_INPUT and data:
        raise ConfigError(f"synth {method} reads no data (it was given {data!r})",
                          "leave out `data`: the model writes the instructions itself")
    if method not in NO_INPUT and not data:
        raise ConfigError(f"synth {method} needs `data` (the file or folder it starts from)")
    func, method_cls = METHOD_FUNCTIONS[method]
    shared = {k: options.pop(k) for k in list(options) if k in _names(SynthOptions) - {"policy"}}
    policy = {k: options.pop(k) for k in list(options) if k in _names(RunPolicy)}
    own = {k: options.pop(k) for k in list(options) if k in _names(method_cls)}
    if options:
        known = sorted(_names(SynthOptions) | _names(RunPolicy) | _names(method_cls))
        raise ConfigError(f"synth {method}: unknown option(s) {', '.join(sorted(options))}",
                          f"options are: {', '.join(known)}")
    for key in ("operations", "temperatures", "stop"):
        if isinstance(own.get(key), list):
            own[key] = tuple(own[key])
    policy.setdefault("seed", shared.get("seed", 0))
    settings = SynthOptions(**shared, policy=RunPolicy(**policy))
    if method in NO_INPUT:
        return func(out, settings, method_cls(**own))
    return func(data, out, settings, method_cls(**own))
