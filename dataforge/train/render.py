"""Records to prompt/completion text: the one place training turns a record into text.

Two modes:
- `template="chat_template"` (or "chat"): the model tokenizer's own chat
  template (`apply_chat_template`); the prompt ends with the generation
  prompt and the completion is what the template adds for the assistant turn.
- any other name: a dataforge template pack (alpaca, dolly, chatml, llama3,
  ...), rendered by `dataforge.formatting` exactly as `dataforge format` does.

Multi-turn chats train on every assistant turn by default (`render_sft_segments`,
as TRL's `assistant_only_loss` does); with `train_on=last_assistant` only the
final one, earlier turns then being prompt. `render_sft` gives the final turn.
"""

from __future__ import annotations

import dataclasses

from dataforge.errors import ConfigError, DataforgeError
from dataforge.records import ConversationRecord, PreferenceRecord, prompt_messages, prompt_text

CHAT_TEMPLATE = "chat_template"
_CHAT_NAMES = (CHAT_TEMPLATE, "chat")


class RenderError(DataforgeError):
    """One row cannot be rendered (it goes to the rejects file with this reason)."""


def check_template(template: str, tokenizer, lang: str = "en") -> str:
    """A line describing the template in use; ConfigError when it cannot be used with this model."""
    if template in _CHAT_NAMES:
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError("the model's tokenizer has no chat template",
                              "use a dataforge template instead, e.g. --set template=chatml")
        return "the model tokenizer's chat template"
    from dataforge.formatting import get_formatter

    get_formatter(template, lang, tokenizer)  # raises ConfigError for an unknown pack or language
    return f"dataforge template '{template}'"


def _messages(record, system: str = "") -> tuple[list[dict], str | None]:
    """Prompt messages and the final answer (None for preference records)."""
    if isinstance(record, ConversationRecord):
        if record.tools or any(len(m) != 2 for m in record.messages):
            raise RenderError("the chat has tool calls or tools, which training does not render yet;"
                              " `dataforge convert --to trl-chat` writes it for TRL")
        msgs = [dict(m) for m in record.messages]
        last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=None)
        if last is None or last == 0:
            raise RenderError("the chat has no assistant turn after a prompt")
        return msgs[:last], msgs[last]["content"]
    if isinstance(record, PreferenceRecord):  # the whole prompt: system, earlier turns, last user turn
        if record.tools or record.chosen_turns or record.rejected_turns or any(len(m) != 2 for m in record.history):
            raise RenderError("the pair has tools or answers of several turns, which training does not render yet;"
                              " `dataforge convert --to trl-chat` writes it for TRL")
        return prompt_messages(record), None
    msgs = [{"role": "system", "content": system}] if system else []
    msgs.append({"role": "user", "content": prompt_text(record)})
    return msgs, record.output


def _chat(tokenizer, prompt_msgs: list[dict], answer: str) -> tuple[str, str]:
    try:
        prompt = tokenizer.apply_chat_template(prompt_msgs, tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(prompt_msgs + [{"role": "assistant", "content": answer}],
                                             tokenize=False)
    except Exception as exc:  # jinja errors from the model's own template (e.g. "roles must alternate")
        raise RenderError(f"the chat template refused this row: {exc}") from None
    if not full.startswith(prompt):
        # Some templates render the generation prompt differently; fall back to the shared prefix.
        n = 0
        while n < min(len(prompt), len(full)) and prompt[n] == full[n]:
            n += 1
        prompt = full[:n]
    return prompt, full[len(prompt):]


def render_sft(record, template: str, tokenizer, lang: str = "en") -> tuple[str, str]:
    """(prompt, completion) text for an instruction or conversation record."""
    if template in _CHAT_NAMES:
        msgs, answer = _messages(record, getattr(record, "system", ""))
        return _chat(tokenizer, msgs, answer)
    from dataforge.formatting import format_record

    try:
        out = format_record(record, template=template, lang=lang, tokenizer=tokenizer)
    except DataforgeError as exc:
        raise RenderError(getattr(exc, "reason", exc.message)) from None
    return out["prompt"], out["completion"]


def render_preference(record: PreferenceRecord, template: str, tokenizer, lang: str = "en") -> tuple[str, str, str]:
    """(prompt, chosen, rejected) text for a preference record."""
    if template in _CHAT_NAMES:
        msgs, _ = _messages(record, record.system)
        prompt, chosen = _chat(tokenizer, msgs, record.chosen)
        prompt_r, rejected = _chat(tokenizer, msgs, record.rejected)
        if prompt_r != prompt:
            raise RenderError("the chat template renders the prompt differently for chosen and rejected")
        return prompt, chosen, rejected
    from dataforge.formatting import format_preference

    try:
        out = format_preference(record, template=template, lang=lang, tokenizer=tokenizer)
    except DataforgeError as exc:
        raise RenderError(getattr(exc, "reason", exc.message)) from None
    return out["prompt"], out["chosen"], out["rejected"]


def render_sft_segments(record, template: str, tokenizer, lang: str = "en",
                        train_on: str = "all_assistant") -> list[tuple[str, bool]]:
    """The row's text in pieces, in order, each with whether it is trained (an assistant turn) or masked.

    Each assistant turn is rendered as the completion of the conversation cut after it, so every piece is
    exactly what `render_sft` gives for that turn. The cuts must extend each other: a template that renders
    earlier turns differently once later ones follow (e.g. one that drops past reasoning) cannot be split
    that way, and the row is refused with a hint rather than trained on something else.
    """
    if not isinstance(record, ConversationRecord) or train_on == "last_assistant":
        prompt, completion = render_sft(record, template, tokenizer, lang)
        return [(prompt, False), (completion, True)]
    turns = [i for i, m in enumerate(record.messages) if m.get("role") == "assistant" and i > 0]
    if len(turns) <= 1:
        prompt, completion = render_sft(record, template, tokenizer, lang)
        return [(prompt, False), (completion, True)]
    segments: list[tuple[str, bool]] = []
    done = ""
    for i in turns:
        prompt, completion = render_sft(dataclasses.replace(record, messages=record.messages[:i + 1]), template,
                                        tokenizer, lang)
        if not prompt.startswith(done):
            raise RenderError("the template renders earlier turns differently once later turns follow, so each "
                              "assistant turn cannot be trained as rendered; set train_on=last_assistant")
        if len(prompt) > len(done):
            segments.append((prompt[len(done):], False))
        segments.append((completion, True))
        done = prompt + completion
    return segments
