"""The training part of `make demo`: a LoRA adapter on the tiny local model from the sample data.

    >>> from dataforge.train.demo import demo_train
    >>> print(demo_train("demo_out"))        # doctest: +SKIP
    lora on sample_data/dolly_en.jsonl: loss 6.93 before -> 6.67 after 120 steps ...
"""

from __future__ import annotations

import shutil
from pathlib import Path


def demo_train(out_dir: str | Path = "demo_out", data: str | Path = "sample_data/dolly_en.jsonl",
               steps: int = 120) -> str:
    """Build the tiny model (once), train a LoRA adapter for `steps` steps, return a summary line."""
    from dataforge.tiny import build_tiny_model, sample_texts
    from dataforge.train.run import train

    out_dir = Path(out_dir)
    model = out_dir / "tiny-model"
    if not (model / "config.json").is_file():
        build_tiny_model(model, sample_texts(Path(data).parent))
    adapter = out_dir / "lora-adapter"
    shutil.rmtree(adapter, ignore_errors=True)  # a fresh run each time (use --resume to continue one)
    run = train("lora", model, data, adapter, sets=[f"max_steps={steps}", "r=16", "alpha=32", "learning_rate=1e-2",
                                                    "batch_size=8", "max_length=256", "save_steps=1000"])
    m = run.metrics
    return (f"lora on {data}: loss {m['first_logged_loss']:.2f} before -> {m['last_logged_loss']:.2f} after "
            f"{run.global_step} steps ({run.counts['train']} rows, {run.counts['rejected']} rejected); "
            f"adapter in {adapter}")
