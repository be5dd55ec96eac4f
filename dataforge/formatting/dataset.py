"""`dataforge format`: a dataset in, training-ready rows out, bad rows rejected with reasons.

    >>> s = format_dataset("data.jsonl", "train.jsonl", template="alpaca", lang="auto")   # doctest: +SKIP
    >>> s.read == s.written + s.rejected                                                  # doctest: +SKIP
    True

Rows are rendered in batches; with a tokenizer each batch is tokenized in one
call and every example is checked (one BOS, ends with EOS/end-of-turn that
is trained on, length). Nothing is silently truncated or dropped.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass, field

from dataforge.errors import ConfigError, InputError
from dataforge.formatting.api import get_formatter
from dataforge.formatting.core import load_tokenizer
from dataforge.formatting.openai_check import OpenAIReport, TokenCounter, example_errors, finish_report
from dataforge.formatting.styles import EXPORTS, TRUNCATABLE, apply_truncation, build_rows, check_style, text_rows
from dataforge.formatting.tokens import Tokenized, tokenize_batch, tokenizer_facts
from dataforge.io import RejectSink, open_writer, read_dataset, rejects_path_for, targets_for
from dataforge.io.rejects import Reject
from dataforge.io.safety import check_outputs
from dataforge.io.shapes import RowError
from dataforge.progress import progress_bar

BATCH = 1024


@dataclass
class Example:
    """A formatted example kept for --preview."""

    id: str
    prompt: str
    completion: str
    tokens: Tokenized | None = None


@dataclass
class FormatSummary:
    read: int = 0
    written: int = 0
    rejected: int = 0
    output: str | None = None
    rejects_path: str | None = None
    reasons: dict = field(default_factory=dict)
    template: str = ""
    style: str = ""
    languages: dict = field(default_factory=dict)
    detected: int = 0  # rows whose language langdetect decided (no lang field)
    language_note: str = ""  # how --lang auto chose (templates/lang.py LanguageChooser.note)
    warnings: list[str] = field(default_factory=list)
    escaped: int = 0
    truncated: int = 0
    token_counts: list[int] = field(default_factory=list)
    trained_tokens: int = 0
    openai: OpenAIReport | None = None
    previews: list[Example] = field(default_factory=list)
    preview_only: bool = False
    tokenizer: object = field(default=None, repr=False)

    def lines(self) -> list[str]:
        if self.preview_only:
            head = (f"preview only (no -o): formatted the first {self.read:,} rows, {self.rejected:,} of them"
                    " rejected")
        else:
            head = f"read {self.read:,} rows, wrote {self.written:,} ({self.style}), rejected {self.rejected:,}"
        out = [head, f"template: {self.template}"]
        if self.languages:
            out.append("wrapper languages: " + ", ".join(f"{k} {v:,}" for k, v in
                                                         sorted(self.languages.items(), key=lambda kv: -kv[1]))
                       + (f" ({self.language_note})" if self.language_note else ""))
        if self.escaped:
            out.append(f"escaped special tokens in {self.escaped:,} row(s) (--escape-special)")
        if self.truncated:
            out.append(f"truncated {self.truncated:,} row(s) to --max-length (--truncate)")
        if self.token_counts:
            t = sorted(self.token_counts)
            out.append(f"tokens per example: min {t[0]:,}, median {t[len(t) // 2]:,}, max {t[-1]:,};"
                       f" total {sum(t):,}, trained on {self.trained_tokens:,}")
        out += [f"warning: {w}" for w in self.warnings]
        if self.openai is not None:
            out += self.openai.lines()
        return out


def format_dataset(data, out: str | os.PathLike | None = None, *, template: str = "chatml", lang: str = "auto",
                   style: str | None = None, to: str | None = None, template_dir=None, tokenizer=None,
                   max_length: int | None = None, truncate: bool = False, escape_special: bool = False,
                   conversational: bool = False, default_system: bool | None = None, token_ids: bool = False,
                   preview: int = 0, preview_html: str | os.PathLike | None = None, epochs: int | None = None,
                   price_per_1m_tokens: float | None = None, mapping=None, fmt: str | None = None,
                   strict: bool = False) -> FormatSummary:
    """Format `data` into `out` (None: preview only). Returns counts, warnings and previews."""
    has_tokenizer = tokenizer is not None or template.startswith("chat:")
    _check_options(out, has_tokenizer, max_length, truncate, token_ids, preview, preview_html, to, epochs,
                   price_per_1m_tokens)
    tokenizer = load_tokenizer(tokenizer)
    check_outputs([out, preview_html], [data, template_dir], labels=["-o", "--preview-html"],
                  with_rejects=out is not None)  # io/safety.py: never destroy
    summary = FormatSummary(output=str(out) if out is not None else None)
    rejects = RejectSink(rejects_path_for(out) if out is not None else None, strict=strict)
    with rejects, progress_bar("format") as bar:
        ds = read_dataset(data, fmt=fmt, mapping=mapping, rejects=rejects, progress=bar)
        _check_export(to, ds.kind, data, out)
        style_used = check_style(style, to, ds.kind, conversational)
        if truncate and style_used not in TRUNCATABLE:
            raise ConfigError(f"--truncate cannot shorten {style_used} rows",
                              "use --style text or prompt-completion, or drop --truncate to reject long rows")
        if token_ids and style_used not in TRUNCATABLE:
            raise ConfigError("--token-ids writes one token sequence per row, for --style text or"
                              " prompt-completion", "drop --token-ids, or use one of those styles")
        if preview and style_used == "export":
            raise ConfigError("--preview shows templated text; --to exports are not templated",
                              "use --style text or prompt-completion with --preview")
        summary.style = to or style_used
        formatter = None if style_used == "export" else get_formatter(
            template, lang, tokenizer, template_dir=template_dir, default_system=default_system,
            escape_special=escape_special)
        if formatter is not None:
            formatter.languages.reset()  # formatters are reused across calls; the counts are this dataset's
            formatter.escaped_rows = 0
        facts = None
        if formatter is not None and formatter.tokenizer is not None:
            facts = tokenizer_facts(formatter.tokenizer,
                                    end_of_turn="" if formatter.use_tokenizer_template else formatter.pack.end_of_turn,
                                    eos_token=formatter.eos_token, any_special_ends=formatter.use_tokenizer_template)
            summary.warnings += facts.warnings()
        summary.template = "none (export)" if formatter is None else formatter.describe
        if formatter is not None and tokenizer is None and formatter.pack.type == "prompt" and formatter.pack.strings:
            summary.warnings.append(f"EOS written as {formatter.eos_token!r}; pass --tokenizer DIR to use your"
                                    " model's EOS token and check the examples against it")
        openai = OpenAIReport(estimated=tokenizer is None, price_per_1m_tokens=price_per_1m_tokens) \
            if to == "openai" else None
        counter = TokenCounter(tokenizer) if openai is not None else None
        writer = open_writer(out) if out is not None else None
        frames = _frame_plan(formatter, facts, style_used, preview, openai, writer)
        try:
            for batch in _batches(ds, BATCH, frames is not None):
                if type(batch) is not list:  # a frame of plain rows from the columnar reader
                    from dataforge.formatting.frames import frame_lines, records

                    lines = frame_lines(*frames, batch)
                    if lines is not None:
                        writer.write_bytes(lines, batch.height)
                        formatter.languages.count_fixed(batch.height)
                        summary.written += batch.height
                        continue
                    batch = records(batch, ds.where)  # the row path says what is wrong
                if formatter is not None:  # --lang auto: the main language, from the first rows
                    formatter.languages.prime(record for record, _where in batch)
                rows = _format_batch(batch, ds, formatter, facts, style_used, to, conversational, max_length,
                                     truncate, token_ids, rejects, summary, preview)
                valid = []
                for row, record, (file, line) in rows:
                    if openai is not None:
                        errs = example_errors(row)
                        if errs:  # with the row's place, like every other reject
                            rejects.add(Reject("; ".join(errs), file=file, line=line or None, id=record.id,
                                               field="input" if "input" in row else "messages", row=row))
                            openai.invalid += 1
                            continue
                        openai.add(row)
                        valid.append(row)
                    if writer is not None:
                        writer.write(row)
                    summary.written += 1
                if openai is not None:
                    openai.tokens += counter.rows(valid)  # one estimate call per batch, not per message
                if writer is None and len(summary.previews) >= preview:
                    summary.preview_only = True  # nothing to write: stop once the preview is full
                    break
            if ds.stats.read == 0 and not summary.preview_only:
                raise InputError(f"{data}: no rows to format (the input is empty)", "check the input path")
            if openai is not None:
                finish_report(openai, epochs)
                summary.openai = openai
                if not openai.ok:
                    raise InputError(f"--to openai: {openai.errors[0]}", "add examples; the file was not written")
        except BaseException as exc:
            if writer is not None:
                writer.abort(exc)
            raise
        if writer is not None:
            writer.close()
    summary.read, summary.rejected = ds.stats.read, rejects.count
    summary.reasons = dict(rejects.by_reason)
    summary.rejects_path = str(rejects.path) if rejects.count and rejects.path else None
    if formatter is not None:
        summary.tokenizer = formatter.tokenizer
        summary.languages = dict(formatter.languages.used)
        summary.detected = formatter.languages.detected
        summary.language_note = formatter.languages.note()
        summary.warnings += formatter.languages.warnings()
        summary.escaped = formatter.escaped_rows
    if summary.previews and preview_html:
        from dataforge.formatting.preview import write_html

        write_html(summary.previews, preview_html, formatter.tokenizer if formatter is not None else None)
    return summary


def _format_batch(batch, ds, formatter, facts, style, to, conversational, max_length, truncate, token_ids,
                  rejects, summary, preview) -> list[tuple[dict, object, tuple]]:
    """(row, record, (file, line)) for each row made; the others go to the rejects file."""
    records = [record for record, _where in batch]
    if facts is None and len(summary.previews) >= preview and style in TRUNCATABLE:
        rows = []  # the hot path: nothing to tokenize or preview, just render and write
        for (record, where), result in zip(batch, text_rows(formatter, records, style)):
            if type(result) is dict:
                rows.append((result, record, where))
            else:
                _reject(rejects, result, record, where)
        return rows
    built: list[tuple[dict, list]] = []
    results = build_rows(formatter, records, style, to=to, conversational=conversational,
                         need_text=facts is not None or len(summary.previews) < preview)
    for (record, where), result in zip(batch, results):
        if isinstance(result, RowError):
            _reject(rejects, result, record, where)
        else:
            built.append((*result, record, where))
    if facts is None:
        for row, pairs, _record, _where in built:
            if pairs and len(summary.previews) < preview:
                summary.previews.append(Example(row.get("id", ""), pairs[0][0], pairs[0][1]))
        return [(row, record, where) for row, _pairs, record, where in built]
    flat = [(i, p) for i, b in enumerate(built) for p in b[1]]
    results = tokenize_batch(facts, [p[0] for _, p in flat], [p[1] for _, p in flat],
                             max_length=max_length, truncate=truncate)
    per_row: dict[int, list] = collections.defaultdict(list)
    for (i, pair), res in zip(flat, results):
        per_row[i].append((pair, res))
    rows = []
    for i, (row, _pairs, record, where) in enumerate(built):
        items = per_row.get(i, [])
        bad = next((res for _p, res in items if isinstance(res, RowError)), None)
        if bad is not None:
            _reject(rejects, bad, record, where)
            continue
        for (prompt, completion, fld), res in items:
            if res.truncated:
                apply_truncation(row, prompt, completion, fld, res.text_end)
            summary.token_counts.append(len(res.input_ids))
            summary.trained_tokens += res.trained
        summary.truncated += any(res.truncated for _p, res in items)
        if token_ids and items:
            row["input_ids"], row["completion_mask"] = items[0][1].input_ids, items[0][1].completion_mask
        if items and len(summary.previews) < preview:
            (prompt, completion, _f), res = items[0]
            summary.previews.append(Example(row.get("id", ""), prompt, completion, res))
        rows.append((row, record, where))
    return rows


def _reject(rejects: RejectSink, exc: RowError, record, where) -> None:
    file, line = where
    rejects.add(Reject(exc.reason, file=file, line=line or None, field=exc.field, id=record.id,
                       row=record.to_dict()))


def _batches(ds, size: int, columns: bool = False):
    """Lists of (record, (file, line)); the place is kept for the rejects file. With `columns`, runs of
    plain rows come as polars frames from the columnar reader instead, in input order."""
    batch, no_place = [], ("", 0)
    has_place = hasattr(ds, "where")
    if columns:
        import polars as pl

        from dataforge.io.columnar import batches
    for record in (batches(ds) if columns else ds):
        if columns and type(record) is pl.DataFrame:
            if batch:
                yield batch
                batch = []
            yield record
            continue
        batch.append((record, ds.where if has_place else no_place))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _frame_plan(formatter, facts, style, preview, openai, writer) -> tuple | None:
    """(FastPack, language, strings, style) when batches may come as frames (see formatting/frames.py):
    text styles written as JSON lines with a compiled pack and one language, nothing tokenized,
    previewed or checked row by row. None: every row takes the row path."""
    from dataforge.formatting.fastpath import ENABLED, fast_pack
    from dataforge.io.writers import JsonlWriter

    if (not ENABLED or formatter is None or facts is not None or preview or openai is not None
            or style not in TRUNCATABLE or type(writer) is not JsonlWriter or not hasattr(writer, "write_bytes")):
        return None
    fast, fixed = fast_pack(formatter), formatter.languages.fixed()
    if fast is None or fixed is None:
        return None
    strings = formatter._strings_tuple(*fixed)
    from dataforge.formatting.frames import columns_available

    if strings is None or not columns_available():
        return None
    return fast, fixed[0], strings, style


def _check_export(to: str | None, kind: str, data, out) -> None:
    """`format --to` writes only EXPORTS; for data none of them holds, point at `dataforge convert`, whose
    --to takes the other shapes (the generic hint would list targets `format` refuses)."""
    if not to or to not in EXPORTS or kind == "preference":  # check_style words preference's own hint
        return
    fits = [t for t in EXPORTS if t in targets_for(kind)]
    if to in fits:
        return
    from dataforge.io.export import _KIND_WORDS

    others = [t for t in targets_for(kind) if t not in EXPORTS]
    names = " ".join(map(str, data)) if isinstance(data, (list, tuple)) else str(data)
    hint = f"write it with `dataforge convert {names} -o {out or 'OUT'} --to {'|'.join(others)}`"
    if fits:
        hint = f"use --to {'|'.join(fits)}, or " + hint
    raise InputError(f"--to {to} needs other data; this is {_KIND_WORDS.get(kind, kind)} data", hint)


def _check_options(out, has_tokenizer, max_length, truncate, token_ids, preview, preview_html, to, epochs, price):
    if out is None and not preview:
        raise ConfigError("nothing to do: no output path and no --preview", "give -o OUT, or --preview K")
    if max_length is not None and max_length < 1:
        raise ConfigError("--max-length must be a positive number of tokens")
    if (max_length or token_ids) and not has_tokenizer:
        flag = "--max-length" if max_length else "--token-ids"
        raise ConfigError(f"{flag} counts tokens, so it needs --tokenizer DIR")
    if truncate and not max_length:
        raise ConfigError("--truncate needs --max-length N", "e.g. --max-length 2048 --truncate")
    if preview_html and not preview:
        raise ConfigError("--preview-html needs --preview K", "e.g. --preview 5 --preview-html preview.html")
    if (epochs is not None or price is not None) and to != "openai":
        raise ConfigError("--epochs and --price-per-1m-tokens go with --to openai")
    if epochs is not None and epochs < 1:
        raise ConfigError("--epochs must be at least 1")
