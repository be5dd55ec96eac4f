"""`dataforge chat`: try a trained model and its adapters, interactively or on a file of prompts."""

from __future__ import annotations

import sys

import click

from dataforge.cli.options import FILE_TYPES


@click.command("chat")
@click.option("--model", "-m", required=True, type=click.Path(), help="Model folder: the base of the adapters, "
              "or a fully fine-tuned model.")
@click.option("--adapter", "-a", "adapters", multiple=True, metavar="[NAME=]PATH",
              help="LoRA/QLoRA adapter folder, loaded onto the one base (repeatable); named after its folder "
                   "unless NAME= is given.")
@click.option("--use", metavar="NAME", help="Adapter that answers requests that name none "
              "('base': --model itself, no adapter; default: the first --adapter).")
@click.option("--input", "-i", "input_path", type=click.Path(), help="File of prompts (instruction/context, "
              "prompt, or messages; an 'adapter' column picks the adapter per row). Needs -o.")
@click.option("-o", "--output", type=click.Path(), help="Where the answers go (one row per prompt, ids kept).")
@click.option("--template", help="Prompt template (default: the one each adapter/model was trained with).")
@click.option("--max-new-tokens", default=128, show_default=True, type=int, help="Longest answer.")
@click.option("--batch-size", default=8, show_default=True, type=int, help="Prompts per generate call (--input).")
@click.option("--temperature", default=0.0, show_default=True, type=float, help="0 is greedy; above 0 samples.")
@click.option("--top-p", default=1.0, show_default=True, type=float, help="Nucleus sampling (with --temperature).")
@click.option("--seed", default=0, show_default=True, type=int, help="Sampling seed.")
@click.option("--format", "fmt", type=click.Choice(FILE_TYPES), help="Read --input as this file type.")
@click.option("--strict", is_flag=True, help="Stop at the first bad input row instead of rejecting it.")
def chat_cmd(model, adapters, use, input_path, output, template, max_new_tokens, batch_size, temperature, top_p,
             seed, fmt, strict):
    """Answer prompts with a model and its adapters, using the template they were trained with.

    Without --input it reads one request per line from standard input (a terminal or a pipe) and
    prints each answer; `/adapter NAME` switches adapter, `/help` lists the commands.

    \b
    dataforge chat -m models/tiny -a out/lora
    dataforge chat -m models/tiny -a fr=out/lora-fr -a de=out/lora-de --use de
    echo "Reverse the order of these three words: red green blue" | dataforge chat -m models/tiny -a out/lora
    dataforge chat -m models/tiny -a a=out/lora-a -a b=out/lora-b --input prompts.jsonl -o answers.jsonl
    """
    if bool(input_path) != bool(output):
        raise click.UsageError("--input and -o/--output go together (batch mode); leave both out to chat")
    options = dict(template=template, use=use, max_new_tokens=max_new_tokens, batch_size=batch_size,
                   temperature=temperature, top_p=top_p, seed=seed)
    if input_path:
        from dataforge.chat import chat_file

        result = chat_file(model, input_path, output, adapters=list(adapters), fmt=fmt, strict=strict, **options)
        click.echo(result.line())
        return
    from dataforge.chat import HELP, Chat, interact

    chat = Chat(model, list(adapters), **options)
    note = _note
    note(f"model {chat.model_dir}; adapters: {', '.join(chat.names[1:]) or 'none'}; "
         f"{'greedy' if not temperature else f'sampling at temperature {temperature}'}")
    for name in chat.names:
        note(f"  {name}{' (in use)' if name == chat.current else ''}: template {chat.template_source[name]}")
    for line in chat.notes:
        note(f"note: {line}")
    tty = sys.stdin.isatty()
    if tty:
        note(HELP)
    answered = interact(chat, iter(sys.stdin.readline, ""), click.echo, note,
                        ask=(lambda: click.echo("> ", nl=False, err=True)) if tty else (lambda: None))
    if tty:
        click.echo("", err=True)
    if not answered and not tty:
        note("no request read from standard input")


def _note(text: str) -> None:
    click.echo(text, err=True)
