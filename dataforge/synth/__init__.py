"""Synthetic data generation: `dataforge synth METHOD` as library calls.

    from dataforge.synth import SynthOptions, self_instruct, evol_instruct, backtranslate, qa, preference, completion, magpie
    opts = SynthOptions(model="gpt-4o-mini", n=200, seed=1)          # policy=RunPolicy(concurrency=32, ...)
    summary = self_instruct("seed_tasks.jsonl", "out.jsonl", opts)   # -> SynthSummary
    print("\\n".join(summary.lines()))

Every method writes its rows atomically to the output, the candidates it
could not use (with the reason) to `<out>.rejects.jsonl`, and journals every
request in `<out>.journal.sqlite` so that a rerun resumes. Each row's `meta`
carries its lineage: method, model, params, seed, source id and the request
hashes it came from.
"""

from dataforge.synth.backtranslate import BacktranslateOptions, backtranslate
from dataforge.synth.completion import CompletionOptions, completion
from dataforge.synth.engine import SynthOptions, SynthSummary
from dataforge.synth.evol import EvolOptions, evol_instruct
from dataforge.synth.magpie import MagpieOptions, magpie
from dataforge.synth.preference import PreferenceOptions, preference
from dataforge.synth.qa import QAOptions, qa
from dataforge.synth.self_instruct import SelfInstructOptions, self_instruct

METHODS = ("self-instruct", "evol-instruct", "backtranslate", "qa", "preference", "completion", "magpie")

__all__ = [
    "SynthOptions", "SynthSummary", "METHODS", "self_instruct", "SelfInstructOptions", "evol_instruct", "EvolOptions",
    "backtranslate", "BacktranslateOptions", "qa", "QAOptions", "preference", "PreferenceOptions", "completion",
    "CompletionOptions", "magpie", "MagpieOptions",
]
