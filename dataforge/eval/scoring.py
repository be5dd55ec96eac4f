"""Loss, perplexity and greedy generation on the eval set, rendered exactly as training rendered it.

Each row goes through the same code as `dataforge train`: `render_sft` with
the template the run was trained with, then the training tokenizer wrapper,
so the prompt tokens are masked (label -100) exactly as in training and the
loss here is comparable with the training and eval losses in metrics.jsonl.
The loss is the mean negative log-likelihood per answer token over the whole
set (token-weighted), and perplexity is exp(loss).

Generation is greedy and batched with left padding; rows are sorted by
prompt length so a batch wastes little on padding. An answer ends at the
first stop token (EOS, generation_config's eos ids, or the template's
end-of-turn token) or at the template's end marker in the text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dataforge.records import InstructionRecord

IGNORE = -100
_PROBE_ANSWER = "XQZANSWERZQX"


@dataclass
class Rendered:
    prompt_ids: list[int]  # what the model is given at generation time
    input_ids: list[int]  # prompt + answer (+ EOS), tokenized as in training
    labels: list[int]  # -100 on the prompt when training masked it


def options_from_record(record: dict | None, template: str | None = None):
    """TrainOptions as the run was trained (template, lang, masking, EOS); defaults otherwise."""
    from dataforge.train.options import TrainOptions

    values = {}
    if record and isinstance(record.get("options"), dict):
        values = {k: v for k, v in record["options"].items() if k in TrainOptions.model_fields}
        values.pop("eval_steps", None)  # validation ties it to eval_split; eval does not need either
        values.pop("eval_split", None)
    if template:
        values["template"] = template
    return TrainOptions(**values)


def default_template(tokenizer) -> str:
    """What `dataforge train` would use by default: the tokenizer's chat template if it has one."""
    return "chat_template" if getattr(tokenizer, "chat_template", None) else "chatml"


class Renderer:
    """Renders and tokenizes eval records for one set of training options."""

    def __init__(self, tokenizer, options, model_dir=None):
        from dataforge.train.data import _Tokenize, stop_token_ids
        from dataforge.train.render import check_template

        check_template(options.template, tokenizer)
        self.tok, self.options = tokenizer, options
        self.marker = self._end_marker()
        train_stops = stop_token_ids(tokenizer, model_dir)
        self._tk = _Tokenize(tokenizer, options, set(train_stops))  # exactly training's EOS rule
        marker_ids = tokenizer(self.marker, add_special_tokens=False)["input_ids"] if self.marker else []
        if len(marker_ids) == 1:  # a single end-of-turn token (e.g. <|im_end|>) stops generation early
            train_stops.add(marker_ids[0])
        self.stop_ids = {s for s in train_stops if s is not None}

    def _end_marker(self) -> str:
        """The text the template writes after an answer (e.g. '<|im_end|>'), found by rendering a probe."""
        from dataforge.train.render import render_sft

        _, completion = render_sft(InstructionRecord(instruction="q", output=_PROBE_ANSWER), self.options.template,
                                   self.tok, self.options.lang)
        return completion.split(_PROBE_ANSWER, 1)[1].strip() if _PROBE_ANSWER in completion else ""

    def render(self, record) -> Rendered:
        """Raises dataforge.train.render.RenderError when the template refuses the row."""
        from dataforge.train.render import render_sft

        prompt, completion = render_sft(record, self.options.template, self.tok, self.options.lang)
        ids, n = self._tk.ids(prompt, completion)
        special = not (self._tk.bos and prompt.startswith(self._tk.bos))
        prompt_ids = self.tok(prompt, add_special_tokens=special)["input_ids"]
        labels = [IGNORE] * n + ids[n:] if self.options.completion_only_loss else list(ids)
        return Rendered(prompt_ids, ids, labels)

    def clean(self, new_ids: list[int]) -> str:
        """Generated ids -> answer text: cut at the first stop token and at the end marker."""
        cut = next((i for i, t in enumerate(new_ids) if t in self.stop_ids), len(new_ids))
        text = self.tok.decode(new_ids[:cut], skip_special_tokens=False)
        if self.marker and self.marker in text:
            text = text.split(self.marker, 1)[0]
        for special in self.tok.all_special_tokens:
            text = text.replace(special, "")
        return text.strip()


def _batches(order: list[int], size: int):
    for i in range(0, len(order), size):
        yield order[i:i + size]


def row_losses(model, rows: list[Rendered], *, batch_size: int, pad_id: int, device, bar=None) -> list[tuple[float, int]]:
    """(summed NLL, scored tokens) per row, in input order."""
    import torch
    import torch.nn.functional as F

    out: list[tuple[float, int]] = [(0.0, 0)] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i].input_ids))
    with torch.inference_mode():
        for idx in _batches(order, batch_size):
            width = max(len(rows[i].input_ids) for i in idx)
            ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
            labels = torch.full((len(idx), width), IGNORE, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for b, i in enumerate(idx):
                n = len(rows[i].input_ids)
                ids[b, :n] = torch.tensor(rows[i].input_ids)
                labels[b, :n] = torch.tensor(rows[i].labels)
                mask[b, :n] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            target = labels[:, 1:].to(device)
            nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), target, ignore_index=IGNORE, reduction="none")
            counts = (target != IGNORE).sum(dim=1)
            for b, i in enumerate(idx):
                out[i] = (float(nll[b].sum()), int(counts[b]))
            if bar is not None:
                bar.advance(len(idx))
    return out


def loss_summary(pairs: list[tuple[float, int]]) -> dict:
    """Token-weighted mean loss and perplexity = exp(loss)."""
    total = sum(p[0] for p in pairs)
    tokens = sum(p[1] for p in pairs)
    if not tokens:
        return {"loss": None, "perplexity": None, "loss_tokens": 0}
    loss = total / tokens
    return {"loss": loss, "perplexity": math.exp(min(loss, 700.0)), "loss_tokens": tokens}


def generate(model, renderer: Renderer, rows: list[Rendered], *, max_new_tokens: int, batch_size: int, device,
             max_positions: int | None = None, bar=None) -> list[str]:
    """Greedy answers, in input order."""
    import torch
    from transformers import GenerationConfig

    tok = renderer.tok
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    answers = [""] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i].prompt_ids))
    with torch.inference_mode():
        for idx in _batches(order, batch_size):
            width = max(len(rows[i].prompt_ids) for i in idx)
            room = max_new_tokens if not max_positions else max(1, min(max_new_tokens, max_positions - width))
            ids = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for b, i in enumerate(idx):  # left padding: every prompt ends where generation starts
                p = rows[i].prompt_ids
                ids[b, width - len(p):] = torch.tensor(p)
                mask[b, width - len(p):] = 1
            config = GenerationConfig(max_new_tokens=room, do_sample=False, num_beams=1, pad_token_id=pad,
                                      eos_token_id=sorted(renderer.stop_ids) or None)
            out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), generation_config=config)
            for b, i in enumerate(idx):
                answers[i] = renderer.clean(out[b, width:].tolist())
            if bar is not None:
                bar.advance(len(idx))
    return answers
