"""`dataforge translate`: thin command over dataforge.translate.translate()."""

from __future__ import annotations

import click

from dataforge.cli.options import allow_empty_option, input_options, overwrite_option


def _concurrency(value):
    from dataforge.cli.synth_cmd import _concurrency as check

    return check(value)


def _fields(value: str | None):
    return [f.strip() for f in value.split(",") if f.strip()] if value else None


@click.command("translate")
@click.argument("data", nargs=-1, required=True)
@click.option("-o", "--output", "out", required=True, type=click.Path(),
              help="Output path (.jsonl .jsonl.gz .jsonl.zst .json .parquet .csv, or a folder).")
@click.option("--to", "to", metavar="LANGS", help="Target languages, e.g. es,fr,de (every row into each).")
@click.option("--mix", "mix", metavar="LANG=RATIO,...",
              help="Draw one language per row by ratio, e.g. es=0.3,fr=0.2; the rest stays in the source language.")
@click.option("--from", "source_lang", default="auto", show_default=True,
              help="Source language; 'auto' uses each row's lang or detects it.")
@click.option("--fields", "fields", metavar="F1,F2",
              help="Fields to translate (default: all: instruction,context,output or instruction,context,"
                   "chosen,rejected).")
@click.option("--backend", type=click.Choice(["openai", "transformers"]), default="openai", show_default=True,
              help="openai: any OpenAI-compatible server; transformers: a local Marian/NLLB/M2M-100 folder.")
@click.option("-m", "--model", help="Model name (openai) or local model folder (transformers).")
@click.option("--keep-source", is_flag=True, help="Also write the original rows (a mixed multilingual set).")
@click.option("--seed", default=0, show_default=True, help="Seed for --mix draws.")
@click.option("--backcheck", is_flag=True, help="Translate back and store the round trip's chrF in meta.")
@click.option("--min-chrf", type=float, help="With --backcheck: reject rows whose chrF is below this (0-100).")
@click.option("--batch-size", type=int, help="Rows per request (default 8 for openai, 16 for transformers).")
@click.option("--temperature", default=0.0, show_default=True)
@click.option("--device", help="transformers: cpu, cuda, cuda:1 ... (default: cuda when available).")
@click.option("--base-url", envvar="OPENAI_BASE_URL", multiple=True,
              help="OpenAI-compatible server URL (vLLM, Ollama, ...), e.g. http://localhost:8000/v1"
                   " [env: OPENAI_BASE_URL]; repeat it to spread requests over several.")
@click.option("--endpoints", "endpoints_file", type=click.Path(dir_okay=False),
              help="YAML list of endpoints: {base_url, api_key_env, model, weight}; keys come from the named"
                   " environment variables.")
@click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True,
              help="Name of the environment variable holding the API key (the key itself is never a flag).")
@click.option("-c", "--concurrency", default="auto", show_default=True, callback=lambda c, p, v: _concurrency(v),
              help="Requests in flight at once: 'auto' adapts to each server (grows until 429s or slower answers),"
                   " a number fixes it.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds per request attempt.")
@click.option("--max-retries", default=6, show_default=True,
              help="Retries per request on 408/409/429/5xx, timeouts and connection errors.")
@click.option("--max-retry-wait", default=600.0, show_default=True,
              help="Longest Retry-After honoured, in seconds; longer waits are cut to this.")
@click.option("--rpm", type=float, help="Requests per minute limit.")
@click.option("--tpm", type=float, help="Tokens per minute limit.")
@click.option("--max-cost", type=float, help="Stop cleanly when the estimated cost (USD) reaches this.")
@click.option("--max-tokens", "max_total_tokens", type=int, help="Stop cleanly when tokens in + out reach this.")
@click.option("--price-in", type=float, help="USD per million input tokens (for cost estimates).")
@click.option("--price-out", type=float, help="USD per million output tokens.")
@click.option("--price", metavar="IN/OUT", help="USD per million input/output tokens, e.g. 0.15/0.60"
              " (default: dataforge/data/prices.json for known OpenAI models).")
@click.option("--dry-run", is_flag=True, help="Print the requests, tokens and cost (synchronous and batch);"
              " send nothing, write nothing.")
@click.option("--force", is_flag=True, help="Start even when the estimated cost is above --max-cost.")
@click.option("--batch", is_flag=True, help="Send through OpenAI's Batch API (about half the price; answers"
              " within 24 h; a rerun re-attaches to a running batch).")
@click.option("--batch-retry", is_flag=True, help="With --batch: requests a batch did not answer go into"
              " follow-up batches instead of being sent synchronously.")
@click.option("--fresh", is_flag=True, help="Ignore the request journal and send everything again.")
@input_options
@allow_empty_option
@overwrite_option
@click.pass_context
def translate_cmd(ctx, data, out, to, mix, source_lang, fields, backend, model, keep_source, seed, backcheck,
                  min_chrf, batch_size, temperature, device, base_url, endpoints_file, api_key_env, concurrency,
                  timeout,
                  max_retries, max_retry_wait, rpm, tpm, max_cost, max_total_tokens, price_in, price_out, fresh,
                  mapping, fmt, strict, allow_empty, price=None, dry_run=False, force=False, batch=False,
                  batch_retry=False):
    """Translate instruction or preference data, keeping code, placeholders and meaning intact.

    Code, URLs, e-mails, placeholders and markup are protected and verified;
    each field's language is checked; a row is written only when all its
    fields passed. Requests are journaled next to OUTPUT: rerun the same
    command to resume. Failed rows go to OUTPUT.rejects.jsonl with the reason.
    """
    from dataforge.io.outcome import check_not_empty
    from dataforge.io.safety import check_outputs
    from dataforge.llm import Interrupted, RunPolicy
    from dataforge.translate import translate

    check_outputs([out], [data], labels=["-o"])
    from dataforge.cli.synth_cmd import _base_urls
    from dataforge.llm.policy import parse_concurrency

    base_url = _base_urls({"base_url": base_url, "endpoints_file": endpoints_file})  # one URL, or several
    concurrency, adaptive = parse_concurrency(concurrency)

    from dataforge.cli.synth_cmd import check_conflicts, resolve_prices_flags
    from dataforge.llm.batch_run import run_flags
    from dataforge.llm.cost import DryRun

    check_conflicts(backend, batch or batch_retry)
    prices = resolve_prices_flags(model if backend == "openai" else None, price, price_in, price_out)
    policy = RunPolicy(concurrency=concurrency, adaptive=adaptive, timeout=timeout, max_retries=max_retries,
                       max_retry_wait=max_retry_wait, rpm=rpm, tpm=tpm, max_cost=max_cost,
                       max_tokens=max_total_tokens, prices=prices,
                       **run_flags(dry_run=dry_run, force=force, batch=batch, batch_retry=batch_retry))
    try:
        summary = translate(list(data), out, to=to, mix=mix, source_lang=source_lang, fields=_fields(fields),
                            backend=backend, model=model, base_url=base_url, api_key_env=api_key_env,
                            keep_source=keep_source, seed=seed, backcheck=backcheck, min_chrf=min_chrf,
                            batch_size=batch_size, temperature=temperature, policy=policy, fresh=fresh,
                            mapping=mapping, fmt=fmt, strict=strict, device=device)
    except Interrupted as exc:
        click.echo(exc.message, err=True)
        ctx.exit(130)
        return
    except DryRun as exc:  # --dry-run: the estimate, nothing sent or written
        click.echo("\n".join(exc.lines("translate --backcheck" if backcheck else "translate")))
        return
    for line in summary.lines():
        click.echo(line)
    if summary.rejects_path:
        click.echo(f"rejects: {summary.rejects_path}")
        for reason, count in sorted(summary.reasons.items(), key=lambda kv: -kv[1])[:6]:
            click.echo(f"  {count:>6,}  {reason}")
    click.echo(f"journal: {summary.journal_path}")
    check_not_empty(summary.read, summary.written, reasons=summary.reasons, rejects_path=summary.rejects_path,
                    allow_empty=allow_empty, output=summary.output,
                    note=f"stopped early: {summary.stopped}" if summary.stopped else "")
