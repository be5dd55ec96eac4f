"""The model card (README.md) written into every training output folder.

It says what a reader needs to trust or reproduce the result: the base
model, the data and its lineage (files, shape, content hash, how many rows
were used, held out and rejected and why), every hyperparameter, the final
metrics, and how to load what was written. The pieces both cards share (front
matter, the rejects list, the option and metric tables) are here too; the
hosted-training plugin's card (dataforge_openai_finetune/card.py) uses them.
"""

from __future__ import annotations

import json
from pathlib import Path


def fmt(value) -> str:
    """A table cell: floats to 6 significant digits, lists and dicts as JSON, None as "-"."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return "-" if value is None else str(value)


def front_matter(base_model: str, tags: list[str], library: str | None = None) -> list[str]:
    """The YAML header model hubs read."""
    return ["---", f"base_model: {base_model}", *([f"library_name: {library}"] if library else []),
            f"tags: [{', '.join(tags)}]", "---", ""]


def rejected_lines(counts: dict, data: dict) -> list[str]:
    """One line per reject reason, most frequent first, then where the rejected rows are."""
    lines = [f"  - {n:,} × {reason}" for reason, n in sorted(counts.get("reasons", {}).items(), key=lambda kv: -kv[1])]
    if data.get("rejects_path"):
        lines.append(f"- rejected rows and reasons: `{data['rejects_path']}`")
    return lines


def table(title: str, column: str, values: dict) -> list[str]:
    """A `## title` section with a two-column table of `values`."""
    return ["", f"## {title}", "", f"| {column} | value |", "|---|---|",
            *(f"| {key} | {fmt(value)} |" for key, value in values.items())]


def model_card(record: dict) -> str:
    """Markdown for `record`, the resolved-config dict written to dataforge_train.json."""
    base = record["base_model"]
    data = record["data"]
    counts = data["counts"]
    kind = record["result"]["kind"]
    lines = [
        *front_matter(base["path"], ["dataforge", record["backend"]], "peft" if kind == "adapter" else "transformers"),
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
    lines += rejected_lines(counts, data)
    lines += table("Hyperparameters", "option", record["options"])
    lines += table("Results", "metric", record["result"]["metrics"])
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
