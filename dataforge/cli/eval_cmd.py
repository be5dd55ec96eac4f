"""`dataforge eval` and `dataforge probe`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from dataforge.cli.options import input_options


def _judge_options(func):
    func = click.option("--judge-api-key-env", default="OPENAI_API_KEY", show_default=True,
                        help="Environment variable holding the judge server's API key.")(func)
    func = click.option("--judge-base-url", help="OpenAI-compatible URL of the judge (default: $OPENAI_BASE_URL, "
                                                 "else OpenAI).")(func)
    func = click.option("--judge-model", help="Model that judges base vs fine-tuned answers (--metrics judge).")(func)
    return func


@click.command("eval")
@click.option("--model", "-m", required=True, type=click.Path(), help="Model folder: the base of the adapters, "
              "or a fully fine-tuned model.")
@click.option("--adapter", "-a", "adapters", multiple=True, type=click.Path(),
              help="LoRA/QLoRA adapter folder (repeatable: compared in one table on one loaded base).")
@click.option("--data", "-d", required=True, multiple=True, help="Held-out eval set (any instruction shape).")
@click.option("--metrics", default="loss,rouge,exact,chrf,lang", show_default=True,
              help="Comma list of loss, rouge, exact, chrf, lang, judge.")
@click.option("--baseline", is_flag=True, help="Evaluate the base model too and show the differences.")
@click.option("--base", type=click.Path(), help="Base model for --baseline when --model is a full fine-tune "
                                                "(default: the base recorded in its dataforge_train.json).")
@click.option("-o", "--output", type=click.Path(), help="Output folder for eval.json, eval.html, predictions.jsonl "
                                                        "(default: DIR/eval of the last adapter, else of --model).")
@click.option("--max-new-tokens", default=128, show_default=True, type=int, help="Longest generated answer.")
@click.option("--batch-size", default=8, show_default=True, type=int, help="Rows per forward pass / generate call.")
@click.option("--template", help="Prompt template (default: the one the adapter/model was trained with).")
@click.option("--limit", type=int, help="Score only the first N usable rows.")
@_judge_options
@click.option("--json", "as_json", is_flag=True, help="Print eval.json's content instead of the tables.")
@input_options
def eval_cmd(model, adapters, data, metrics, baseline, base, output, max_new_tokens, batch_size, template, limit,
             judge_model, judge_base_url, judge_api_key_env, as_json, mapping, fmt, strict):
    """Score a model, its adapters and (with --baseline) its base on a held-out set.

    \b
    dataforge eval -m models/tiny -a out/lora -d sample_data/eval.jsonl --baseline
    dataforge eval -m models/tiny -a out/lora-r8 -a out/lora-r16 -d eval.jsonl --metrics loss,rouge
    dataforge eval -m out/full -d eval.jsonl --baseline --metrics rouge,judge --judge-model gpt-4o-mini
    """
    from dataforge.eval import JudgeConfig, evaluate

    judge = JudgeConfig(judge_model, base_url=judge_base_url or os.environ.get("OPENAI_BASE_URL"),
                        api_key_env=judge_api_key_env) if judge_model else None
    out = output or str(Path(adapters[-1] if adapters else model) / "eval")
    from dataforge.io.safety import check_outputs

    check_outputs([out], [model, adapters, data, base], kind="dir", labels=["-o"])
    result = evaluate(model, list(data), adapters=list(adapters), metrics=metrics, baseline=baseline, base=base,
                      output=out, max_new_tokens=max_new_tokens, batch_size=batch_size, template=template,
                      judge=judge, mapping=mapping, fmt=fmt, strict=strict, limit=limit)
    if as_json:
        from dataforge.eval.run import _public

        click.echo(json.dumps(_public(result.data), indent=2, ensure_ascii=False))
        return
    _print_eval(result.data)


def _print_eval(data: dict) -> None:
    from rich.console import Console

    from dataforge.eval.report import terminal_tables

    console = Console()
    for table in terminal_tables(data):
        console.print(table)
    for v in data["variants"]:
        j = v.get("judge")
        if j:
            console.print(f"judge on {v['name']}: {j['wins']} wins, {j['ties']} ties, {j['losses']} losses "
                          f"({j['inconsistent']} flipped with the order, {j['failed']} failed)", markup=False)
    judged = {v["name"]: v["scores"]["lang_judged"] for v in data["variants"] if "lang_judged" in v["scores"]}
    if judged:
        from dataforge.eval.metrics import MIN_LANG_CHARS

        console.print(f"language faithfulness counts answers of {MIN_LANG_CHARS}+ characters: "
                      + ", ".join(f"{k} {n}" for k, n in judged.items()), markup=False)
    for note in data.get("notes", []):
        console.print(f"note: {note}", markup=False)
    if data["rows"].get("rejects"):
        click.echo(f"rejects: {data['rows']['rejects']}")
    files = data.get("files", {})
    if files:
        click.echo(f"wrote {files['json']}, {files['html']}, {files['predictions']}")


@click.command("probe")
@click.option("--fractions", default="0.25,0.5,1.0", show_default=True, help="Subset sizes as shares of the data.")
@click.option("--backend", "-b", default="lora", show_default=True, help="Trainer backend (see `dataforge plugins`).")
@click.option("--model", "-m", required=True, type=click.Path(), help="Base model folder.")
@click.option("--data", "-d", required=True, multiple=True, help="Training data (the subsets are drawn from it).")
@click.option("--eval", "eval_data", required=True, type=click.Path(), help="Held-out eval set.")
@click.option("-o", "--output", required=True, type=click.Path(), help="Output folder (subsets/, runs/, eval/, "
                                                                       "probe.json, probe.html).")
@click.option("--config", "-c", type=click.Path(dir_okay=False), help="YAML file of training options.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Training option, e.g. --set max_steps=50.")
@click.option("--metric", default="loss", show_default=True,
              type=click.Choice(["loss", "rouge", "exact", "chrf", "lang"]), help="Metric to fit against data size.")
@click.option("--metrics", help="Other metrics to compute and plot too (comma list).")
@click.option("--no-baseline", is_flag=True, help="Do not evaluate the base model.")
@click.option("--max-new-tokens", default=64, show_default=True, type=int)
@click.option("--batch-size", default=8, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print probe.json's content.")
@input_options
def probe_cmd(fractions, backend, model, data, eval_data, output, config, sets, metric, metrics, no_baseline,
              max_new_tokens, batch_size, as_json, mapping, fmt, strict):
    """Does more data help? Train on nested subsets, evaluate each, fit the gain per doubling.

    \b
    dataforge probe -b lora -m models/tiny -d train.jsonl --eval eval.jsonl -o out/probe --set max_steps=50
    dataforge probe --fractions 0.125,0.25,0.5,1 -b lora -m models/tiny -d train.jsonl --eval eval.jsonl \\
        -o out/probe --metric rouge
    """
    from dataforge.eval.probe import probe
    from dataforge.io.safety import check_outputs

    check_outputs([output], [model, data, eval_data], kind="dir", labels=["-o"])
    extra = [metric] + ([m for m in metrics.split(",") if m.strip()] if metrics else [])
    result = probe(model, list(data), eval_data, output, backend=backend, fractions=fractions, sets=sets,
                   config=config, metric=metric, metrics=extra, baseline=not no_baseline,
                   max_new_tokens=max_new_tokens, batch_size=batch_size, mapping=mapping, fmt=fmt, strict=strict,
                   echo=None if as_json else click.echo)
    if as_json:
        click.echo(json.dumps(result.data, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    from dataforge.eval.probe import TARGETS

    d = result.data
    key, label = TARGETS[d["metric"]][0], TARGETS[d["metric"]][1]
    table = Table("examples", "fraction", label, title=f"probe: {d['backend']} on nested subsets", title_justify="left")
    if d.get("base_scores") and d["base_scores"].get(key) is not None:
        table.add_row("0 (base)", "–", f"{d['base_scores'][key]:.4g}")
    for r in d["runs"]:
        value = r["scores"].get(key)
        table.add_row(f"{r['n']:,}", f"{r['fraction']:g}", "–" if value is None else f"{value:.4g}")
    Console().print(table)
    click.echo(f"gain per doubling of the data ({label}): {d['fit']['gain_per_doubling']:+.4g}")
    click.echo(d["verdict"])
    click.echo(f"wrote {Path(output) / 'probe.json'}, {Path(output) / 'probe.html'}")
