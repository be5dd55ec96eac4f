"""The model card (README.md) written into every training output folder.

It says what a reader needs to trust or reproduce the result: the base
model, the data and its lineage (files, shape, content hash, how many rows
were used, held out and rejected and why), every hyperparameter, the final
metrics, and how to load what was written.
"""

from __future__ import annotations

import json
from pathlib import Path


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def model_card(record: dict) -> str:
    """Markdown for `record`, the resolved-config dict written to dataforge_train.json."""
    base = record["base_model"]
    data = record["data"]
    counts = data["counts"]
    kind = record["result"]["kind"]
    lines = [
        "---",
        f"base_model: {base['path']}",
        "library_name: " + ("peft" if kind == "adapter" else "transformers"),
        "tags: [dataforge, " + record["backend"] + "]",
        "---",
        "",
        f"# {Path(record['output']).name}",
        "",
        f"Trained with `dataforge train --backend {record['backend']}` "
        f"({'a LoRA adapter' if kind == 'adapter' else 'full model weights'}).",
        "",
        "## Base model",
        "",
        f"- path: `{base['path']}`",
        f"- architecture: {base.get('arch', '?')}, {base.get('layers', '?')} layers, hidden {base.get('hidden', '?')}",
        "",
        "## Data",
        "",
        f"- files: {', '.join(f'`{p}`' for p in data['paths'])}",
        f"- shape: {data['shape']}, kind: {data['kind']}",
        f"- content hash (sha256): {', '.join(h[:16] for h in data.get('file_hashes', {}).values()) or '-'}",
        f"- prepared-data fingerprint: {data['fingerprint']}",
        f"- rows read: {counts['read']:,}; trained on: {counts['train']:,}; held out for evaluation: "
        f"{counts['eval']:,}; rejected: {counts['rejected']:,} ({counts['too_long']:,} over max_length)",
    ]
    for reason, n in sorted(counts.get("reasons", {}).items(), key=lambda kv: -kv[1]):
        lines.append(f"  - {n:,} × {reason}")
    if data.get("rejects_path"):
        lines.append(f"- rejected rows and reasons: `{data['rejects_path']}`")
    lines += ["", "## Hyperparameters", "", "| option | value |", "|---|---|"]
    for key, value in record["options"].items():
        lines.append(f"| {key} | {_fmt(value)} |")
    lines += ["", "## Results", "", "| metric | value |", "|---|---|"]
    for key, value in record["result"]["metrics"].items():
        lines.append(f"| {key} | {_fmt(value)} |")
    lines += [f"| global_step | {record['result']['global_step']} |", "", "## Use", "", "```python"]
    if kind == "adapter":
        lines += ["from peft import AutoPeftModelForCausalLM",
                  f"model = AutoPeftModelForCausalLM.from_pretrained({record['output']!r})",
                  f"# or merge it: dataforge merge --base {base['path']} --adapter {record['output']} -o merged"]
    elif record["backend"] == "reward":
        lines += ["from transformers import AutoModelForSequenceClassification",
                  f"model = AutoModelForSequenceClassification.from_pretrained({record['output']!r})"]
    else:
        lines += ["from transformers import AutoModelForCausalLM",
                  f"model = AutoModelForCausalLM.from_pretrained({record['output']!r})"]
    lines += ["```", "", "## Environment", ""]
    for name, version in record.get("versions", {}).items():
        lines.append(f"- {name} {version}")
    lines.append("")
    return "\n".join(lines)
