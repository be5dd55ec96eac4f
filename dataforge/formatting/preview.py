"""Show what the model is trained on: trained tokens in green, masked ones dimmed.

With a tokenizer the preview is per token (special tokens boxed, so a
missing EOS or a doubled BOS is visible); without one it is per character
(prompt dimmed, completion green). `--preview-html FILE` writes the same view
as a standalone HTML page.
"""

from __future__ import annotations

import html
import os

from dataforge.io import atomic_write_text

TRAINED, MASKED = "trained", "masked"


def segments(example, tokenizer=None) -> list[tuple[str, bool, bool]]:
    """[(text, trained, special)] for one example (see module docstring)."""
    tokens = example.tokens
    if tokens is None or tokenizer is None:
        parts = [(example.prompt, False, False), (example.completion, True, False)]
        return [p for p in parts if p[0]]
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    special |= {i for i, t in (getattr(tokenizer, "added_tokens_decoder", {}) or {}).items()
                if getattr(t, "special", False)}
    # Slice the real text by token end offsets, so spaces and newlines show as they are.
    text = example.prompt + example.completion
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ends = [e for _s, e in enc["offset_mapping"]]
    ids = tokens.input_ids
    lead = 1 if ids and ids[0] == tokenizer.bos_token_id and enc["input_ids"][:1] != ids[:1] else 0
    out, prev = [], 0
    for i, (tid, trained) in enumerate(zip(ids, tokens.completion_mask)):
        if i < lead or i - lead >= len(ends):
            piece = tokenizer.convert_ids_to_tokens(tid)
        else:
            piece, prev = text[prev:ends[i - lead]], max(prev, ends[i - lead])
        out.append((piece, bool(trained), tid in special))
    return out


def render_terminal(examples, tokenizer=None, console=None) -> None:
    """Print the examples with rich: green = trained on, dim = masked, [reverse] = special token."""
    from rich.console import Console
    from rich.text import Text

    console = console or Console()
    for n, ex in enumerate(examples, 1):
        head = f"example {n}  id={ex.id}"
        if ex.tokens is not None:
            head += (f"  tokens={len(ex.tokens.input_ids)}  trained={ex.tokens.trained}"
                     + ("  (truncated)" if ex.tokens.truncated else ""))
        console.print(head, style="bold", highlight=False)
        text = Text()
        for piece, trained, special in segments(ex, tokenizer):
            style = ("bold green" if trained else "dim") + (" reverse" if special else "")
            text.append(piece, style=style)
        console.print(text)
        console.print()
    console.print(Text("legend: ", style="bold") + Text("trained on", style="bold green") + Text("  ")
                  + Text("masked (prompt)", style="dim") + Text("  ") + Text("special token", style="reverse"))


_CSS = """body{font-family:ui-monospace,Menlo,Consolas,monospace;margin:2em;max-width:70em}
pre{white-space:pre-wrap;border:1px solid #ccc;padding:1em;border-radius:6px}
.trained{background:#d9f7d9;color:#064}.masked{color:#888}
.special{outline:1px solid #a0a;border-radius:3px;font-weight:bold}
h2{font-size:1em}"""


def to_html(examples, tokenizer=None) -> str:
    body = []
    for n, ex in enumerate(examples, 1):
        info = ""
        if ex.tokens is not None:
            info = f" &middot; {len(ex.tokens.input_ids)} tokens, {ex.tokens.trained} trained"
        body.append(f"<h2>example {n} &middot; id {html.escape(str(ex.id))}{info}</h2><pre>")
        for piece, trained, special in segments(ex, tokenizer):
            cls = (TRAINED if trained else MASKED) + (" special" if special else "")
            body.append(f'<span class="{cls}">{html.escape(piece)}</span>')
        body.append("</pre>")
    legend = ('<p><span class="trained">trained on</span> &nbsp; <span class="masked">masked (prompt)</span>'
              ' &nbsp; <span class="special">special token</span></p>')
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>dataforge format preview</title>"
            f"<style>{_CSS}</style></head><body><h1>dataforge format preview</h1>{legend}{''.join(body)}"
            f"</body></html>\n")


def write_html(examples, path: str | os.PathLike, tokenizer=None) -> None:
    atomic_write_text(path, to_html(examples, tokenizer))
