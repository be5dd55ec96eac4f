"""`dataforge format` and `dataforge templates list|show|check`."""

from __future__ import annotations

import click

from dataforge.cli.options import allow_empty_option, input_options, overwrite_option

STYLES = ("text", "prompt-completion", "messages", "preference")
EXPORTS = ("openai", "sharegpt", "alpaca")


@click.command("format")
@click.argument("data", nargs=-1, required=True)
@click.option("-o", "--output", "out", type=click.Path(),
              help="Output path; the suffix picks the file type (.jsonl .parquet .csv ..., or a folder).")
@click.option("-t", "--template", default="chatml", show_default=True,
              help="alpaca, dolly, qa, completion, chatml, llama3, mistral, a pack from --template-dir,"
                   " chat (the --tokenizer's own chat template) or chat:DIR.")
@click.option("--template-dir", type=click.Path(file_okay=False),
              help="A folder of your own template packs (they shadow built-in ones of the same name).")
@click.option("--lang", default="auto", show_default=True,
              help="auto: each row's lang field, else detected; or a code (en, es, fr, de, zh, ...) for all rows.")
@click.option("--style", type=click.Choice(STYLES),
              help="Row shape (default: text; preference for chosen/rejected data).")
@click.option("--to", "to", type=click.Choice(EXPORTS),
              help="Write another tool's shape instead of a templated style (no template applied); preference"
                   " data --to openai: OpenAI's preference (DPO) fine-tuning rows.")
@click.option("--conversational", is_flag=True,
              help="--style preference: prompt/chosen/rejected as lists of messages.")
@click.option("--default-system/--no-default-system", default=None,
              help="Add the template's default system prompt to every row that has none / to none. Default:"
                   " only where the template asks for one (chatml, llama3) and renders an instruction row;"
                   " chat data and --style messages keep their own messages.")
@click.option("--tokenizer", type=click.Path(),
              help="A tokenizer folder: use its EOS (and chat template for chat-style templates) and check"
                   " every example (one BOS, EOS trained on, special tokens, length).")
@click.option("--max-length", type=int, help="Reject rows longer than N tokens (needs --tokenizer).")
@click.option("--truncate", is_flag=True, help="With --max-length: cut long rows instead of rejecting them.")
@click.option("--escape-special", is_flag=True,
              help="Defuse special tokens found inside content instead of rejecting the row.")
@click.option("--token-ids", is_flag=True, help="Also write input_ids and completion_mask (needs --tokenizer).")
@click.option("--preview", type=int, default=0, metavar="K", help="Show K examples: trained vs masked text.")
@click.option("--preview-html", type=click.Path(dir_okay=False), help="Also write the preview as HTML.")
@click.option("--epochs", type=int, help="--to openai: epochs for the training-token estimate.")
@click.option("--price-per-1m-tokens", type=float, help="--to openai: price per 1M training tokens, for a cost.")
@input_options
@allow_empty_option
@overwrite_option
def format_cmd(data, out, template, template_dir, lang, style, to, conversational, default_system, tokenizer,
               max_length, truncate, escape_special, token_ids, preview, preview_html, epochs,
               price_per_1m_tokens, mapping, fmt, strict, allow_empty):
    """Render a dataset with a prompt template into training-ready rows.

    Wrapper texts follow each row's language; rows that cannot be formatted
    (special tokens in content, too long, wrong kind) go to OUT.rejects.jsonl
    with the reason.
    """
    from dataforge.formatting.dataset import format_dataset
    from dataforge.io.outcome import check_not_empty
    from dataforge.io.safety import check_outputs

    check_outputs([out, preview_html], [data, template_dir, tokenizer], labels=["-o", "--preview-html"],
                  with_rejects=out is not None)
    summary = format_dataset(
        list(data), out, template=template, lang=lang, style=style, to=to, template_dir=template_dir,
        tokenizer=tokenizer, max_length=max_length, truncate=truncate, escape_special=escape_special,
        conversational=conversational, default_system=default_system, token_ids=token_ids,
        preview=preview, preview_html=preview_html, epochs=epochs, price_per_1m_tokens=price_per_1m_tokens,
        mapping=mapping, fmt=fmt, strict=strict)
    if summary.previews:
        from dataforge.formatting.preview import render_terminal

        render_terminal(summary.previews, summary.tokenizer)
    for line in summary.lines():
        if line.startswith("warning:"):
            click.secho(line, fg="yellow", err=True)
        else:
            click.echo(line)
    if summary.output:
        click.echo(f"output: {summary.output}")
    if preview_html and summary.previews:
        click.echo(f"preview: {preview_html}")
    if summary.rejects_path:
        click.echo(f"rejects: {summary.rejects_path}")
        for reason, count in sorted(summary.reasons.items(), key=lambda kv: -kv[1])[:5]:
            click.echo(f"  {count:>6,}  {reason}")
    if summary.output:
        check_not_empty(summary.read, summary.written, reasons=summary.reasons, rejects_path=summary.rejects_path,
                        allow_empty=allow_empty, output=summary.output)


@click.group("templates")
def templates_cmd():
    """List, show and check prompt template packs."""


@templates_cmd.command("list")
@click.option("--template-dir", type=click.Path(file_okay=False), help="Also list the packs in this folder.")
def list_cmd(template_dir):
    """The available templates, their type and languages."""
    from dataforge.templates import available, find_pack, pack_dirs

    dirs = pack_dirs(template_dir)
    for name, path in available(template_dir).items():
        pack = find_pack(name, dirs)
        langs = ", ".join(sorted(pack.languages)) if pack.strings else "any (no wrapper text)"
        origin = "built-in" if pack.builtin else str(path)
        click.echo(f"{name:<12} {pack.type:<7} {pack.description}")
        click.echo(f"{'':<12} languages: {langs}   [{origin}]")
    click.echo("chat         chat    the tokenizer's own chat template (--tokenizer DIR, or chat:DIR)")


@templates_cmd.command("show")
@click.argument("name")
@click.option("--lang", default="en", show_default=True, help="Render the wrapper texts in this language.")
@click.option("--template-dir", type=click.Path(file_okay=False), help="Look for NAME here first.")
@click.option("--no-context", is_flag=True, help="Render the example without a context.")
@click.option("--tokenizer", type=click.Path(), help="Tokenizer folder (for chat / chat:DIR templates).")
def show_cmd(name, lang, template_dir, no_context, tokenizer):
    """Render an example record with template NAME (prompt dimmed, completion highlighted)."""
    from rich.console import Console
    from rich.text import Text

    from dataforge.templates.check import render_example

    ex = render_example(name, lang, template_dir, with_context=not no_context, tokenizer=tokenizer)
    console = Console()
    pack = ex["pack"]
    note = f" (no {lang} texts: English used)" if ex["fell_back"] else ""
    console.print(f"[bold]{name}[/bold]  type={pack.type}  lang={ex['lang']}{note}  files={pack.path}")
    console.print(Text(ex["prompt"], style="dim") + Text(ex["completion"], style="bold green"))
    console.print(Text("dim: prompt (masked)   green: completion (trained on)", style="italic"))


@templates_cmd.command("check")
@click.argument("folder", type=click.Path())
def check_cmd(folder):
    """Validate a template pack (or a folder of packs); problems are listed with file and line."""
    from dataforge.errors import ConfigError
    from dataforge.templates.check import check_pack_dir

    problems = check_pack_dir(folder)
    if not problems:
        click.echo(f"{folder}: ok")
        return
    for p in problems:
        click.echo(str(p))
    raise ConfigError(f"{len(problems)} problem(s) in {folder}", "fix the lines listed above")
