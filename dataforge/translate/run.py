"""`translate()`: a dataset in, the same dataset in other languages out, every row checked.

    >>> s = translate("dolly.jsonl", "dolly.es.jsonl", to="es,fr", model="gpt-4o-mini")  # doctest: +SKIP
    >>> print("\\n".join(s.lines()))                                                     # doctest: +SKIP

Rows are read as a stream, planned (source language, fields to send or keep),
translated through the LLM layer's session (journal next to the output, so a
rerun resumes), and written in input order: for each source row, the original
first when it is kept, then one row per target language. Every (row, language)
that fails is in `<out>.rejects.jsonl` with its reason, so
  planned = translated + rejected + skipped (already in the language) + pending (run stopped).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field

from dataforge.errors import ConfigError, InputError
from dataforge.io import Reject, RejectSink, open_writer, read_dataset, rejects_path_for
from dataforge.io.safety import check_outputs
from dataforge.llm import LLMSession, RunPolicy, journal_path_for
from dataforge.progress import progress_bar
from dataforge.translate import langs
from dataforge.translate.assemble import RowPlan, plan_row, source_record
from dataforge.translate.backcheck import check_min_chrf
from dataforge.translate.batching import chat_request_maker
from dataforge.translate.engine import Engine
from dataforge.translate.fields import check_fields
from dataforge.translate.langcheck import MIN_LETTERS

BACKENDS = ("openai", "transformers")
DEFAULT_BATCH = {"openai": 8, "transformers": 16}


@dataclass
class TranslateSummary:
    read: int = 0                 # source rows read (good or bad)
    unreadable: int = 0           # of which rejected by the reader
    planned: int = 0              # (row, language) pairs to produce
    translated: int = 0
    skipped_same_language: int = 0
    rejected: int = 0
    pending: int = 0              # (row, language) pairs planned but not sent: the run stopped
    unreached: int = 0            # source rows not even planned when the run stopped
    written: int = 0              # rows in the output (translations + kept originals)
    sources_written: int = 0
    requests: int = 0             # requests made by translate (batches, fallbacks, retries, back-checks)
    batch_requests: int = 0
    fallbacks: int = 0
    row_retries: int = 0
    back_requests: int = 0
    http_attempts: int = 0        # what went over the wire, retries included
    from_journal: int = 0
    from_batch: int = 0           # requests answered through the Batch API (--batch)
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None
    mean_chrf: float | None = None
    seconds: float = 0.0
    backend: str = ""
    model: str = ""
    output: str = ""
    rejects_path: str | None = None
    journal_path: str | None = None
    stopped: str | None = None
    reasons: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"read {self.read:,} rows ({self.unreadable:,} unreadable); {self.planned:,} row×language pairs:"
               f" translated {self.translated:,}, rejected {self.rejected:,},"
               f" skipped {self.skipped_same_language:,} already in the target language"
               + (f", {self.pending:,} not sent" if self.pending else ""),
               f"wrote {self.written:,} rows ({self.sources_written:,} originals kept) to {self.output}",
               f"requests: {self.requests:,} ({self.batch_requests:,} batched, {self.fallbacks:,} batch"
               f" fallbacks, {self.row_retries:,} row retries, {self.back_requests:,} back-checks);"
               f" {self.http_attempts:,} sent over the wire,"
               + (f" {self.from_batch:,} answered through the Batch API," if self.from_batch else "")
               + f" {self.from_journal:,} from the journal"]
        usage = f"tokens in {self.tokens_in:,} out {self.tokens_out:,}"
        if self.cost is not None:
            usage += f"; est. cost ${self.cost:,.4f}"
        if self.mean_chrf is not None:
            usage += f"; mean back-check chrF {self.mean_chrf:.1f}"
        out.append(usage + f"; {self.seconds:,.1f} s")
        if self.stopped:
            out.append(f"stopped early: {self.stopped}; {self.pending:,} row×language pairs not sent,"
                       f" {self.unreached:,} rows not reached; run the same command"
                       " again to continue (finished requests come from the journal)")
        return out


def _check_out(data, out: str) -> None:
    check_outputs([out], data, labels=["-o"])  # io/safety.py: links, rejects file, folders, devices


def _open_backend(backend: str, model: str | None, *, base_url, api_key_env, timeout, concurrency, batch_size,
                  device):
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend '{backend}'", f"use one of: {', '.join(BACKENDS)}")
    if backend == "transformers":
        if not model:
            raise ConfigError("--backend transformers needs --model DIR",
                              "a Marian (opus-mt), NLLB-200 or M2M-100 folder saved with save_pretrained")
        from dataforge.translate.local import Seq2SeqBackend

        backend = Seq2SeqBackend(model, batch_size=batch_size, device=device)
        return backend, backend.make_request
    from dataforge.llm import open_backend

    return (open_backend("openai", model=model or "", base_url=base_url, api_key_env=api_key_env,
                         timeout=timeout, concurrency=concurrency), None)


def translate(data, out: str | os.PathLike, *, to: str | list[str] | None = None, mix: str | None = None,
              source_lang: str | None = None, fields: list[str] | None = None, backend: str = "openai",
              model: str | None = None, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
              keep_source: bool = False, seed: int = 0, backcheck: bool = False, min_chrf: float | None = None,
              batch_size: int | None = None, batch_chars: int = 6000, temperature: float = 0.0,
              policy: RunPolicy | None = None, fresh: bool = False, mapping=None, fmt: str | None = None,
              strict: bool = False, device: str | None = None, min_letters: int = MIN_LETTERS,
              progress: bool = True) -> TranslateSummary:
    """Translate `data` into the `to` languages (or a `mix` of them) and write `out`.

    Raises ConfigError/InputError for bad options before any request is made;
    raises dataforge.llm.Interrupted on Ctrl-C (the journal keeps what finished).
    """
    started = time.monotonic()
    out = str(out)
    _check_out(data, out)
    if (to is None) == (mix is None):
        raise ConfigError("give either --to LANGS or --mix LANG=RATIO,...",
                          "--to translates every row into every language; --mix draws one language per row")
    mix_map = langs.parse_mix(mix) if mix is not None else None
    targets = list(mix_map) if mix_map is not None else langs.parse_targets(to)
    src = "" if source_lang in (None, "", "auto") else langs.check_lang(source_lang, "--from")
    min_chrf = check_min_chrf(min_chrf, backcheck)
    policy = policy or RunPolicy()
    batch = batch_size or DEFAULT_BATCH.get(backend, 8)
    if batch < 1:
        raise ConfigError(f"--batch-size must be at least 1 (got {batch})")

    sink = RejectSink(rejects_path_for(out), strict=strict)
    summary = TranslateSummary(output=out, journal_path=str(journal_path_for(out)), backend=backend)
    with sink:
        ds = read_dataset(data, fmt=fmt, mapping=mapping, rejects=sink)
        fields_t = check_fields(fields, ds.kind)
        llm_backend, local_maker = _open_backend(backend, model, base_url=base_url, api_key_env=api_key_env,
                                                 timeout=policy.timeout, concurrency=policy.concurrency,
                                                 batch_size=batch, device=device)
        if hasattr(llm_backend, "check_target"):
            for lang in targets:
                llm_backend.check_target(lang)
        summary.model = llm_backend.model
        make = local_maker or chat_request_maker(temperature)
        with open_writer(out) as writer, \
                LLMSession(llm_backend, journal_path_for(out), policy=policy, fresh=fresh,
                           progress=False) as session, \
                (progress_bar("translate", total=_count_rows(ds), unit="rows") if progress and not policy.dry_run
                 else _quiet_bar()) as bar:  # a dry run sends nothing: no "0/N rows" line
            shown = [0.0]

            def on_row(plan: RowPlan) -> None:
                _write_row(plan, writer, sink, summary)
                bar.advance(1)
                show()

            def show(force: bool = False) -> None:  # at most 4 times a second, and once more at the end
                now = time.monotonic()
                if force or now - shown[0] > 0.25:
                    shown[0] = now
                    bar.update(description=f"translate · {engine.stats.translated:,} ok ·"
                                           f" {engine.stats.rejected:,} rejected ·"
                                           f" {session.stats.brief(policy.prices is not None)}{window_text()}")

            def window_text() -> str:  # -c auto: the current window(s), as synth shows them
                window = getattr(session.backend, "window_text", None)
                return f" · {window()}" if window is not None else ""

            engine = Engine(session, make, backend=backend, model=llm_backend.model, on_row=on_row,
                            batch_rows=batch, batch_chars=batch_chars, backcheck=backcheck, min_chrf=min_chrf,
                            min_letters=min_letters)

            records = iter(ds)

            def plans():
                for i, record in enumerate(records):
                    plan = plan_row(record, i, fields=fields_t, targets=targets, mix=mix_map, seed=seed,
                                    keep_source=keep_source, source_lang=src, min_letters=min_letters)
                    summary.planned += len(plan.targets) + len(plan.skipped)
                    summary.skipped_same_language += len(plan.skipped)
                    yield plan

            engine.run(plans())
            show(force=True)  # the last rows' counts, not those of the last refresh
            if session.stopped:  # count what was not reached, so read = every row of the input
                summary.unreached = sum(1 for _ in records)
            if ds.stats.read == 0:
                raise InputError(f"{data}: no rows to translate (the input is empty)",
                                 "check that you passed the right file")
            summary.written = writer.count
            _fill(summary, engine, session, ds, policy)
    summary.rejects_path = str(sink.path) if sink.count else None
    summary.reasons = dict(sink.by_reason)
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


def _count_rows(ds) -> int | None:
    """The number of rows when it is cheap to know (plain JSONL: count lines), for the bar's ETA."""
    total = 0
    for f in ds.files:
        if f.type != "jsonl" or f.compression is not None:
            return None
        with open(f.path, "rb") as fh:
            total += sum(1 for line in fh if line.strip())
    return total


@contextlib.contextmanager
def _quiet_bar():
    class Bar:
        def advance(self, n: int = 1) -> None:
            pass

        def update(self, **_) -> None:
            pass

    yield Bar()


def _write_row(plan: RowPlan, writer, sink: RejectSink, summary: TranslateSummary) -> None:
    if plan.write_source:
        writer.write(source_record(plan).to_dict())
        summary.sources_written += 1
    for lang in plan.targets:
        record = plan.done.get(lang)
        if record is not None:
            writer.write(record.to_dict())
            continue
        reason = plan.failed.get(lang, "pending")
        if reason == "pending":  # the run stopped before this one was sent
            summary.pending += 1
            continue
        sink.add(Reject(f"{reason} (to {lang})", id=plan.record.id, row=plan.record.to_dict()))


def _fill(summary: TranslateSummary, engine: Engine, session: LLMSession, ds, policy: RunPolicy) -> None:
    st, ls = engine.stats, session.stats
    summary.read, summary.unreadable = ds.stats.read, ds.stats.rejected
    summary.translated, summary.rejected = st.translated, st.rejected
    summary.requests, summary.batch_requests, summary.fallbacks = st.requests, st.batch_requests, st.fallbacks
    summary.row_retries, summary.back_requests = st.row_retries, st.back_requests
    summary.http_attempts, summary.from_journal, summary.from_batch = ls.sent, ls.cached, ls.batched
    summary.tokens_in, summary.tokens_out = ls.usage.prompt_tokens, ls.usage.completion_tokens
    summary.cost = ls.cost if policy.prices is not None else None
    summary.mean_chrf = round(st.chrf_sum / st.chrf_n, 2) if st.chrf_n else None
    summary.stopped = session.stopped


__all__ = ["translate", "TranslateSummary", "BACKENDS"]
