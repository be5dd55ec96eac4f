"""magpie: instructions written by an aligned model from its own pre-query template, then answered.

After Xu et al. (2024), "Magpie: Alignment Data Synthesis from Scratch by
Prompting Aligned LLMs with Nothing": an instruction-tuned model that is given
its chat template only up to the start of a user turn (the pre-query template,
`dataforge.synth.prequery`) writes, as the user, an instruction. That text goes
to the completions endpoint (`/v1/completions`: vLLM, llama.cpp and TGI serve
it; a request with no messages and `params["prompt"]` goes there) with the template's end-of-turn token as the stop string. Each request
carries its own `seed` so the requests differ (and a rerun sends the same
ones, so the journal resumes). Empty, too short, template-leaking (holding the
template's special tokens) and repeated instructions are rejected; the others
are answered through chat completions (`answer_via="chat"`) or through the
completions endpoint with the whole chat template (`answer_via="completions"`).
Rounds repeat until `-n` rows exist, a round adds nothing, or `max_rounds`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dataforge.errors import ConfigError
from dataforge.llm import ChatRequest
from dataforge.records import InstructionRecord
from dataforge.synth.engine import Job, SynthOptions, SynthSummary
from dataforge.synth.prequery import PreQuery, from_tokenizer, named


@dataclass
class MagpieOptions:
    template: str | None = None  # a named chat format (prequery.NAMED)
    tokenizer: str | None = None  # or a tokenizer / model folder with a chat template
    system: str | None = None  # a system prompt put into the pre-query (and the answer request)
    keep_bos: bool = False  # send the template's BOS token as text too (servers add their own)
    instruction_temperature: float = 1.0  # the paper samples instructions at 1.0
    instruction_max_tokens: int = 256
    min_words: int = 3
    answer_via: str = "chat"  # or "completions"
    max_rounds: int = 10
    stop: tuple[str, ...] = ()  # stop strings added to the template's own

    def __post_init__(self):
        if (self.template is None) == (self.tokenizer is None):
            raise ConfigError("synth magpie needs exactly one of --template NAME and --tokenizer DIR",
                              "e.g. --template llama3, or --tokenizer ./Meta-Llama-3-8B-Instruct")
        if self.answer_via not in ("chat", "completions"):
            raise ConfigError(f"--answer-via must be chat or completions (got {self.answer_via})")

    def pre_query(self) -> PreQuery:
        if self.tokenizer is not None:
            pq = from_tokenizer(self.tokenizer, self.system, self.keep_bos)
        else:
            pq = named(self.template, self.system, self.keep_bos)
        pq.stop = list(dict.fromkeys([*pq.stop, *(s for s in self.stop if s)]))
        return pq


def instruction_problem(text: str, pq: PreQuery, min_words: int) -> str | None:
    """Why a generated instruction cannot be used (None when it can)."""
    if not text.strip():
        return "empty instruction"
    token = pq.leak(text)
    if token is not None:
        return f"template leak: the instruction holds '{token}'"
    words = len(text.split())
    if words < min_words:
        return f"too short: {words} words < {min_words}"
    return None


def magpie(out, options: SynthOptions, opts: MagpieOptions) -> SynthSummary:
    """Write `options.n` (default 100) Magpie rows to `out`."""
    if options.backend != "openai":
        raise ConfigError("synth magpie needs a server with the completions endpoint (--backend openai)",
                          "serve the model with vLLM, llama.cpp or TGI and pass --base-url")
    if getattr(options.policy, "batch", None):
        raise ConfigError("synth magpie does not go through the Batch API (its pre-query prompts are text "
                          "completions, which batches of chat requests do not carry)", "run it without --batch")
    if options.n is None:
        options.n = 100
    pq = opts.pre_query()  # before anything is sent: a bad template is one error line
    with Job("magpie", out, options, inputs=[opts.tokenizer]) as job:
        seen: set[str] = set()
        start = 0
        for round_no in range(1, opts.max_rounds + 1):
            need = job.need
            if not need or job.stopped:
                break
            accepted = _instructions(job, opts, pq, round_no, start, need, seen)
            start += need
            before = len(job.records)
            _answer(job, opts, pq, accepted, round_no)
            if len(job.records) == before and not job.stopped:
                break  # nothing new this round (the model keeps repeating itself): more rounds will not help
        return job.finish()


def _seed(seed: int, index: int) -> int:
    digest = hashlib.blake2b(f"magpie:{seed}:{index}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF  # llama.cpp takes a 32-bit seed


def _instructions(job: Job, opts: MagpieOptions, pq: PreQuery, round_no: int, start: int, need: int,
                  seen: set[str]) -> list[tuple[str, object]]:
    requests = [ChatRequest([], job.model, {"prompt": pq.text, "temperature": opts.instruction_temperature,
                                            "max_tokens": opts.instruction_max_tokens, "stop": pq.stop,
                                            "seed": _seed(job.options.seed, start + i)}, tag=start + i)
                for i in range(need)]
    results = job.run(requests, description=f"magpie round {round_no}: instructions")
    accepted = []
    for result in results:  # request order: a rerun filters the same way
        if not result.ok:
            job.reject_result("instruction", result, row={"round": round_no})
            continue
        text = result.value.strip()
        problem = instruction_problem(text, pq, opts.min_words)
        norm = " ".join(text.lower().split())
        if problem is None and norm in seen:
            problem = "duplicate instruction (the same text was written before)"
        if problem:
            job.reject(problem, row={"instruction": result.value, "round": round_no})
            continue
        seen.add(norm)
        accepted.append((text, result))
    return accepted


def _answer(job: Job, opts: MagpieOptions, pq: PreQuery, accepted, round_no: int) -> None:
    params = {"temperature": job.options.temperature, "max_tokens": job.options.max_new_tokens}
    if opts.answer_via == "completions":
        requests = [ChatRequest([], job.model, {"prompt": pq.answer_prompt(text), **params, "stop": pq.stop}, tag=i)
                    for i, (text, _) in enumerate(accepted)]
    else:
        head = [{"role": "system", "content": opts.system}] if opts.system else []
        requests = [ChatRequest(head + job.templates.messages("answer", instruction=text, context=""), job.model,
                                params, tag=i) for i, (text, _) in enumerate(accepted)]
    results = job.run(requests, description=f"magpie round {round_no}: answers")
    for (text, generated), answer in zip(accepted, results):
        if not answer.ok:
            job.reject_result("answer", answer, row={"instruction": text})
            continue
        # a chat answer is formatted by the server; only a raw completion can run on into the template
        problem = pq.leak(answer.value) if opts.answer_via == "completions" else None
        if problem:
            job.reject(f"template leak: the answer holds '{problem}'", row={"instruction": text,
                                                                            "output": answer.value})
            continue
        meta = job.lineage([generated, answer], template=pq.name, pre_query=pq.text,
                           answer_via=opts.answer_via, round=round_no)
        meta["system"] = opts.system  # null without --system: every row has the same keys (docs/synth.md)
        job.add(InstructionRecord(instruction=text, output=answer.value.strip(), category="magpie", meta=meta))
