"""Rewards for rloo/grpo: verifiable checks, an LLM judge, and the answer text they all read.

Every reward is a TRL reward function: called with the batch's prompts,
completions and completion ids plus the dataset's columns (`reference`,
`record`), it returns one float per answer (None: does not apply). They
score the *answer*: the sampled tokens up to the template's end-of-answer
marker or EOS, decoded without special tokens (`AnswerText`), never the raw
completion with the chat markup around it.

    exact   1 if the answer equals the row's reference (whitespace-normalised)
    regex   1 if reward_regex matches the answer (re.search)
    json    1 if the answer is valid JSON (a ```json fence around it is allowed)
    lang    1 if the answer is in the row's language (its `lang`, else its prompt's), 0 if in another
    length  1 - |tokens - length_target| / length_target, floored at 0
    judge   an LLM's 1-10 score of the answer, mapped to 0-1 (through dataforge.llm, journaled)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from dataforge.records import ConversationRecord, InstructionRecord, prompt_text
from dataforge.train.data import stop_token_ids
from dataforge.train.render import render_sft
from dataforge_hf_trainers.family_data import load_record

_SENTINEL = "\u2063ANSWER\u2063"
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


class AnswerText:
    """Sampled completion ids -> the answer the template wraps (markup after it and EOS cut off)."""

    def __init__(self, tokenizer, template: str, lang: str, model_dir: Path | None = None):
        self.tok = tokenizer
        _, completion = render_sft(InstructionRecord(instruction="q", output=_SENTINEL), template, tokenizer, lang)
        self.prefix, _, suffix = completion.partition(_SENTINEL)
        self.stops = set(stop_token_ids(tokenizer, model_dir))
        marker = tokenizer(suffix.strip(), add_special_tokens=False)["input_ids"][:1] if suffix.strip() else []
        if marker and marker[0] in set(tokenizer.all_special_ids):  # e.g. <|im_end|>, <|eot_id|>
            self.stops.add(marker[0])
        self.suffix = suffix.strip()

    def __call__(self, ids) -> str:
        ids = list(ids)
        end = next((i for i, t in enumerate(ids) if t in self.stops), len(ids))
        text = self.tok.decode(ids[:end], skip_special_tokens=True)
        if self.suffix and self.suffix in text:  # a plain-text end marker (e.g. "### End")
            text = text[:text.index(self.suffix)]
        prefix = self.prefix.strip()
        if prefix and text.lstrip().startswith(prefix):
            text = text.lstrip()[len(prefix):]
        return text.strip()


def _norm(text: str) -> str:
    return " ".join(text.split())


def exact(answer: str, reference: str) -> float:
    return float(_norm(answer) == _norm(reference))


def regex(answer: str, pattern: re.Pattern) -> float:
    return float(pattern.search(answer) is not None)


def valid_json(answer: str) -> float:
    text = answer.strip()
    m = _FENCE.match(text)
    try:
        json.loads(m.group(1) if m else text)
    except ValueError:
        return 0.0
    return 1.0


def question(record) -> str:
    """What the user asked: the instruction (with context), or a chat's last user turn."""
    if isinstance(record, ConversationRecord):
        return next((m["content"] for m in reversed(record.messages) if m["role"] == "user"), "")
    return prompt_text(record)


def language(answer: str, record) -> float | None:
    """1/0 for the answer's language against the row's; None when the expected language is unknown."""
    from dataforge.langid import identify

    want = (record.lang or "").split("-")[0].lower()
    if not want:
        guess = identify(question(record))
        if guess.status != "ok":
            return None
        want = guess.lang
    got = identify(answer)
    return float(got.status == "ok" and got.lang.split("-")[0] == want)


def length(n_tokens: int, target: int) -> float:
    return max(0.0, 1.0 - abs(n_tokens - target) / target)


class _Reward:
    """A TRL reward function over answers; `__name__` names its `rewards/<name>/mean` metric."""

    def __init__(self, name: str, answers: AnswerText, score):
        self.__name__ = name
        self.answers = answers
        self.score = score  # (answer, n_tokens, reference, record) -> float | None

    def __call__(self, prompts, completions, completion_ids, reference=None, record=None, **_):
        out = []
        for i, ids in enumerate(completion_ids):
            answer = self.answers(ids)
            ref = reference[i] if reference is not None else ""
            rec = load_record(record[i]) if record is not None else None
            n = len(self.answers.tok(answer, add_special_tokens=False)["input_ids"]) if answer else 0
            out.append(self.score(answer, n, ref, rec))
        return out


def builtin(name: str, options, answers: AnswerText) -> _Reward:
    if name == "exact":
        return _Reward("exact", answers, lambda a, n, ref, rec: exact(a, ref))
    if name == "regex":
        pattern = re.compile(options.reward_regex)
        return _Reward("regex", answers, lambda a, n, ref, rec: regex(a, pattern))
    if name == "json":
        return _Reward("json", answers, lambda a, n, ref, rec: valid_json(a))
    if name == "lang":
        return _Reward("lang", answers, lambda a, n, ref, rec: language(a, rec))
    if name == "length":
        return _Reward("length", answers, lambda a, n, ref, rec: length(n, options.length_target))
    raise ValueError(f"unknown reward {name}")


JUDGE_PROMPT = """Rate the answer to the instruction below from 1 (useless) to 10 (excellent).
A good answer is {rubric}.

Instruction:
{instruction}

Answer:
{answer}

Reply with the score only, a whole number from 1 to 10."""


def parse_score(text: str, request=None) -> float:
    from dataforge.llm import ParseError

    m = re.search(r"\b(10|[1-9])\b", text)
    if not m:
        raise ParseError("no score from 1 to 10 in the judge's answer")
    return (int(m.group(1)) - 1) / 9


class JudgeReward(_Reward):
    """An LLM judge through dataforge's LLM layer; answers it could not score get None (left out)."""

    def __init__(self, options, answers: AnswerText, journal: Path | None = None):
        super().__init__("judge", answers, None)
        self.options = options
        self.journal = journal
        self._backend = None

    def _open(self):
        if self._backend is None:
            from dataforge.llm import open_backend

            o = self.options
            self._backend = open_backend("openai", model=o.judge_model, base_url=o.judge_base_url,
                                         api_key_env=o.judge_api_key_env)
        return self._backend

    def __call__(self, prompts, completions, completion_ids, reference=None, record=None, **_):
        from dataforge.llm import ChatRequest, RunPolicy, run_requests

        requests = []
        for i, ids in enumerate(completion_ids):
            rec = load_record(record[i]) if record is not None else None
            instruction = question(rec) if rec is not None else prompts[i]
            text = JUDGE_PROMPT.format(rubric=self.options.judge_rubric, instruction=instruction,
                                       answer=self.answers(ids) or "(empty)")
            requests.append(ChatRequest([{"role": "user", "content": text}],
                                        params={"temperature": 0, "max_tokens": 8}, tag=i))
        results = run_requests(requests, self._open(), self.journal, validate=parse_score,
                               policy=RunPolicy(handle_sigint=False), progress=False, description="judge")
        return [r.value if r.ok else None for r in results]


def reward_functions(options, tokenizer, *, model_dir=None, output_dir=None, device=None, rank: int = 0) -> list:
    """The TRL reward functions for `options`, in the order of `options.sources()`."""
    answers = AnswerText(tokenizer, options.template, options.lang, model_dir)
    funcs = []
    for name in options.sources():
        if name == "reward_model":
            from dataforge_hf_trainers.reward_model import RewardModelScore

            funcs.append(RewardModelScore(options.reward_model, answers, device=device))
        elif name == "judge":
            # one journal per process: a journal admits one run at a time (--nproc runs one per rank)
            name = "judge.journal.sqlite" if rank == 0 else f"judge.rank{rank}.journal.sqlite"
            journal = Path(output_dir) / name if output_dir else None
            funcs.append(JudgeReward(options, answers, journal))
        else:
            funcs.append(builtin(name, options, answers))
    return funcs
