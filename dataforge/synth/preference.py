"""preference: K answers per instruction, a judge scores them, best and worst make a pair.

Answers come from `--model` and, when given, `--rejected-model` in turn, at
the temperatures listed (cycled); each answer request carries its own seed,
so K samples of one prompt are K different requests in the journal. The
judge (`--judge-model`, default `--model`) sees the answers in a seeded random
order (against position bias) and scores each from 1 to 10 on the rubric,
with a rationale. The highest-scored answer is `chosen`, the lowest
`rejected`; pairs whose margin is below `--min-margin` (ties included) are
rejected with their scores.

Each pair's id is its instruction's id (`-2`, `-3`... for an instruction
that repeats), so output ids are unique and lead back to the input row.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from dataforge.errors import ConfigError
from dataforge.records import PreferenceRecord
from dataforge.synth.engine import Job, SynthOptions, SynthSummary
from dataforge.synth.parse import judge_scores
from dataforge.synth.sources import read_instructions

RUBRIC = """- Helpfulness: does it do what was asked, completely?
- Correctness: are its facts, reasoning and code right?
- Instruction following: does it respect every constraint (format, length, language)?
- Clarity: is it well organised and easy to follow?
- Honesty and harmlessness: nothing unsafe, nothing invented, uncertainty stated when due."""


@dataclass
class PreferenceOptions:
    k: int = 2  # answers per instruction
    temperatures: tuple[float, ...] = (0.7, 1.0)
    rejected_model: str | None = None
    judge_model: str | None = None
    rubric: str = RUBRIC
    min_margin: float = 1.0
    models: list[str] = field(default_factory=list)  # filled in: the model of each answer slot

    def __post_init__(self):
        if self.k < 2:
            raise ConfigError(f"--k must be at least 2 to make a pair (got {self.k})")
        if not self.temperatures:
            raise ConfigError("--temperatures needs at least one value", "e.g. --temperatures 0.7,1.0")
        if self.min_margin < 0:
            raise ConfigError(f"--min-margin must be 0 or more (got {self.min_margin:g})")


def preference(data, out, options: SynthOptions, opts: PreferenceOptions | None = None) -> SynthSummary:
    opts = opts or PreferenceOptions()
    with Job("preference", out, options, inputs=data) as job:
        models = [job.model] + ([opts.rejected_model] if opts.rejected_model else [])
        opts.models = [models[i % len(models)] for i in range(opts.k)]
        source = read_instructions(data, rejects=job.rejects, mapping=options.mapping, fmt=options.fmt)
        for batch in job.batches(source):
            _batch(job, opts, batch)
        return job.finish()


def _batch(job: Job, opts: PreferenceOptions, prompts) -> None:
    requests = []
    for p_i, prompt in enumerate(prompts):
        for slot in range(opts.k):
            temperature = opts.temperatures[slot % len(opts.temperatures)]
            requests.append(job.request("answer", tag=(p_i, slot), instruction=prompt.instruction,
                                        context=prompt.context, model=opts.models[slot], temperature=temperature,
                                        seed=job.options.seed + slot))
    results = job.run(requests, description="preference: answers")
    judged = []
    for p_i, prompt in enumerate(prompts):
        answers = []
        for res in results[p_i * opts.k:(p_i + 1) * opts.k]:
            if res.ok:
                answers.append(res)
            else:
                job.reject_result("answer", res, row={"instruction": prompt.instruction,
                                                      "model": res.request.model}, id=prompt.id)
        row = {"instruction": prompt.instruction, "answers": [a.value for a in answers]}
        if len(answers) < 2:
            job.reject(f"fewer than 2 answers: {len(answers)} of {opts.k} succeeded", row=row, id=prompt.id)
        elif len({" ".join(a.value.split()) for a in answers}) == 1:
            job.reject("tie: all answers are identical", row=row, id=prompt.id)
        else:
            order = list(range(len(answers)))
            random.Random(f"{job.options.seed}:{prompt.id}").shuffle(order)
            judged.append((prompt, answers, order))
    judge_requests = [
        job.request("preference_judge", tag=(i, len(order)), instruction=prompt.instruction, context=prompt.context,
                    responses=[answers[j].value for j in order], rubric=opts.rubric, model=opts.judge_model,
                    temperature=0.0, max_tokens=1024)
        for i, (prompt, answers, order) in enumerate(judged)]
    verdicts = job.run(judge_requests, _judge_parser, "preference: judge")
    for (prompt, answers, order), verdict in zip(judged, verdicts):
        _pair(job, opts, prompt, answers, order, verdict)


def _judge_parser(text: str, request) -> tuple[list[float], str]:
    return judge_scores(text, request.tag[1])  # tag = (index, number of answers shown)


def _pair(job: Job, opts: PreferenceOptions, prompt, answers, order, verdict) -> None:
    row = {"instruction": prompt.instruction, "answers": [a.value for a in answers]}
    if not verdict.ok:
        job.reject_result("judge", verdict, row=row, id=prompt.id)
        return
    shown_scores, rationale = verdict.value
    scores = [0.0] * len(answers)
    for shown, original in enumerate(order):
        scores[original] = shown_scores[shown]
    best = max(range(len(answers)), key=lambda i: (scores[i], -i))
    worst = min(range(len(answers)), key=lambda i: (scores[i], i))
    margin = scores[best] - scores[worst]
    if margin == 0 or margin < opts.min_margin:
        what = "tie" if margin == 0 else "low margin"
        job.reject(f"{what}: margin {margin:g} < --min-margin {opts.min_margin:g}",
                   row={**row, "scores": scores, "rationale": rationale}, id=prompt.id)
        return
    chosen, rejected = answers[best], answers[worst]
    job.add(PreferenceRecord(  # id: the input's (a repeated instruction gets "-2"... from job.add)
        id=prompt.id, instruction=prompt.instruction, context=prompt.context, chosen=chosen.value.strip(),
        rejected=rejected.value.strip(),
        meta=job.lineage([chosen, rejected, verdict], source_id=prompt.id, chosen_score=scores[best],
                         rejected_score=scores[worst], margin=margin, rationale=rationale, scores=scores,
                         chosen_model=chosen.request.model, rejected_model=rejected.request.model,
                         chosen_temperature=chosen.request.params["temperature"],
                         rejected_temperature=rejected.request.params["temperature"],
                         judge_model=verdict.request.model)))
