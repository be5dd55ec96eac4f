"""evol-instruct: make instructions harder (depth) or new (breadth), drop failed evolutions.

After Xu et al. (2023), "WizardLM". Each round, every instruction is evolved
by one operation picked with the seed: in depth (add a constraint, deepen,
concretise, require more reasoning steps) or in breadth (a new, rarer
instruction in the same domain). An evolution is eliminated when
1. it brings no information gain over its parent: ROUGE-L >= `equal_threshold`
   (default), or the model itself says "Equal" (`equality="llm"`, as in the paper);
2. its answer declines: it contains "sorry" and is shorter than 80 words;
3. its answer is only punctuation and stop words;
4. it copies words of the evolving prompt ("given prompt", "#Rewritten Prompt#"...).
An eliminated instruction's parent goes on to the next round, as in the paper.
Every surviving (instruction, answer) pair of every round is a row.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from dataforge.errors import ConfigError
from dataforge.records import InstructionRecord
from dataforge.synth.engine import Job, SynthOptions, SynthSummary
from dataforge.synth.parse import equal_verdict, evolved_prompt
from dataforge.synth.rouge import rouge_l
from dataforge.synth.sources import read_instructions

DEPTH = {
    "constraints": "add one more constraint or requirement to it.",
    "deepen": "if it asks about a specific issue, widen and deepen the inquiry.",
    "concretize": "replace general concepts with more specific ones.",
    "reasoning": "if it can be solved with a few simple steps of thought, make it explicitly require "
                 "reasoning in several steps.",
}
OPERATIONS = (*DEPTH, "breadth")
COPIED = ("given prompt", "rewritten prompt", "original prompt", "created prompt", "#rewritten prompt#",
          "#created prompt#", "#given prompt#")
STOPWORDS = frozenset("""a an the and or but if of to in on at by for with as is are was were be been it its this that
these those i you he she we they me him her us them my your our their not no yes so do does did done have has had
""".split())


@dataclass
class EvolOptions:
    rounds: int = 1
    operations: tuple[str, ...] = OPERATIONS
    equality: str = "rouge"  # or "llm": ask the model whether parent and child are equal
    equal_threshold: float = 0.9

    def __post_init__(self):
        unknown = set(self.operations) - set(OPERATIONS)
        if unknown or not self.operations:
            raise ConfigError(f"unknown evolution operation(s): {', '.join(sorted(unknown)) or '(none given)'}",
                              f"use some of: {', '.join(OPERATIONS)}")
        if self.equality not in ("rouge", "llm"):
            raise ConfigError(f"--equality must be rouge or llm (got {self.equality})")


@dataclass
class _Item:
    instruction: str
    context: str
    id: str
    root: str
    ops: tuple = ()


def eliminated_answer(answer: str) -> str | None:
    """Rules 2 and 3 on an evolved instruction's answer."""
    words = answer.split()
    if "sorry" in answer.lower() and len(words) < 80:
        return "eliminated: the answer declines ('sorry' in a short answer)"
    if all(w.lower() in STOPWORDS for w in re.findall(r"[^\W_]+", answer)):
        return "eliminated: the answer is only punctuation and stop words"
    return None


def eliminated_instruction(child: str, parent: str, threshold: float) -> str | None:
    """Rules 4 and (ROUGE variant of) 1 on an evolved instruction."""
    low = child.lower()
    copied = next((c for c in COPIED if c in low), None)
    if copied:
        return f"eliminated: copies the evolving prompt's words ('{copied}')"
    if " ".join(child.split()) == " ".join(parent.split()):
        return "eliminated: no information gain (identical to its parent)"
    similarity = rouge_l(child, parent)
    if similarity >= threshold:
        return f"eliminated: no information gain (ROUGE-L {similarity:.2f} with its parent)"
    return None


def evol_instruct(data, out, options: SynthOptions, opts: EvolOptions | None = None) -> SynthSummary:
    """Evolve the instructions in `data` for `opts.rounds` rounds; every surviving evolution is a row."""
    opts = opts or EvolOptions()
    with Job("evol-instruct", out, options, inputs=data) as job:
        source = read_instructions(data, rejects=job.rejects, mapping=options.mapping, fmt=options.fmt)
        for batch in job.batches(source, rows_per_item=opts.rounds):
            items = [_Item(p.instruction, p.context, p.id, p.id) for p in batch]
            for round_no in range(1, opts.rounds + 1):
                items = _round(job, opts, items, round_no)
                if not items or job.need == 0 or job.stopped:
                    break
        return job.finish()


def _round(job: Job, opts: EvolOptions, items: list[_Item], round_no: int) -> list[_Item]:
    seed = job.options.seed
    requests, chosen = [], []
    for i, item in enumerate(items):
        op = random.Random(f"{seed}:{item.id}:{round_no}").choice(opts.operations)
        chosen.append(op)
        if op == "breadth":
            requests.append(job.request("evol_breadth", tag=i, instruction=item.instruction))
        else:
            requests.append(job.request("evol_depth", tag=i, instruction=item.instruction, method=DEPTH[op]))
    results = job.run(requests, lambda text, _r: evolved_prompt(text), f"evol-instruct round {round_no}: evolve")
    survivors, next_items = [], []
    for item, op, res in zip(items, chosen, results):
        if not res.ok:
            job.reject_result("evolve", res, row={"instruction": item.instruction, "operation": op}, id=item.id)
            next_items.append(item)
            continue
        problem = eliminated_instruction(res.value, item.instruction, opts.equal_threshold)
        if problem:
            job.reject(problem, row={"parent": item.instruction, "evolved": res.value, "operation": op}, id=item.id)
            next_items.append(item)
            continue
        survivors.append((item, op, res))
    if opts.equality == "llm" and survivors:
        checks = [job.request("evol_equal", tag=i, original=item.instruction, evolved=res.value, temperature=0.0,
                              max_tokens=16) for i, (item, _, res) in enumerate(survivors)]
        verdicts = job.run(checks, lambda text, _r: equal_verdict(text), f"evol-instruct round {round_no}: equal?")
        kept = []
        for (item, op, res), verdict in zip(survivors, verdicts):
            if verdict.ok and verdict.value:
                job.reject("eliminated: no information gain (the model judged it equal to its parent)",
                           row={"parent": item.instruction, "evolved": res.value, "operation": op}, id=item.id)
                next_items.append(item)
            elif not verdict.ok:
                job.reject_result("equality check", verdict, row={"evolved": res.value}, id=item.id)
                next_items.append(item)
            else:
                kept.append((item, op, res))
        survivors = kept
    # a breadth evolution is a new task: the parent's context does not belong to it
    contexts = ["" if op == "breadth" else item.context for item, op, _ in survivors]
    answers = job.run([job.request("answer", tag=i, instruction=res.value, context=contexts[i])
                       for i, (item, _, res) in enumerate(survivors)],
                      description=f"evol-instruct round {round_no}: answers")
    for (item, op, res), context, answer in zip(survivors, contexts, answers):
        if not answer.ok:
            job.reject_result("answer", answer, row={"instruction": res.value}, id=item.id)
            next_items.append(item)
            continue
        problem = eliminated_answer(answer.value)
        if problem:
            job.reject(problem, row={"instruction": res.value, "answer": answer.value}, id=item.id)
            next_items.append(item)
            continue
        ops = (*item.ops, op)
        job.add(InstructionRecord(instruction=res.value, output=answer.value.strip(), context=context,
                                  category="evol-instruct",
                                  meta=job.lineage([res, answer], operation=op, operations=list(ops), round=round_no,
                                                   parent=item.instruction, parent_id=item.id, source_id=item.root)))
        next_items.append(_Item(res.value, context, job.records[-1].id, item.root, ops))
    return next_items
