"""README.md of a hosted fine-tuning run: the model id, how it was made, and how to call it."""

from __future__ import annotations

from pathlib import Path

from dataforge.train.card import fmt as _fmt
from dataforge.train.card import front_matter, rejected_lines, table


def hosted_card(result: dict) -> str:
    """Markdown for `result`, the dict written to result.json."""
    data, counts = result["data"], result["data"]["counts"]
    model = result.get("fine_tuned_model")
    lines = [
        *front_matter(result["base_model"], ["dataforge", "openai", result["method"]]),
        f"# {model or Path(result['output']).name}",
        "",
        f"Fine-tuned on OpenAI ({result['base_url']}) with `dataforge train --backend openai`, "
        f"method **{result['method']}**. Status: **{result['status']}**.",
        "",
        "## Job",
        "",
        f"- fine-tuned model: `{model or '-'}`",
        f"- base model: `{result['base_model']}`",
        f"- job id: `{result['job_id']}`",
        f"- training file: `{result['training_file']}`" + (f", validation file: `{result['validation_file']}`"
                                                           if result.get("validation_file") else ""),
        f"- trained tokens (billed): {_fmt(result.get('trained_tokens'))}",
    ]
    if result.get("estimated_cost") is not None:
        lines.append(f"- estimated cost before the run: ${result['estimated_cost']:,.2f}")
    lines += [
        "",
        "## Data",
        "",
        f"- files: {', '.join(f'`{p}`' for p in data['paths'])}",
        f"- shape: {data['shape']}, kind: {data['kind']}",
        "- uploaded: " + ", ".join(f"`{f['name']}` ({f['rows']:,} examples, sha256 {f['sha256'][:16]})"
                                   for f in data["files"].values()),
        f"- rows read: {counts['read']:,}; trained on: {counts['train']:,}; validation: {counts['eval']:,}; "
        f"rejected: {counts['rejected']:,}",
    ]
    lines += rejected_lines(counts, data)
    lines += table("Hyperparameters (as the job reports them)", "option", result.get("hyperparameters") or {})
    lines += table("Results", "metric", result.get("metrics", {}))
    if model:
        lines += ["", "## Use", "", "```python", "from openai import OpenAI", "",
                  "client = OpenAI()  # the key from OPENAI_API_KEY",
                  f"reply = client.chat.completions.create(model={model!r},",
                  "                                       messages=[{\"role\": \"user\", \"content\": \"...\"}])",
                  "```"]
    lines.append("")
    return "\n".join(lines)
