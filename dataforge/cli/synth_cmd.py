"""`dataforge synth METHOD`: generate training data with an LLM (or, for `completion`, without)."""

from __future__ import annotations

import functools

import click

from dataforge.cli.options import allow_empty_option, mapping_options, overwrite_option


def _out_options(func):
    func = overwrite_option(allow_empty_option(func))
    func = click.option("--seed", default=0, show_default=True, help="Seed for every random choice.")(func)
    func = click.option("-n", "n", type=click.IntRange(min=1), help="Target number of output rows.")(func)
    func = click.option("-o", "--output", "out", required=True, type=click.Path(),
                        help="Output path; the suffix picks the file type (.jsonl .parquet .csv ...).")(func)
    return func


_LLM_OPTIONS = [
    click.option("-m", "--model", default="", help="Model name (or model folder with --backend transformers)."),
    click.option("--backend", type=click.Choice(["openai", "transformers"]), default="openai", show_default=True,
                 help="openai = any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp, TGI)."),
    click.option("--base-url", envvar="OPENAI_BASE_URL", multiple=True, help="Server URL, e.g. "
                 "http://localhost:8000/v1 [env: OPENAI_BASE_URL]; repeat it to spread requests over several."),
    click.option("--endpoints", "endpoints_file", type=click.Path(dir_okay=False), help="YAML list of endpoints: "
                 "{base_url, api_key_env, model, weight}; keys come from the named environment variables."),
    click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True,
                 help="Name of the environment variable holding the API key (the key itself is never a flag)."),
    click.option("-c", "--concurrency", default="auto", show_default=True, callback=lambda c, p, v: _concurrency(v),
                 help="Requests in flight at once: 'auto' adapts to each server (grows until 429s or slower "
                 "answers), a number fixes it."),
    click.option("--rpm", type=float, help="At most this many requests per minute."),
    click.option("--tpm", type=float, help="At most this many tokens per minute (estimated before, corrected after)."),
    click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for one answer."),
    click.option("--max-retries", default=6, show_default=True, help="Retries per request on 408/409/429/5xx, "
                 "timeouts and connection errors."),
    click.option("--max-retry-wait", default=600.0, show_default=True,
                 help="Longest Retry-After honoured, in seconds; longer waits are cut to this."),
    click.option("--max-cost", type=float, help="Stop sending when the estimated cost reaches this (USD)."),
    click.option("--max-tokens", "max_total_tokens", type=int, help="Stop sending when this many tokens "
                 "(in + out) were used."),
    click.option("--price-in", type=float, help="USD per million input tokens (for cost estimates)."),
    click.option("--price-out", type=float, help="USD per million output tokens."),
    click.option("--price", metavar="IN/OUT", help="USD per million input/output tokens, e.g. 0.15/0.60"
                 " (default: dataforge/data/prices.json for known OpenAI models)."),
    click.option("--dry-run", is_flag=True, help="Print the requests, tokens and cost (synchronous and batch) of"
                 " the first stage; send nothing, write nothing."),
    click.option("--force", is_flag=True, help="Start even when the estimated cost is above --max-cost."),
    click.option("--batch", is_flag=True, help="Send through OpenAI's Batch API (about half the price; answers"
                 " within 24 h; a rerun re-attaches to a running batch)."),
    click.option("--batch-retry", is_flag=True, help="With --batch: requests a batch did not answer go into"
                 " follow-up batches instead of being sent synchronously."),
    click.option("--temperature", default=0.7, show_default=True, help="Sampling temperature."),
    click.option("--max-new-tokens", default=1024, show_default=True,
                 help="Token limit per answer (sent as max_tokens)."),
    click.option("--prompts", "prompts_dir", type=click.Path(file_okay=False),
                 help="Folder of .j2 templates replacing the built-in prompts of the same name."),
    click.option("--fresh", is_flag=True, help="Ignore the request journal of an earlier run (start over)."),
    click.option("--batch-size", default=8, show_default=True, help="Batch size for --backend transformers."),
]


def _llm_options(func):
    for option in reversed(_LLM_OPTIONS):
        func = option(func)
    return func


def _doc_options(func, default: str = "auto"):
    func = click.option("--split", type=click.Choice(["auto", "section", "paragraph", "line", "file"]),
                        default=default, show_default=True,
                        help="How files are cut into documents (auto: Markdown/HTML/PDF by headings or pages "
                             "and length, text files by paragraph).")(func)
    func = click.option("--text-field", help="Column holding the text in dataset files.")(func)
    return func


def _options(kw: dict):
    from dataforge.llm import RunPolicy
    from dataforge.llm.batch_run import run_flags
    from dataforge.synth.engine import SynthOptions

    check_conflicts(kw.get("backend", "openai"), kw.get("batch") or kw.get("batch_retry"))
    prices = resolve_prices_flags(kw.get("model"), kw.get("price"), kw.get("price_in"), kw.get("price_out"))
    from dataforge.llm.policy import parse_concurrency

    concurrency, adaptive = parse_concurrency(kw.get("concurrency", "auto"))
    policy = RunPolicy(concurrency=concurrency, adaptive=adaptive, timeout=kw.get("timeout", 120.0),
                       max_retries=kw.get("max_retries", 6), max_retry_wait=kw.get("max_retry_wait", 600.0),
                       rpm=kw.get("rpm"), tpm=kw.get("tpm"), max_cost=kw.get("max_cost"),
                       max_tokens=kw.get("max_total_tokens"), prices=prices, seed=kw["seed"],
                       **run_flags(dry_run=kw.get("dry_run", False), force=kw.get("force", False),
                                   batch=kw.get("batch", False), batch_retry=kw.get("batch_retry", False)))
    return SynthOptions(model=kw.get("model", ""), backend=kw.get("backend", "openai"), base_url=_base_urls(kw),
                        api_key_env=kw.get("api_key_env", "OPENAI_API_KEY"), n=kw["n"], seed=kw["seed"],
                        temperature=kw.get("temperature", 0.7), max_new_tokens=kw.get("max_new_tokens", 1024),
                        prompts_dir=kw.get("prompts_dir"), fresh=kw.get("fresh", False),
                        batch_size=kw.get("batch_size", 8), policy=policy, mapping=kw.get("mapping") or None,
                        fmt=kw.get("fmt"))


def check_conflicts(backend: str, batch: bool) -> None:
    """Options that cannot go together: a usage error (exit 2) before anything is loaded or created."""
    if batch and backend == "transformers":
        raise click.UsageError("--batch needs --backend openai (the OpenAI Batch API); drop --batch to run a"
                               " local model")


def resolve_prices_flags(model, price, price_in, price_out):
    """--price / --price-in / --price-out (else the price table); a bad value is a usage error (exit 2)."""
    from dataforge.llm.cost import PriceError, resolve_prices

    try:
        return resolve_prices(model, price, price_in, price_out)
    except PriceError as exc:
        raise click.UsageError(f"{exc.message} ({exc.hint})" if exc.hint else exc.message) from None


def _concurrency(value) -> str:
    """-c auto | N, checked while parsing (a usage error, exit 2)."""
    from dataforge.errors import ConfigError
    from dataforge.llm.policy import parse_concurrency

    try:
        parse_concurrency(value)
    except ConfigError:
        raise click.BadParameter("must be 'auto' or a whole number between 1 and 4096",
                                 param_hint="'-c' / '--concurrency'") from None
    return value


def _from_environment(param: str) -> bool:
    """Whether the option's value came from its environment variable rather than the command line."""
    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source(param) if ctx is not None else None
    return source is click.core.ParameterSource.ENVIRONMENT


def _base_urls(kw: dict):
    """--base-url (repeatable) and --endpoints FILE: None, one URL, or a list for an EndpointPool."""
    urls = [u for u in (kw.get("base_url") or ()) if u]
    if isinstance(kw.get("base_url"), str):
        urls = [kw["base_url"]]
    if kw.get("endpoints_file") and _from_environment("base_url"):
        urls = []  # the file names every server: $OPENAI_BASE_URL must not get requests (and the key) too
    if kw.get("endpoints_file"):
        from dataforge.llm.endpoints import load_endpoints

        urls += load_endpoints(kw["endpoints_file"])
    return None if not urls else urls[0] if len(urls) == 1 and isinstance(urls[0], str) else urls


def _report(func):
    """Run the method, print its summary; Ctrl-C prints how to resume and exits 130."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from dataforge.io.outcome import check_not_empty
        from dataforge.io.safety import check_outputs
        from dataforge.llm import Interrupted
        from dataforge.llm.cost import DryRun

        ctx = click.get_current_context()
        allow_empty = kwargs.pop("allow_empty", False)
        inputs = [kwargs.get(name) for name in ("seeds", "data", "prompts_dir")]
        docs = kwargs.get("docs") or kwargs.get("passages")
        if docs:  # the files the document reader reads: a folder's other files, and this run's own, are not
            from dataforge.synth.sources import input_files

            inputs.append(input_files(docs, kwargs["out"]))
        check_outputs([kwargs["out"]], inputs, labels=["-o"])
        try:
            summary = func(*args, **kwargs)
        except Interrupted as exc:
            click.echo(exc.message, err=True)
            ctx.exit(130)
        except DryRun as exc:  # --dry-run: the estimate, nothing sent or written
            click.echo("\n".join(exc.lines(ctx.info_name)))
            return
        for line in summary.lines():
            click.echo(line)
        if not allow_empty:
            _check_reached(summary, kwargs.get("backend"), kwargs.get("base_url"))
        check_not_empty(None, summary.written, reasons=summary.reasons, rejects_path=summary.rejects_path,
                        allow_empty=allow_empty, output=summary.output,
                        note=f"stopped early: {summary.stopped}" if summary.stopped else "")

    return wrapper


def _check_reached(summary, backend, base_url) -> None:
    """Nothing written and every reject a connection failure (too few for the breaker to stop the run):
    say the server was not reached, not 'pass --allow-empty'."""
    import os

    from dataforge.errors import DataforgeError

    reasons = summary.reasons or {}
    if summary.written or not reasons or backend == "transformers":
        return
    if all("connection error" in reason for reason in reasons):
        from dataforge.llm.openai_backend import safe_url

        if isinstance(base_url, (list, tuple)):  # --base-url given several times
            base_url = base_url[0] if len(base_url) == 1 else None
        url = safe_url(base_url or os.environ.get("OPENAI_BASE_URL"))
        failed = sum(reasons.values())
        raise DataforgeError(f"cannot reach the server at {url}: all {failed:,} requests failed to connect"
                             " and no row was written",
                             "check that the server is running and that --base-url (or OPENAI_BASE_URL) points at"
                             " it (it usually ends in /v1); rerun the same command to resume")


@click.group("synth")
def synth_cmd():
    """Generate training data: self-instruct, evol-instruct, backtranslate, qa, preference, completion, magpie.

    Every request is journaled next to the output (OUT.journal.sqlite): rerun
    the same command after a crash or Ctrl-C and only unfinished requests are
    sent. Rows that could not be made go to OUT.rejects.jsonl with the reason.
    """


@synth_cmd.command("self-instruct")
@click.argument("seeds", nargs=-1, required=True)
@_out_options
@_llm_options
@mapping_options
@click.option("--threshold", default=0.7, show_default=True, help="Reject new tasks with ROUGE-L >= this vs the pool.")
@click.option("--demos", default=8, show_default=True, help="Example tasks shown per request.")
@click.option("--per-prompt", default=8, show_default=True, help="New tasks asked for per request.")
@click.option("--max-rounds", default=20, show_default=True)
@_report
def self_instruct_cmd(seeds, threshold, demos, per_prompt, max_rounds, **kw):
    """New instructions from SEEDS (seed tasks), kept when novel (ROUGE-L), then answered. -n defaults to 100."""
    from dataforge.synth.self_instruct import SelfInstructOptions, self_instruct

    opts = SelfInstructOptions(threshold=threshold, demos=demos, per_prompt=per_prompt, max_rounds=max_rounds)
    return self_instruct(list(seeds), kw["out"], _options(kw), opts)


@synth_cmd.command("evol-instruct")
@click.argument("data", nargs=-1, required=True)
@_out_options
@_llm_options
@mapping_options
@click.option("--rounds", default=1, show_default=True, help="Evolution rounds (each survivor evolves again).")
@click.option("--ops", default="constraints,deepen,concretize,reasoning,breadth", show_default=True,
              help="Evolution operations to pick from.")
@click.option("--equality", type=click.Choice(["rouge", "llm"]), default="rouge", show_default=True,
              help="How 'no information gain' is detected: ROUGE-L with the parent, or asking the model.")
@_report
def evol_cmd(data, rounds, ops, equality, **kw):
    """Evolve the instructions in DATA in depth and breadth, eliminating failed evolutions."""
    from dataforge.synth.evol import EvolOptions, evol_instruct

    opts = EvolOptions(rounds=rounds, operations=tuple(o.strip() for o in ops.split(",") if o.strip()),
                       equality=equality)
    return evol_instruct(list(data), kw["out"], _options(kw), opts)


@synth_cmd.command("backtranslate")
@click.argument("docs", nargs=-1, required=True)
@_out_options
@_llm_options
@_doc_options
@click.option("--min-score", default=4, show_default=True, help="Keep pairs the judge scores at least this (1-5).")
@click.option("--judge-model", help="Model for self-curation (default: --model).")
@click.option("--min-words", default=20, show_default=True, help="Skip documents shorter than this.")
@_report
def backtranslate_cmd(docs, text_field, split, min_score, judge_model, min_words, **kw):
    """Write the instruction each document in DOCS answers; keep pairs the judge scores well."""
    from dataforge.synth.backtranslate import BacktranslateOptions, backtranslate

    opts = BacktranslateOptions(min_score=min_score, judge_model=judge_model, text_field=text_field, split=split,
                                min_words=min_words)
    return backtranslate(list(docs), kw["out"], _options(kw), opts)


@synth_cmd.command("qa")
@click.argument("passages", nargs=-1, required=True)
@_out_options
@_llm_options
@_doc_options
@click.option("--per-passage", default=3, show_default=True, help="Question-answer pairs per passage.")
@click.option("--min-words", default=20, show_default=True, help="Skip passages shorter than this.")
@_report
def qa_cmd(passages, text_field, split, per_passage, min_words, **kw):
    """Question-answer pairs from PASSAGES, each kept with its passage as context."""
    from dataforge.synth.qa import QAOptions, qa

    opts = QAOptions(per_passage=per_passage, text_field=text_field, split=split, min_words=min_words)
    return qa(list(passages), kw["out"], _options(kw), opts)


@synth_cmd.command("preference")
@click.argument("data", nargs=-1, required=True)
@_out_options
@_llm_options
@mapping_options
@click.option("-k", "k", default=2, show_default=True, help="Answers per instruction.")
@click.option("--temperatures", default="0.7,1.0", show_default=True, help="Temperatures of the answers (cycled).")
@click.option("--rejected-model", help="A second model answering in turn with --model.")
@click.option("--judge-model", help="Model that scores the answers (default: --model).")
@click.option("--rubric", help="Scoring rubric text, or @FILE to read it from a file.")
@click.option("--min-margin", default=1.0, show_default=True, help="Drop pairs whose score gap is below this.")
@_report
def preference_cmd(data, k, temperatures, rejected_model, judge_model, rubric, min_margin,
                   **kw):
    """Chosen/rejected pairs: K answers per instruction in DATA, scored by a judge on a rubric."""
    from dataforge.errors import ConfigError
    from dataforge.synth.preference import RUBRIC, PreferenceOptions, preference

    try:
        temps = tuple(float(t) for t in temperatures.split(",") if t.strip())
    except ValueError:
        raise ConfigError(f"--temperatures '{temperatures}' is not a list of numbers", "e.g. 0.7,1.0") from None
    if rubric and rubric.startswith("@"):
        from pathlib import Path

        try:
            rubric = Path(rubric[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--rubric {rubric}: cannot read the file ({exc.strerror})",
                              "give the rubric text, or @PATH of a text file") from None
    opts = PreferenceOptions(k=k, temperatures=temps, rejected_model=rejected_model, judge_model=judge_model,
                             rubric=rubric or RUBRIC, min_margin=min_margin)
    return preference(list(data), kw["out"], _options(kw), opts)


@synth_cmd.command("completion")
@click.argument("docs", nargs=-1, required=True)
@_out_options
@functools.partial(_doc_options, default="paragraph")
@click.option("--cut", type=click.Choice(["word", "clause", "sentence", "any"]), default="any", show_default=True)
@click.option("--min-prefix-words", default=3, show_default=True)
@click.option("--max-prefix-words", default=200, show_default=True)
@click.option("--min-completion-words", default=1, show_default=True)
@click.option("--max-completion-words", default=60, show_default=True)
@click.option("--max-tail-words", default=3, show_default=True, help="Word cuts: complete the last 1..N words.")
@click.option("--context-sentences", default=1, show_default=True, help="Sentence cuts: sentences of prefix.")
@_report
def completion_cmd(docs, text_field, split, cut, min_prefix_words, max_prefix_words, min_completion_words,
                   max_completion_words, max_tail_words, context_sentences, **kw):
    """Prefix/completion pairs cut from the raw text in DOCS at sentence or clause boundaries (no LLM)."""
    from dataforge.synth.completion import CompletionOptions, completion
    from dataforge.synth.engine import SynthOptions

    opts = CompletionOptions(cut=cut, min_prefix_words=min_prefix_words, max_prefix_words=max_prefix_words,
                             min_completion_words=min_completion_words, max_completion_words=max_completion_words,
                             max_tail_words=max_tail_words, context_sentences=context_sentences,
                             text_field=text_field, split=split)
    return completion(list(docs), kw["out"], SynthOptions(n=kw["n"], seed=kw["seed"]), opts)


@synth_cmd.command("magpie")
@_out_options
@_llm_options
@click.option("--template", type=click.Choice(["llama3", "chatml", "qwen2", "mistral", "gemma", "phi3"]),
              help="The model's chat format (its pre-query template is built in).")
@click.option("--tokenizer", help="Tokenizer or model folder whose chat template "
              "gives the pre-query template (tokenizer_config.json / chat_template.jinja).")
@click.option("--system", help="System prompt put into the pre-query template and the answer request.")
@click.option("--keep-bos", is_flag=True, help="Send the template's BOS token as text too (servers add their own).")
@click.option("--instruction-temperature", default=1.0, show_default=True, help="Sampling temperature of the "
              "instructions (answers use --temperature).")
@click.option("--instruction-max-tokens", default=256, show_default=True)
@click.option("--min-words", default=3, show_default=True, help="Reject instructions shorter than this.")
@click.option("--answer-via", type=click.Choice(["chat", "completions"]), default="chat", show_default=True,
              help="Answer through chat completions, or through /completions with the whole chat template.")
@click.option("--max-rounds", default=10, show_default=True)
@click.option("--stop", multiple=True, help="A stop string added to the template's end-of-turn tokens (repeatable).")
@_report
def magpie_cmd(template, tokenizer, system, keep_bos, instruction_temperature, instruction_max_tokens, min_words,
               answer_via, max_rounds, stop, **kw):
    """Instructions written by an aligned model from its own pre-query template (/v1/completions), then answered.
    -n defaults to 100."""
    from dataforge.synth.magpie import MagpieOptions, magpie

    opts = MagpieOptions(template=template, tokenizer=tokenizer, system=system, keep_bos=keep_bos,
                         instruction_temperature=instruction_temperature,
                         instruction_max_tokens=instruction_max_tokens, min_words=min_words, answer_via=answer_via,
                         max_rounds=max_rounds, stop=tuple(stop))
    return magpie(kw["out"], _options(kw), opts)
