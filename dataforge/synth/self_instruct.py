"""self-instruct: new instructions from seed tasks, kept only if novel, then answered.

After Wang et al. (2022), "Self-Instruct": each request shows `demos` tasks
sampled from the pool (mostly seeds, a few machine-written ones once there
are some) and asks for `per_prompt` new ones. A candidate is dropped when it
is too short or long, asks for something a text model cannot do (images,
files, drawing...), starts with punctuation, or is too close to the pool:
ROUGE-L F1 >= `threshold` (0.7 in the paper) with any instruction already in
it. Survivors join the pool and are answered in a second stage. Rounds repeat
until `-n` rows exist. Rounds are processed in request order, never in
completion order, so a rerun builds the same prompts and resumes from the
journal.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

from dataforge.errors import InputError
from dataforge.records import InstructionRecord
from dataforge.synth.engine import Job, SynthOptions, SynthSummary
from dataforge.synth.parse import numbered_list
from dataforge.synth.rouge import NoveltyPool
from dataforge.synth.sources import read_instructions

# The Self-Instruct paper's filter for tasks a language model cannot carry out.
UNSUITABLE = ("image", "images", "picture", "pictures", "photo", "graph", "graphs", "file", "files", "map", "maps",
              "draw", "plot", "go to", "video", "audio", "diagram", "flowchart")
_UNSUITABLE = re.compile(r"\b(" + "|".join(re.escape(w) for w in UNSUITABLE) + r")\b", re.IGNORECASE)


@dataclass
class SelfInstructOptions:
    threshold: float = 0.7  # reject a candidate whose ROUGE-L with the pool reaches this
    demos: int = 8  # example tasks shown per request
    machine_demos: int = 2  # of which machine-written (once the pool has some)
    per_prompt: int = 8  # new tasks asked for per request
    max_rounds: int = 20
    min_words: int = 3
    max_words: int = 150


def candidate_problem(text: str, opts: SelfInstructOptions) -> str | None:
    """Why a generated instruction is unusable on its own (None when it is fine)."""
    words = len(text.split())
    if words < opts.min_words:
        return f"too short: {words} words < {opts.min_words}"
    if words > opts.max_words:
        return f"too long: {words} words > {opts.max_words}"
    match = _UNSUITABLE.search(text)
    if match:
        return f"unsuitable for a text model: mentions '{match.group(1).lower()}'"
    if not text[0].isalnum() and text[0] not in "\"'“¿¡(":
        return f"starts with punctuation '{text[0]}'"
    return None


def self_instruct(seeds, out, options: SynthOptions, opts: SelfInstructOptions | None = None) -> SynthSummary:
    """Generate `options.n` (default 100) instruction rows from the seed tasks in `seeds`."""
    opts = opts or SelfInstructOptions()
    if options.n is None:
        options.n = 100
    with Job("self-instruct", out, options, inputs=seeds) as job:
        found = read_instructions(seeds, rejects=job.rejects, mapping=options.mapping, fmt=options.fmt)
        seed_tasks = [" ".join(p.instruction.split()) for p in found]
        if not seed_tasks:
            raise InputError(f"{seeds}: no seed tasks to start from", "give a file with an instruction column")
        pool = NoveltyPool(seed_tasks, opts.threshold)
        machine: list[str] = []
        for round_no in range(1, opts.max_rounds + 1):
            need = job.need
            if not need or job.stopped:
                break
            accepted = _generate_round(job, opts, round_no, need, seed_tasks, machine, pool)
            _answer(job, accepted, round_no)
        return job.finish()


def _generate_round(job: Job, opts: SelfInstructOptions, round_no: int, need: int, seeds: list[str],
                    machine: list[str], pool: NoveltyPool) -> list[tuple[str, object]]:
    count = math.ceil(need / opts.per_prompt)
    requests = []
    for i in range(count):
        rng = random.Random(f"{job.options.seed}:{round_no}:{i}")
        from_machine = min(opts.machine_demos, len(machine))
        demos = rng.sample(seeds, min(opts.demos - from_machine, len(seeds))) + rng.sample(machine, from_machine)
        rng.shuffle(demos)
        requests.append(job.request("self_instruct_generate", tag=i, demos=demos, count=opts.per_prompt,
                                    temperature=max(job.options.temperature, 0.7)))
    results = job.run(requests, lambda text, _req: numbered_list(text), f"self-instruct round {round_no}: tasks")
    accepted: list[tuple[str, object]] = []
    for result in results:  # request order, so reruns see the same pool
        if not result.ok:
            job.reject_result("instructions", result, row={"round": round_no})
            continue
        for text in result.value:
            if len(accepted) >= need:
                break
            problem = candidate_problem(text, opts)
            if problem is None:
                novel, score, similar = pool.is_novel(text)
                if not novel:
                    problem = f"not novel: ROUGE-L {score:.2f} >= {opts.threshold:g} with '{similar[:80]}'"
            if problem:
                job.reject(problem, row={"instruction": text, "round": round_no})
                continue
            pool.add(text)
            machine.append(text)
            accepted.append((text, result))
    return accepted


def _answer(job: Job, accepted: list[tuple[str, object]], round_no: int) -> None:
    requests = [job.request("answer", tag=i, instruction=text, context="") for i, (text, _) in enumerate(accepted)]
    results = job.run(requests, description=f"self-instruct round {round_no}: answers")
    for (text, generated), answer in zip(accepted, results):
        if not answer.ok:
            job.reject_result("answer", answer, row={"instruction": text})
            continue
        job.add(InstructionRecord(instruction=text, output=answer.value.strip(), category="self-instruct",
                                  meta=job.lineage([generated, answer], round=round_no)))
