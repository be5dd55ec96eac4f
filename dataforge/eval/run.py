"""`evaluate`: score a model, its adapters and (with baseline) its base on a held-out set.

    >>> from dataforge.eval import evaluate
    >>> res = evaluate("models/tiny", "sample_data/eval.jsonl", adapters=["out/lora"], baseline=True,
    ...                output="out/eval")                                       # doctest: +SKIP
    >>> res.scores("lora")["rouge_l"], res.scores("base")["rouge_l"]            # doctest: +SKIP

Everything is checked before weights load (paths, metric names, adapters
against the base, the eval set's shape). Then each model folder is loaded
once: its variants (the base with adapters disabled, then each adapter) are
scored in turn. Outputs: `eval.json` (every number), `predictions.jsonl`
(per-row answers and scores), `eval.html`, and `eval.rejects.jsonl` for rows
that could not be scored (rows read = rows scored + rows rejected).
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.errors import ConfigError
from dataforge.eval import metrics as M
from dataforge.eval.models import (
    Adapter,
    AdapterSet,
    check_model_dir,
    device_and_dtype,
    inspect_adapter,
    load_causal_lm,
    model_shapes,
    read_json,
    train_record,
    unique_names,
)
from dataforge.io.safety import check_outputs

SCHEMA = 1
METRICS = ("loss", "rouge", "exact", "chrf", "lang", "judge")
DEFAULT_METRICS = ("loss", "rouge", "exact", "chrf", "lang")
GENERATIVE = {"rouge", "exact", "chrf", "lang", "judge"}


@dataclass
class Variant:
    name: str
    kind: str  # "base" | "adapter" | "model"
    path: Path
    model_dir: Path  # the weights loaded for it
    adapter: str | None = None  # peft adapter name; None: adapters disabled (the base itself)
    record: dict | None = None
    options: object = None
    renderer: object = None


@dataclass
class EvalResult:
    data: dict
    output: Path | None = None
    predictions: list[dict] = field(default_factory=list)

    def scores(self, name: str) -> dict:
        for v in self.data["variants"]:
            if v["name"] == name:
                return v["scores"]
        raise KeyError(f"no variant '{name}' (have: {', '.join(v['name'] for v in self.data['variants'])})")

    @property
    def names(self) -> list[str]:
        return [v["name"] for v in self.data["variants"]]


def parse_metrics(spec) -> list[str]:
    if spec is None:
        return list(DEFAULT_METRICS)
    names = [m.strip().lower() for m in (spec.split(",") if isinstance(spec, str) else spec) if m.strip()]
    aliases = {"rouge_l": "rouge", "rougel": "rouge", "exact_match": "exact", "em": "exact", "ppl": "loss",
               "perplexity": "loss", "language": "lang"}
    out = []
    for name in names:
        name = aliases.get(name, name)
        if name not in METRICS:
            from dataforge.train.options import suggest

            raise ConfigError(f"--metrics: unknown metric '{name}'", suggest(name, METRICS))
        if name not in out:
            out.append(name)
    if not out:
        raise ConfigError("--metrics is empty", f"choose from: {', '.join(METRICS)}")
    return out


def _variants(model_dir: Path, adapters, base, want_base: bool) -> tuple[list[Variant], list[str]]:
    """The variants to score (base first), checked against each other; no torch needed."""
    base_cfg = read_json(model_dir / "config.json")
    notes: list[str] = []
    if adapters:
        if base is not None:
            raise ConfigError("--base is for a fully fine-tuned --model; with --adapter the base is --model itself",
                              "drop --base")
        shapes = model_shapes(model_dir)
        found: list[Adapter] = [inspect_adapter(p, model_dir, base_cfg, shapes, n)
                                for p, n in zip(adapters, unique_names(adapters))]
        out = [Variant("base", "base", model_dir, model_dir)] if want_base else []
        for a in found:
            notes.extend(a.notes)
            out.append(Variant(a.name, "adapter", a.path, model_dir, adapter=a.name, record=a.record))
        return out, notes
    record = train_record(model_dir)
    name = unique_names([model_dir])[0]
    mine = Variant(name, "model", model_dir, model_dir, record=record)
    if not want_base:
        return [mine], notes
    base_dir = base or (record or {}).get("base_model", {}).get("path")
    if not base_dir:
        raise ConfigError(f"--baseline: {model_dir} does not record the base it was trained from",
                          "pass --base BASE_MODEL_DIR, or evaluate an adapter with --adapter on its base")
    base_dir = check_model_dir(base_dir, "--base")
    if base_dir.resolve() == model_dir.resolve():
        raise ConfigError("--baseline: the base model is --model itself", "pass the fine-tuned model as --model")
    return [Variant("base", "base", base_dir, base_dir), mine], notes


def evaluate(model, data, *, adapters=(), metrics=None, baseline: bool = False, base=None, output=None,
             max_new_tokens: int = 128, batch_size: int = 8, template: str | None = None, judge=None,
             mapping=None, fmt=None, strict: bool = False, limit: int | None = None, device: str | None = None,
             examples: int = 25) -> EvalResult:
    """Score `model` (with each of `adapters`, and the base with `baseline`) on `data`; see the module doc."""
    from dataforge.eval import report
    from dataforge.eval.data import load_eval_set
    from dataforge.io import RejectSink, rejects_path_for
    from dataforge.io.atomic import atomic_write_text

    started = time.perf_counter()
    which = parse_metrics(metrics)
    if "judge" in which and judge is None:
        raise ConfigError("--metrics judge needs a judge model", "pass --judge-model NAME (and --judge-base-url)")
    if max_new_tokens < 1 or batch_size < 1:
        raise ConfigError("--max-new-tokens and --batch-size must be at least 1")
    model_dir = check_model_dir(model)
    adapters = list(adapters or ())
    variants, notes = _variants(model_dir, adapters, base, baseline or "judge" in which)
    out = Path(output) if output else None
    check_outputs([out], [str(model), adapters, data, base], kind="dir", labels=["-o"])  # io/safety.py
    sink = RejectSink(rejects_path_for(out / "eval") if out else None, strict=strict)
    with sink:
        items, counts = load_eval_set(data, mapping=mapping, fmt=fmt, rejects=sink, limit=limit)
        rendered, keep = _render(variants, items, template, sink)
    items = [items[i] for i in keep]
    counts.update(ok=len(items), rejected=sink.count)
    if not items:
        raise ConfigError("no eval row could be rendered for every model", "see the rejects file for reasons")
    timings = {"prepare": round(time.perf_counter() - started, 3)}
    device, dtype = device_and_dtype(device)
    answers, losses = _score_all(variants, rendered, which, max_new_tokens, batch_size, device, dtype, timings)
    data_out, per_rows = _summarise(variants, items, which, answers, losses)
    if "judge" in which:
        t = time.perf_counter()
        journal = (out / "judge.journal.sqlite") if out else None
        base_answers = answers["base"]
        for v in data_out["variants"]:
            if v["name"] != "base":
                result = _judge(items, answers[v["name"]], base_answers, judge, journal)
                v["pairs"] = result.pop("pairs")
                v["judge"] = result
                v["scores"]["judge_win_rate"] = result["win_rate"]
        timings["judge"] = round(time.perf_counter() - t, 3)
    timings["total"] = round(time.perf_counter() - started, 3)
    from dataforge import __version__

    data_out.update({
        "schema": SCHEMA, "tool": f"dataforge {__version__}",
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "model": str(model_dir), "adapters": [str(a) for a in adapters], "data": [str(d) for d in
                                                                            (data if isinstance(data, (list, tuple)) else [data])],
        "metrics": which, "settings": {"max_new_tokens": max_new_tokens, "batch_size": batch_size, "greedy": True,
                                       "device": str(device), "template": template,
                                       "judge_model": judge.model if judge else None},
        "rows": {"read": counts["read"], "scored": len(items), "rejected": sink.count, "shape": counts["shape"],
                 "rejects": str(sink.path) if sink.count and sink.path else None},
        "notes": notes, "timings": timings,
    })
    predictions = _predictions(items, data_out, answers, losses, per_rows)
    result = EvalResult(data_out, out, predictions)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        from dataforge.io import write_rows

        write_rows(predictions, out / "predictions.jsonl")
        data_out["files"] = {"json": str(out / "eval.json"), "html": str(out / "eval.html"),
                             "predictions": str(out / "predictions.jsonl")}
        atomic_write_text(out / "eval.html", report.page(data_out, predictions[:examples]))
        atomic_write_text(out / "eval.json", json.dumps(_public(data_out), indent=2, ensure_ascii=False))
    return result


def _public(data: dict) -> dict:
    """eval.json without the per-pair judge details (those are in predictions.jsonl)."""
    return {**data, "variants": [{k: v for k, v in var.items() if k != "pairs"} for var in data["variants"]]}


def _render(variants: list[Variant], items, template, sink):
    """Rendered rows per variant; a row any variant cannot render is rejected for all (fair comparison)."""
    from dataforge.eval.scoring import Renderer, default_template, options_from_record
    from dataforge.io import Reject
    from dataforge.train.render import RenderError
    from dataforge.train.run import load_tokenizer

    reference = next((v.record for v in variants if v.record), None)
    tokenizers, renderers = {}, {}
    for v in variants:
        if v.model_dir not in tokenizers:
            tokenizers[v.model_dir] = load_tokenizer(v.model_dir)
        tok = tokenizers[v.model_dir]
        record = v.record or reference
        v.options = options_from_record(record, template or (None if record else default_template(tok)))
        key = (v.model_dir, v.options.model_dump_json())
        if key not in renderers:
            renderers[key] = Renderer(tok, v.options, v.model_dir)
        v.renderer = renderers[key]
    limits = {d: _max_positions(d) for d in tokenizers}
    per_renderer = {id(r): [] for r in renderers.values()}
    keep = []
    for i, item in enumerate(items):
        done, reason = {}, None
        for r in renderers.values():
            try:
                row = r.render(item.record)
            except RenderError as exc:
                reason = f"the template refused the row: {exc.message}"
                break
            limit = next((limits[d] for (d, _), rr in renderers.items() if rr is r), None)
            if limit and len(row.input_ids) > limit:
                reason = f"row is {len(row.input_ids)} tokens, over the model's {limit} positions"
                break
            done[id(r)] = row
        if reason:
            sink.add(Reject(reason, file=item.where[0], line=item.where[1], id=item.id, row=item.record.to_dict()))
            continue
        keep.append(i)
        for k, row in done.items():
            per_renderer[k].append(row)
    return {v.name: per_renderer[id(v.renderer)] for v in variants}, keep


def _max_positions(model_dir: Path) -> int | None:
    cfg = read_json(model_dir / "config.json")
    return cfg.get("max_position_embeddings") or cfg.get("n_positions")


def _score_all(variants, rendered, which, max_new_tokens, batch_size, device, dtype, timings):
    """Load each model folder once and score its variants: losses and answers per variant name."""
    from dataforge.eval.scoring import generate, row_losses
    from dataforge.progress import progress_bar

    answers: dict[str, list[str]] = {}
    losses: dict[str, list[tuple[float, int]]] = {}
    groups: dict[Path, list[Variant]] = {}
    for v in variants:
        groups.setdefault(v.model_dir, []).append(v)
    for model_dir, group in groups.items():
        t = time.perf_counter()
        base_model = load_causal_lm(model_dir, device, dtype)
        adapters = [Adapter(v.adapter, v.path, {}) for v in group if v.adapter]
        holder = AdapterSet(base_model, adapters)
        positions = _max_positions(model_dir)
        timings[f"load {model_dir.name}"] = round(time.perf_counter() - t, 3)
        for v in group:
            rows = rendered[v.name]
            pad = v.renderer.tok.pad_token_id
            t = time.perf_counter()
            with holder.use(v.adapter) as net:
                if "loss" in which:
                    with progress_bar(f"loss {v.name}", total=len(rows)) as bar:
                        losses[v.name] = row_losses(net, rows, batch_size=batch_size, pad_id=pad, device=device,
                                                    bar=bar)
                if GENERATIVE & set(which):
                    with progress_bar(f"generate {v.name}", total=len(rows)) as bar:
                        answers[v.name] = generate(net, v.renderer, rows, max_new_tokens=max_new_tokens,
                                                   batch_size=batch_size, device=device, max_positions=positions,
                                                   bar=bar)
            timings[v.name] = round(time.perf_counter() - t, 3)
        del holder, base_model, net
        _free_memory()
    return answers, losses


def _free_memory() -> None:
    """Let the next model folder load into the memory of the previous one (GPU included)."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _group_scores(idx: list[int], items, per_row: list[dict] | None, answers, losses, text: set) -> dict:
    from dataforge.eval.scoring import loss_summary

    out: dict = {"n": len(idx)}
    if losses is not None:
        out.update(loss_summary([losses[i] for i in idx]))
    if per_row is not None and text:
        out.update(M.aggregate([per_row[i] for i in idx], [answers[i] for i in idx],
                               [items[i].reference for i in idx], text))
    return out


def _summarise(variants, items, which, answers, losses) -> tuple[dict, dict]:
    """Scores per variant (and per language when there are several); also the per-row scores."""
    text = set(which) & {"rouge", "exact", "chrf", "lang"}
    langs: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        langs.setdefault(item.lang, []).append(i)
    all_idx = list(range(len(items)))
    out, per_rows = [], {}
    for v in variants:
        a, lo = answers.get(v.name), losses.get(v.name)
        rows = None
        if a is not None:
            rows = [M.row_scores(a[i], it.reference, it.lang, text) for i, it in enumerate(items)]
            per_rows[v.name] = rows
        entry = {"name": v.name, "kind": v.kind, "path": str(v.path), "template": v.options.template,
                 "scores": _group_scores(all_idx, items, rows, a, lo, text)}
        if len(langs) > 1:
            entry["by_lang"] = {lang: _group_scores(idx, items, rows, a, lo, text)
                                for lang, idx in sorted(langs.items())}
        out.append(entry)
    summary = {"variants": out, "languages": {k: len(v) for k, v in sorted(langs.items())},
               "baseline": "base" if any(v.kind == "base" for v in variants) else None}
    return summary, per_rows


def _judge(items, candidates, baselines, config, journal):
    from dataforge.eval.judge import judge_pairs

    return judge_pairs([it.question for it in items], candidates, baselines, config,
                       references=[it.reference for it in items], journal=journal)


def _predictions(items, data_out, answers, losses, per_rows) -> list[dict]:
    rows = []
    pairs = {v["name"]: v.get("pairs") for v in data_out["variants"]}
    for i, item in enumerate(items):
        row = {"id": item.id, "lang": item.lang, "question": item.question, "reference": item.reference,
               "answers": {}, "scores": {}}
        for name in (v["name"] for v in data_out["variants"]):
            s: dict = {}
            if name in losses and losses[name][i][1]:
                s["loss"] = losses[name][i][0] / losses[name][i][1]
            if name in answers:
                row["answers"][name] = answers[name][i]
                s.update(per_rows.get(name, [{}] * len(items))[i])
            if pairs.get(name):
                s["judge"] = pairs[name][i]
            row["scores"][name] = s
        rows.append(row)
    return rows
