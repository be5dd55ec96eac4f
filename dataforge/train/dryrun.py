"""The `--dry-run` report: every check that can be made without loading weights, and the memory estimate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class DryRun:
    backend: str
    options: dict
    checks: list[tuple[str, str, str]]  # (check, status "ok"/"note", detail)
    memory: list[tuple[str, str, str]]  # (item, size, note)
    total_bytes: float
    trainable: int
    params: int
    steps: int
    counts: dict
    example: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"backend": self.backend, "options": self.options, "checks": self.checks, "memory": self.memory,
                "total_bytes": self.total_bytes, "trainable": self.trainable, "params": self.params,
                "steps": self.steps, "counts": self.counts, "example": self.example}


def total_steps(options, rows: int, tokens: int, world_size: int = 1) -> int:
    if options.max_steps > 0:
        return options.max_steps
    sequences = math.ceil(tokens / options.max_length) if options.packing else rows
    sequences *= getattr(options, "num_generations", 1)  # RL: every prompt is answered num_generations times
    per_step = options.batch_size * options.grad_accum * world_size
    return max(1, math.ceil(options.epochs * math.ceil(sequences / per_step)))


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def build_report(res, tokenizer, prepared, *, world_size: int = 1) -> DryRun:
    from dataforge.train.memory import estimate, inspect_model
    from dataforge.train.render import check_template

    opts = res.options
    info = inspect_model(res.model_dir)
    device = _device()
    stats = prepared.length_stats()
    est = estimate(info, opts, device=device, longest=stats["max"])
    counts = prepared.counts()
    checks = [
        ("options", "ok", f"{len(opts.model_fields_set)} set, the rest defaults; validated"),
        ("model", "ok", f"{info.arch}: {info.params:,} parameters, {info.layers} layers, hidden {info.hidden}"),
        ("data kind", "ok", f"{prepared.kind} data ({prepared.shape} shape) fits backend '{res.backend_name}'"),
        ("template", "ok", check_template(opts.template, tokenizer, opts.lang)),
        ("EOS", "ok" if opts.add_eos else "note", prepared.eos_note),
        ("padding", "ok" if tokenizer.pad_token != tokenizer.eos_token else "note",
         f"pad token {tokenizer.pad_token!r} (id {tokenizer.pad_token_id})" +
         (" is the EOS token; labels come from masks, so EOS is still trained"
          if tokenizer.pad_token == tokenizer.eos_token else ", distinct from EOS")),
        ("loss", "ok", ("completion only: prompt tokens carry label -100; multi-turn chats train "
                        + ("every assistant turn" if opts.train_on == "all_assistant" else "the last assistant turn"))
         if opts.completion_only_loss else "on every token (completion_only_loss=false)"),
        ("rows", "ok" if not prepared.rejected else "note",
         f"{counts['read']:,} read, {counts['train']:,} train, {counts['eval']:,} eval, "
         f"{counts['rejected']:,} rejected" + (f" -> {prepared.rejects_path}" if prepared.rejects_path else "")),
        ("max_length", "ok" if not prepared.too_long else "note",
         f"{prepared.too_long:,} rows over {opts.max_length} tokens (rejected, not truncated); "
         f"longest kept {stats['max']}, mean {stats['mean']:.0f}, p95 {stats['p95']}"),
    ]
    for reason, n in sorted(prepared.reasons.items(), key=lambda kv: -kv[1])[:5]:
        checks.append(("  rejected", "note", f"{n:,} x {reason}"))
    if hasattr(opts, "scale"):
        checks.append(("LoRA", "ok", f"r={opts.r}, alpha={opts.alpha:g}, effective scale alpha/r = {opts.scale:g}, "
                                     f"targets {opts.target_modules}" + (", DoRA" if opts.use_dora else "")))
    if opts.packing:
        checks.append(("packing", "ok", f"{prepared.tokens:,} tokens into sequences of {opts.max_length} "
                                        "(padding-free)"))
    steps = total_steps(opts, counts["train"], prepared.tokens, world_size)
    checks.append(("schedule", "ok", f"{steps:,} optimizer steps, batch {opts.batch_size} x accum {opts.grad_accum}"
                                     f" x {world_size} process(es), lr {opts.learning_rate:g} ({opts.lr_scheduler})"))
    checks.append(("device", "ok", device))
    return DryRun(backend=res.backend_name, options=opts.model_dump(mode="json"), checks=checks,
                  memory=est.table(), total_bytes=est.total, trainable=est.trainable, params=est.params,
                  steps=steps, counts=counts, example=prepared.example)
