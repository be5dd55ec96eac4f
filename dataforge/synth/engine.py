"""What every generation method shares: options, the LLM session, rejects, lineage, output.

A method builds requests from templates (`job.request`), runs them
(`job.run`, resumable through the journal next to the output), turns good
results into records (`job.add`) with their lineage (`job.lineage`) and sends
everything it could not use to the rejects file with a reason
(`job.reject`). `job.finish()` writes the output atomically and returns the
summary.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, field

from dataforge.io import RejectSink, rejects_path_for, write_records
from dataforge.io.rejects import Reject
from dataforge.io.safety import check_outputs
from dataforge.llm import ChatRequest, LLMSession, Result, RunPolicy, journal_path_for, open_backend
from dataforge.synth.placeholders import Shown, guarded
from dataforge.synth.templates import Templates


@dataclass
class SynthOptions:
    """Options shared by every method (the CLI flags of `dataforge synth`)."""

    model: str = ""
    backend: str = "openai"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    n: int | None = None  # target number of output rows
    seed: int = 0
    temperature: float = 0.7
    max_new_tokens: int = 1024  # per request (sent as max_tokens)
    prompts_dir: str | None = None
    fresh: bool = False
    batch_size: int = 8  # --backend transformers
    progress: bool = True
    mapping: dict | list | None = None  # --map FIELD=COLUMN for instruction inputs
    fmt: str | None = None  # --format
    policy: RunPolicy = field(default_factory=RunPolicy)


@dataclass
class SynthSummary:
    method: str
    written: int
    rejected: int
    reasons: dict
    output: str
    rejects_path: str | None
    journal_path: str | None
    requests: str = ""
    stopped: str | None = None
    skipped: int = 0
    target: int | None = None

    def lines(self) -> list[str]:
        out = [f"{self.method}: wrote {self.written:,} rows to {self.output}"
               + (f" (target {self.target:,})" if self.target and self.written < self.target else "")]
        if self.rejected:
            out.append(f"rejected {self.rejected:,} candidates -> {self.rejects_path}")
            for reason, count in sorted(self.reasons.items(), key=lambda kv: -kv[1])[:8]:
                out.append(f"  {count:>6,}  {reason}")
        if self.skipped:
            out.append(f"skipped {self.skipped:,} text pieces outside the length limits")
        if self.requests:
            out.append(self.requests)
        if self.stopped:
            out.append(f"stopped early: {self.stopped}; raise the limit and rerun to continue "
                       "(finished requests are kept in the journal)")
        if self.journal_path:
            out.append(f"journal: {self.journal_path} (rerun the same command to resume; --fresh starts over)")
        return out


class Job:
    """One run of one method writing to `out`."""

    def __init__(self, method: str, out: str | os.PathLike, options: SynthOptions, *, inputs=(),
                 llm: bool = True):
        self.method, self.out, self.options = method, str(out), options
        check_outputs([self.out], [inputs, options.prompts_dir], labels=["-o"])  # io/safety.py: never destroy
        self.templates = Templates(options.prompts_dir)
        self.rejects = RejectSink(rejects_path_for(out))
        self.records: list = []
        self._ids: set[str] = set()  # ids of self.records: every output row has its own
        self.skipped = 0
        self._made: dict[str, tuple] = {}  # request key -> (template, variables without their strings)
        self._shown: dict[tuple, Shown] = {}
        self.session: LLMSession | None = None
        self.journal_path = None
        if llm:
            policy = options.policy
            backend = open_backend(options.backend, model=options.model, base_url=options.base_url,
                                   api_key_env=options.api_key_env, timeout=policy.timeout,
                                   concurrency=policy.concurrency, batch_size=options.batch_size)
            self.journal_path = journal_path_for(out)
            self.session = LLMSession(backend, self.journal_path, policy=policy, fresh=options.fresh,
                                      progress=options.progress)

    # -- requests --------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.session.backend.model if self.session else ""

    def request(self, template: str, *, tag=None, model: str | None = None, temperature: float | None = None,
                max_tokens: int | None = None, seed: int | None = None, **variables) -> ChatRequest:
        params = {"temperature": self.options.temperature if temperature is None else temperature,
                  "max_tokens": max_tokens or self.options.max_new_tokens}
        if seed is not None:
            params["seed"] = seed
        request = ChatRequest(self.templates.messages(template, **variables), model or self.model, params, tag)
        # what the template shows (its example reply) is told apart from its variables: strings are the input
        self._made[request.key] = (template, tuple(sorted(
            (k, None if isinstance(v, str) else () if isinstance(v, (list, tuple)) else v)
            for k, v in variables.items() if isinstance(v, (str, list, tuple, int, float, bool, type(None))))))
        return request

    def run(self, requests: list[ChatRequest], validate=None, description: str = "") -> list[Result]:
        """Results in request order; a reply that repeats the prompt's example or a placeholder ("...",
        "<the instruction>") fails validation like unparseable text (synth/placeholders.py)."""
        if not requests:
            return []

        def shown_for(request):
            made = self._made.get(request.key)
            if made is None:
                return None
            key = (*made, id(validate))
            if key not in self._shown:
                name, fixed = made
                variables = {k: "" if v is None else [] if v == () else v for k, v in fixed}
                self._shown[key] = Shown.of(self.templates, name, variables,
                                            None if validate is None else lambda t, _r: validate(t, request))
            return self._shown[key]

        return self.session.run(requests, guarded(validate, shown_for), description=description or self.method)

    @property
    def stopped(self) -> bool:
        return self.session is not None and self.session.stopped is not None

    # -- rows ------------------------------------------------------------------
    @property
    def need(self) -> int | None:
        """Rows still wanted (None: no target, take everything)."""
        return None if self.options.n is None else max(0, self.options.n - len(self.records))

    def batches(self, source, rows_per_item: float = 1):
        """Slices of `source` just big enough for the rows still wanted (each item gives up to
        `rows_per_item` rows), until the target is met, the run stops or the source runs out.
        Without a target (-n), one slice of everything."""
        while not self.stopped:
            need = self.need
            take = 10**12 if need is None else max(1, math.ceil(need / rows_per_item))
            batch = list(itertools.islice(source, take))
            if not batch or need == 0:
                return
            yield batch
            if need is None:
                return

    def add(self, record) -> None:
        """Keep a row; an id already given to an earlier row of this run gets the next "-N" suffix."""
        base, n = record.id, 2
        while record.id in self._ids:
            record.id, n = f"{base}-{n}", n + 1
        self._ids.add(record.id)
        self.records.append(record)

    def lineage(self, results: Result | list[Result] | None = None, **extra) -> dict:
        meta = {"method": self.method, "generator": "dataforge synth", "seed": self.options.seed}
        if self.session is not None:
            meta["model"] = self.model
        results = [results] if isinstance(results, Result) else (results or [])
        if results:
            meta["params"] = dict(results[0].request.params)
            meta["requests"] = [r.key for r in results]
        meta.update({k: v for k, v in extra.items() if v is not None})
        return meta

    def reject(self, reason: str, *, row=None, id: str | None = None, field: str | None = None) -> None:
        self.rejects.add(Reject(reason, field=field, id=id, row=row))

    def reject_result(self, stage: str, result: Result, row=None, id: str | None = None) -> None:
        row = dict(row or {})
        if result.content:
            row["model_output"] = result.content
        # "answer truncated: finish_reason=length ...": the rejects summary groups by "<stage> <what>"
        stem, _, detail = (result.reason or "failed").partition(": ")
        self.reject(f"{stage} {stem}: {detail}" if detail else f"{stage} {stem}", row=row or None, id=id)

    # -- end -------------------------------------------------------------------
    def finish(self) -> SynthSummary:
        records = self.records if self.options.n is None else self.records[: self.options.n]
        write_records(records, self.out)
        self.rejects.close()
        stopped = self.session.stopped if self.session else None
        requests = self.session.stats.line(self.options.policy.prices is not None) if self.session else ""
        self.close()
        return SynthSummary(self.method, len(records), self.rejects.count, dict(self.rejects.by_reason), self.out,
                            str(self.rejects.path) if self.rejects.count else None,
                            str(self.journal_path) if self.journal_path else None, requests, stopped,
                            self.skipped, self.options.n)

    def close(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            session.close()

    def __enter__(self) -> "Job":
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is not None:
            self.rejects.abort()
            self.close()
