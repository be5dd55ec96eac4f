"""Evaluating what was trained: loss, generation metrics, language faithfulness, an LLM judge.

    >>> from dataforge.eval import evaluate, JudgeConfig
    >>> res = evaluate("models/tiny", "sample_data/eval.jsonl", adapters=["out/lora-a", "out/lora-b"],
    ...                baseline=True, output="out/eval")                         # doctest: +SKIP
    >>> res.scores("lora-a")["exact_match"]                                      # doctest: +SKIP

- `evaluate(model, data, adapters=(), metrics="loss,rouge,exact,chrf,lang", baseline=False, base=None,
  output=None, max_new_tokens=128, batch_size=8, template=None, judge=JudgeConfig(...) | None)`
  -> EvalResult (`.data` is eval.json's dict, `.predictions` the per-row answers, `.scores(name)`).
- `judge_pairs(questions, candidates, baselines, JudgeConfig(model, base_url))`: position-swapped
  pairwise win rate through any OpenAI-compatible server.
- `dataforge.eval.metrics`: exact_match, rouge_l, chrf, language_faithful (no torch).

Importing this package does not import torch.
"""

from __future__ import annotations

from dataforge.eval.judge import JudgeConfig, judge_pairs

__all__ = ["evaluate", "EvalResult", "JudgeConfig", "judge_pairs", "parse_metrics", "METRICS", "DEFAULT_METRICS"]


def __getattr__(name):
    if name in ("evaluate", "EvalResult", "parse_metrics", "METRICS", "DEFAULT_METRICS"):
        from dataforge.eval import run

        return getattr(run, name)
    raise AttributeError(name)
