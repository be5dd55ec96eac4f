"""The translation engine: rows become requests, replies become checked rows.

Everything that travels goes through one `LLMSession` (dataforge.llm): its
sliding window, retries, journal, budgets and Ctrl-C handling are shared by
every stage here. The engine decides *what* to send and judges what comes back:

1. forward: rows of one language pair are batched (`batch_rows`, `batch_chars`) in
   input order, so the same input always makes the same requests (the journal's
   hashes match on a rerun and nothing finished is sent again);
2. a batch reply that cannot be read at all (or a batch the server refused, e.g.
   too long) is sent again one row per request; a batch that failed in transport
   (connection, timeout, 429, 5xx, after the LLM layer's retries) is not split:
   splitting would only multiply the requests a struggling server gets. Its rows
   are rejected with the reason, and a rerun sends the same batch again;
3. each row of a reply is verified on its own: every protected span back exactly
   once, each field in the target language, a plausible length. A row that fails is
   retried once alone (with the reason in the prompt), then rejected with it;
4. with a back-check, the rows of a forward batch that passed go back to the source
   language as one batch, and the chrF of the round trip is scored.

Follow-up requests (2-4) go to the front of the queue, so a row rarely waits for
long; the rows are handed to `on_row` in input order as they finish.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Callable, Iterator

from dataforge.llm import ChatRequest, LLMSession, Result
from dataforge.translate.assemble import RowPlan, translated_record
from dataforge.translate.backcheck import row_score
from dataforge.translate.batching import Item, ReplyError, parse_reply
from dataforge.translate.langcheck import MIN_LETTERS, detect_lang, letters, prose_of, wrong_language
from dataforge.translate.protect import ProtectionError, restore

RequestMaker = Callable[[list[Item], str, str, str], ChatRequest]
LENGTH_RATIO = (0.2, 5.0)  # translated/source letters outside this: truncated or padded
LENGTH_MIN_LETTERS = 40
UNCHANGED_MIN_WORDS = 3  # a row whose every field comes back unchanged, with this many words of prose: untranslated


def _repeats_source(send: dict, restored: dict) -> bool:
    """Every field came back exactly as sent, and there was prose to translate (not just names or numbers).
    The language check alone misses this for fields under MIN_LETTERS letters."""
    def norm(text: str) -> str:
        return " ".join(text.split()).casefold()

    if not send or any(norm(restored[k]) != norm(m.source) for k, m in send.items()):
        return False
    words = sum(len([w for w in prose_of(m.source).split() if any(c.isalpha() for c in w)]) for m in send.values())
    return words >= UNCHANGED_MIN_WORDS


@dataclass(slots=True, eq=False)
class Unit:
    """One row into one target language."""

    plan: RowPlan
    lang: str
    attempts: int = 0
    back_attempts: int = 0
    reply: dict[str, str] | None = None   # the translated masked texts (what a back-check sends)
    texts: dict[str, str] | None = None   # the translated texts, spans restored
    chrf: float | None = None


@dataclass(slots=True, eq=False)
class Job:
    units: list[Unit]
    phase: str        # "forward" | "back"
    source: str
    target: str
    reminder: str = ""
    items: list[Item] = field(default_factory=list)


@dataclass
class EngineStats:
    requests: int = 0           # requests made (sent or answered from the journal)
    batch_requests: int = 0     # of which carried more than one row
    fallbacks: int = 0          # batch replies that could not be read: rows sent alone
    row_retries: int = 0        # rows retried alone after failing verification
    back_requests: int = 0
    translated: int = 0
    rejected: int = 0
    chrf_sum: float = 0.0
    chrf_n: int = 0


class Engine:
    def __init__(self, session: LLMSession, make_request: RequestMaker, *, backend: str, model: str,
                 on_row: Callable[[RowPlan], None], batch_rows: int = 8, batch_chars: int = 6000,
                 flush_rows: int | None = None, backcheck: bool = False, min_chrf: float | None = None,
                 min_letters: int = MIN_LETTERS, description: str = "translate"):
        self.session, self.make_request = session, make_request
        self.backend, self.model = backend, model
        self.on_row = on_row
        self.batch_rows, self.batch_chars = max(1, batch_rows), batch_chars
        # Partial batches close every `flush_rows` input rows: deterministic, so reruns match.
        self.flush_rows = flush_rows or max(64, 8 * self.batch_rows)
        self.backcheck, self.min_chrf, self.min_letters = backcheck, min_chrf, min_letters
        # Finished rows wait for the oldest unfinished one (output keeps input order); this bounds
        # how many rows are held in memory while one request is stuck in a long Retry-After.
        self.max_open = max(10_000, 8 * session.policy.concurrency * self.batch_rows, 2 * self.flush_rows)
        self.description = description
        self.stats = EngineStats()
        self._followups: collections.deque[Job] = collections.deque()
        self._open: collections.deque[RowPlan] = collections.deque()   # rows not yet handed on, in order
        self._error: BaseException | None = None

    # -- driving --------------------------------------------------------------------------------
    def run(self, plans: Iterator[RowPlan]) -> None:
        """Translate every planned row; returns when all are finished (or the run was stopped)."""
        # The language detector's first use loads its profiles (about a second of CPU, holding the
        # GIL): do it before any request is out, not while the first answers wait to be journaled.
        detect_lang("This sentence is only here to load the language profiles before the run starts.")
        forward = self._forward_jobs(plans)
        state = {"forward_done": False}
        while True:
            before = (self.stats.requests, len(self._open))
            self.session.run(self._requests(forward, state), on_result=self._on_result,
                             description=self.description)
            if self.session.stopped or (state["forward_done"] and not self._followups):
                break
            if (self.stats.requests, len(self._open)) == before and not self._followups:
                raise RuntimeError("translate made no progress (a bug: please report it)")
        for job in self._followups:  # left when the run stopped: not sent
            for unit in job.units:
                self._pending(unit)
        self._followups.clear()
        self._emit(final=True)

    def _requests(self, forward: Iterator[Job], state: dict) -> Iterator[ChatRequest]:
        while self.session.stopped is None and self._error is None:
            if self._followups:
                job = self._followups.popleft()
            elif len(self._open) >= self.max_open:
                return  # rows wait on a slow request: let the window drain before reading more
            else:
                job = next(forward, None)
                if job is None:
                    state["forward_done"] = True
                    return
            job.items = [Item(f"r{i + 1}", self._fields(job, u)) for i, u in enumerate(job.units)]
            request = self.make_request(job.items, job.source, job.target, job.reminder)
            request.tag = job
            self.stats.requests += 1
            self.stats.batch_requests += len(job.units) > 1
            self.stats.back_requests += job.phase == "back"
            yield request

    @staticmethod
    def _fields(job: Job, unit: Unit) -> dict[str, str]:
        if job.phase == "back":
            return dict(unit.reply)
        return {k: m.text for k, m in unit.plan.send.items()}

    def _forward_jobs(self, plans: Iterator[RowPlan]) -> Iterator[Job]:
        groups: dict[tuple[str, str], list[Unit]] = {}
        chars: dict[tuple[str, str], int] = {}
        since_flush = 0
        for plan in plans:
            self._open.append(plan)
            if plan.targets and self.backcheck and not plan.source_lang and plan.send:
                for lang in plan.targets:  # nothing to translate back into
                    self._reject(Unit(plan, lang), "back-check impossible: the row's source language could"
                                                   " not be detected (pass --from LANG)")
            elif not plan.send:  # nothing to translate (empty or code only): the row is its own translation
                for lang in plan.targets:
                    self._finish(Unit(plan, lang, texts={}))
            else:
                size = sum(len(m.text) for m in plan.send.values())
                for lang in plan.targets:
                    key = (plan.source_lang, lang)
                    group = groups.setdefault(key, [])
                    if group and (len(group) >= self.batch_rows or chars[key] + size > self.batch_chars):
                        yield self._job(groups.pop(key), "forward")
                        group = groups.setdefault(key, [])
                        chars[key] = 0
                    group.append(Unit(plan, lang))
                    chars[key] = chars.get(key, 0) + size
                    if len(group) >= self.batch_rows:
                        yield self._job(groups.pop(key), "forward")
                        chars[key] = 0
            self._emit()
            since_flush += 1
            if since_flush >= self.flush_rows:
                since_flush = 0
                for key in sorted(groups):
                    yield self._job(groups.pop(key), "forward")
                    chars[key] = 0
        for key in sorted(groups):
            yield self._job(groups.pop(key), "forward")

    @staticmethod
    def _job(units: list[Unit], phase: str, reminder: str = "") -> Job:
        plan = units[0].plan
        if phase == "forward":
            return Job(units, phase, plan.source_lang, units[0].lang, reminder)
        return Job(units, phase, units[0].lang, plan.source_lang, reminder)

    # -- judging replies --------------------------------------------------------------------------
    def _on_result(self, result: Result) -> None:
        try:
            self._judge(result)
        except BaseException as exc:  # e.g. --strict refusing a row: stop feeding new requests
            self._error = exc
            raise

    def _judge(self, result: Result) -> None:
        job: Job = result.tag
        if not result.sent:
            for unit in job.units:
                self._pending(unit)
            self._emit()
            return
        parsed, whole, retry = None, None, True
        if not result.ok and result.transient:  # the LLM layer already retried the batch as a batch
            for unit in job.units:
                self._failed(job, unit, result.reason or "request failed", False)
            self._emit()
            return
        if not result.ok:
            whole, retry = result.reason or "request failed", False  # the LLM layer already retried it
        else:
            try:
                parsed = parse_reply(result.content or "", job.items)
            except ReplyError as exc:
                whole = exc.reason
        if whole is not None:
            if len(job.units) > 1:
                self.stats.fallbacks += 1
                for unit in job.units:  # one row per request from here on
                    self._followups.append(self._job([unit], job.phase))
            else:
                self._failed(job, job.units[0], whole, retry)
        else:
            passed = []
            for item, unit in zip(job.items, job.units):
                out = parsed[item.id]
                problem = out.reason if isinstance(out, ReplyError) else self._check(job, unit, out)
                if problem:
                    self._failed(job, unit, problem, True)
                else:
                    passed.append(unit)
            if passed and job.phase == "forward" and self.backcheck:
                self._followups.append(self._job(passed, "back"))
            else:
                for unit in passed:
                    self._finish(unit)
        self._emit()

    def _check(self, job: Job, unit: Unit, fields: dict[str, str]) -> str | None:
        """None when every field of the reply is usable; else the reason."""
        restored = {}
        for key, masked in unit.plan.send.items():
            try:
                text = restore(fields[key], masked)
            except ProtectionError as exc:
                return f"{exc.reason} in field '{key}'"
            wrong = wrong_language(text, job.target, self.min_letters)
            if wrong:
                return f"wrong language: field '{key}' came back in '{wrong}', not '{job.target}'"
            src_n, out_n = letters(prose_of(masked.source)), letters(prose_of(text))
            if src_n >= LENGTH_MIN_LETTERS and not LENGTH_RATIO[0] <= out_n / src_n <= LENGTH_RATIO[1]:
                return (f"implausible length: field '{key}' is {out_n / src_n:.2f}x its source"
                        " (truncated or padded)")
            restored[key] = text
        if job.phase == "forward":
            if _repeats_source(unit.plan.send, restored):
                return "untranslated: the reply repeats the source text"
            unit.reply, unit.texts = dict(fields), restored
            return None
        score = row_score({k: m.source for k, m in unit.plan.send.items()}, restored)
        unit.chrf = score
        if self.min_chrf is not None and score < self.min_chrf:
            return f"low back-check chrF: {score:.1f} < --min-chrf {self.min_chrf:g}"
        return None

    def _failed(self, job: Job, unit: Unit, reason: str, retry: bool) -> None:
        if job.phase == "back":
            unit.back_attempts += 1
            tries = unit.back_attempts
        else:
            unit.attempts += 1
            tries = unit.attempts
        final = reason.startswith("low back-check chrF")  # a score is not improved by asking again
        if retry and tries < 2 and not final:
            self.stats.row_retries += 1
            self._followups.append(self._job([unit], job.phase, reminder=reason))
        else:
            prefix = "back-check failed: " if job.phase == "back" and not final else ""
            self._reject(unit, prefix + reason)

    # -- rows -----------------------------------------------------------------------------------
    def _finish(self, unit: Unit) -> None:
        extra = {}
        if unit.chrf is not None:
            extra["backcheck_chrf"] = unit.chrf
            self.stats.chrf_sum += unit.chrf
            self.stats.chrf_n += 1
        unit.plan.done[unit.lang] = translated_record(unit.plan, unit.lang, unit.texts or {}, backend=self.backend,
                                                      model=self.model, extra=extra)
        self.stats.translated += 1

    def _reject(self, unit: Unit, reason: str) -> None:
        unit.plan.failed[unit.lang] = reason
        self.stats.rejected += 1

    @staticmethod
    def _pending(unit: Unit) -> None:
        unit.plan.failed[unit.lang] = "pending"  # not sent: the run stopped (budget, fatal error)

    def _emit(self, final: bool = False) -> None:
        while self._open and (final or self._open[0].finished):
            self.on_row(self._open.popleft())

