"""Output styles: the row shapes trainers read.

- text:              {"text"}                         causal LM / self-supervised training
- prompt-completion: {"prompt", "completion"}         completion-only loss (TRL)
- messages:          {"messages"}                     OpenAI chat / TRL conversational
- preference:        {"prompt", "chosen", "rejected"} TRL DPO/reward; plain text, or
                     conversational (lists of messages) with conversational=True
Exports for other tools (`--to`): openai, sharegpt, alpaca, via dataforge.io.to_shape;
preference data `--to openai` is OpenAI's preference (DPO) fine-tuning row
(`openai_preference_row`).

Each builder returns the row and the (prompt, completion) texts to check with
a tokenizer, with the row field a truncation must shorten.
"""

from __future__ import annotations

from dataforge.errors import ConfigError
from dataforge.formatting.core import Formatter
from dataforge.io import check_target, to_shape
from dataforge.io.shapes import RowError
from dataforge.records import PreferenceRecord, prompt_text

STYLES = ("text", "prompt-completion", "messages", "preference")
EXPORTS = ("openai", "sharegpt", "alpaca")
TRUNCATABLE = ("text", "prompt-completion")


# kinds of data that no template style holds, and what to do instead
_NOT_FORMATTED = {
    "kto": ("KTO data (completions labelled good or bad) is not formatted as SFT text: the bad completions would"
            " be trained on as answers", "write it for a KTO trainer: `dataforge convert --to trl` (or trl-chat,"
            " llamafactory-sharegpt)"),
    "text": ("plain text needs no prompt template", "`dataforge convert --to trl` writes TRL's {\"text\"} rows;"
             " --to llamafactory-alpaca writes LLaMA-Factory pretraining rows"),
}


def check_style(style: str | None, to: str | None, kind: str, conversational: bool = False) -> str:
    """The style to use for data of `kind`, or a one-line error naming what to change."""
    if style and to:
        raise ConfigError("--style and --to both given", "--to writes another tool's shape; pick one of them")
    if to:
        if to not in EXPORTS:
            raise ConfigError(f"unknown --to '{to}'", f"use one of: {', '.join(EXPORTS)}")
        if kind == "preference" and to != "openai":
            raise ConfigError(f"--to {to} cannot hold preference (chosen/rejected) data",
                              "use --to openai (OpenAI's preference fine-tuning rows), --style preference"
                              " [--conversational] (TRL's DPO rows), or `dataforge convert --to trl|trl-chat`")
        if kind != "preference":
            check_target(to, kind)
        return "export"
    if kind in _NOT_FORMATTED:
        raise ConfigError(*_NOT_FORMATTED[kind])
    style = style or ("preference" if kind == "preference" else "text")
    if style not in STYLES:
        raise ConfigError(f"unknown --style '{style}'", f"use one of: {', '.join(STYLES)}")
    if style == "preference" and kind != "preference":
        raise ConfigError("--style preference needs preference data (chosen/rejected); this is instruction data",
                          "use --style text, prompt-completion or messages, or give prompt/chosen/rejected rows")
    if kind == "preference" and style != "preference":
        raise ConfigError(f"--style {style} cannot hold preference data (chosen/rejected)",
                          "use --style preference")
    if conversational and style != "preference":
        raise ConfigError("--conversational applies to --style preference only",
                          "--style messages is the conversational form of instruction data")
    return style


def build_row(fmt: Formatter, record, style: str, *, to: str | None = None, conversational: bool = False,
              need_text: bool = False) -> tuple[dict, list[tuple[str, str, str | None]]]:
    """(row, [(prompt, completion, field to shorten on truncation)]); raises RowError for a bad row."""
    if style == "export":
        if isinstance(record, PreferenceRecord):
            if to != "openai":
                raise RowError(f"preference rows cannot be written as {to}")
            return openai_preference_row(record), []
        row = to_shape(record, to)
        if to == "openai":  # OpenAI refuses unknown top-level keys: the id goes, tools stay
            row = {k: v for k, v in row.items() if k in ("messages", "tools", "parallel_tool_calls")}
        return row, []
    if style == "text":
        p, c = fmt.pair(record)
        return {"id": record.id, "text": p + c}, [(p, c, "text")]
    if style == "prompt-completion":
        p, c = fmt.pair(record)
        return {"id": record.id, "prompt": p, "completion": c}, [(p, c, "completion")]
    if style == "messages":
        row = {"id": record.id, "messages": fmt.messages(record)}
        return row, ([(*fmt.pair(record), None)] if need_text else [])
    if not isinstance(record, PreferenceRecord):
        raise RowError(f"{record.kind} rows have no chosen/rejected answers")
    if conversational:
        prompt = fmt.prompt_messages(record)
        row = {"id": record.id, "prompt": prompt,
               "chosen": [{"role": "assistant", "content": fmt.clean(record.chosen, "chosen")}],
               "rejected": [{"role": "assistant", "content": fmt.clean(record.rejected, "rejected")}]}
        if not need_text:
            return row, []
        p, ch, rj = fmt.preference(record)
        return row, [(p, ch, None), (p, rj, None)]
    p, ch, rj = fmt.preference(record)
    return {"id": record.id, "prompt": p, "chosen": ch, "rejected": rj}, [(p, ch, "chosen"), (p, rj, "rejected")]


def openai_preference_row(record) -> dict:
    """OpenAI's preference (DPO) fine-tuning row: the prompt as `input.messages` (system, earlier turns,
    the last user turn), the chosen and rejected answers as one-message outputs. No default system
    prompt: an export carries the record's own messages only."""
    system = record.system
    msgs = ([{"role": "system", "content": system}] if system else []) + list(getattr(record, "history", ()) or ())
    msgs.append({"role": "user", "content": prompt_text(record)})
    row = {"input": {"messages": msgs}}
    tools = getattr(record, "tools", None)
    if tools:
        row["input"]["tools"] = tools
    for key, which in (("preferred_output", "chosen"), ("non_preferred_output", "rejected")):
        turns = getattr(record, f"{which}_turns", None)
        row[key] = list(turns) if turns else [{"role": "assistant", "content": getattr(record, which)}]
    return row


def text_rows(fmt: Formatter, records: list, style: str) -> list:
    """Rows of the text / prompt-completion styles, or the RowError of each bad record."""
    from dataforge.formatting.fastpath import fast_text_rows  # imports core: loaded on first batch

    rows = fast_text_rows(fmt, records, style)
    if rows is not None:
        return rows
    pairs = fmt.pairs(records)
    if style == "text":
        return [{"id": r.id, "text": p[0] + p[1]} if type(p) is tuple else p for r, p in zip(records, pairs)]
    return [{"id": r.id, "prompt": p[0], "completion": p[1]} if type(p) is tuple else p
            for r, p in zip(records, pairs)]


def build_rows(fmt: Formatter | None, records: list, style: str, *, to: str | None = None,
               conversational: bool = False, need_text: bool = False) -> list:
    """build_row() for a batch: [(row, pairs) or RowError]; text styles render the batch at once."""
    if style in ("text", "prompt-completion"):
        out = []
        for record, pair in zip(records, fmt.pairs(records)):
            if isinstance(pair, RowError):
                out.append(pair)
                continue
            p, c = pair
            if style == "text":
                out.append(({"id": record.id, "text": p + c}, [(p, c, "text")]))
            else:
                out.append(({"id": record.id, "prompt": p, "completion": c}, [(p, c, "completion")]))
        return out
    out = []
    for record in records:
        try:
            out.append(build_row(fmt, record, style, to=to, conversational=conversational, need_text=need_text))
        except RowError as exc:
            out.append(exc)
    return out


def apply_truncation(row: dict, prompt: str, completion: str, field: str | None, text_end: int) -> None:
    """Shorten the row's text to what the kept tokens cover."""
    full = prompt + completion
    if field == "text":
        row["text"] = full[:text_end]
    elif field in ("completion", "chosen", "rejected"):
        row[field] = full[len(prompt):text_end]
