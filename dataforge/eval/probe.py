"""`dataforge probe`: does more data help? Train on nested subsets, evaluate each, fit the trend.

    >>> from dataforge.eval.probe import probe
    >>> res = probe("models/tiny", "train.jsonl", "eval.jsonl", "out/probe", backend="lora",
    ...             fractions=[0.25, 0.5, 1.0], sets=["max_steps=50"])      # doctest: +SKIP
    >>> res.data["fit"]["gain_per_doubling"], res.data["verdict"]          # doctest: +SKIP

The rows are put in one seeded order (a hash of the training seed and each
row's id), and subset k is the first ceil(fraction_k x N) rows of that
order, so every subset contains the smaller ones and a rerun picks the same
rows. Each subset is trained by the same library call as `dataforge train`
(the same backend, options and seed), then all runs are evaluated together
(adapters on one base, in one table). The gain per doubling of the data is
the least-squares slope of the metric against log2(examples); it is read
against a per-metric threshold of a useful gain to say whether collecting
more data of the same kind is likely to pay off.

A finished run (its `dataforge_train.json` recording the same subset file
and options) is reused on a rerun instead of being trained again.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from dataforge.errors import ConfigError, InputError
from dataforge.io.safety import check_outputs

# metric name -> (score key, label, higher is better, a gain per doubling worth collecting data for)
TARGETS = {
    "loss": ("loss", "eval loss", False, 0.02),
    "rouge": ("rouge_l", "ROUGE-L", True, 0.01),
    "exact": ("exact_match", "exact match", True, 0.01),
    "chrf": ("chrf", "chrF", True, 1.0),
    "lang": ("lang_faithfulness", "language faithfulness", True, 0.01),
}


@dataclass
class ProbeResult:
    data: dict
    output: Path

    @property
    def verdict(self) -> str:
        return self.data["verdict"]


def parse_fractions(spec) -> list[float]:
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    try:
        values = sorted({float(x) for x in items if str(x).strip()})
    except ValueError:
        raise ConfigError(f"--fractions {spec}: not a list of numbers", "e.g. --fractions 0.25,0.5,1.0") from None
    if len(values) < 2:
        raise ConfigError("--fractions needs at least two sizes to fit a trend", "e.g. --fractions 0.25,0.5,1.0")
    if values[0] <= 0 or values[-1] > 1:
        raise ConfigError(f"--fractions {spec}: each fraction must be in (0, 1]", "e.g. --fractions 0.25,0.5,1.0")
    return values


def order_key(record_id: str, seed: int) -> bytes:
    return hashlib.blake2b(f"{seed}:{record_id}".encode(), digest_size=8).digest()


def subset_sizes(total: int, fractions: list[float]) -> list[int]:
    sizes = [max(1, math.ceil(f * total - 1e-9)) for f in fractions]
    if len(set(sizes)) != len(sizes):
        raise ConfigError(f"--fractions {','.join(f'{f:g}' for f in fractions)} give subsets of the same size "
                          f"({', '.join(map(str, sizes))}) from {total} rows", "use fewer fractions or more data")
    return sizes


def fit_log2(points: list[tuple[int, float]]) -> dict:
    """Least squares of value on log2(n): slope (change per doubling), intercept, R², slope std. error."""
    xs = [math.log2(n) for n, _ in points]
    ys = [v for _, v in points]
    k = len(xs)
    mx, my = sum(xs) / k, sum(ys) / k
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    intercept = my - slope * mx
    resid = [y - (intercept + slope * x) for x, y in zip(xs, ys)]
    sst = sum((y - my) ** 2 for y in ys)
    r2 = 1 - sum(r * r for r in resid) / sst if sst > 0 else None
    se = math.sqrt(sum(r * r for r in resid) / (k - 2) / sxx) if k > 2 else None
    return {"slope": slope, "intercept": intercept, "r2": r2, "slope_stderr": se}


def verdict(metric: str, points: list[tuple[int, float]], fit: dict) -> tuple[float, str]:
    """(gain per doubling in the metric's better direction, the sentence for the user)."""
    _, label, higher, worth = TARGETS[metric]
    slope = fit["slope"]
    gain = slope if higher else -slope
    n_min, n_max = points[0][0], points[-1][0]
    projected = fit["intercept"] + slope * math.log2(2 * n_max)
    direction = "raised" if slope > 0 else "lowered"
    if gain >= worth:
        text = (f"More data is likely to help: each doubling of the training data {direction} {label} by "
                f"{abs(slope):.3g} ({n_min:,} to {n_max:,} examples); at {2 * n_max:,} examples expect about "
                f"{projected:.3g} if the trend holds.")
    elif gain > 0:
        text = (f"More of the same data is unlikely to help much: {label} moves by only {slope:+.3g} per doubling "
                f"(a useful gain is {worth:g} or more). Check the data's quality (dataforge report) or the "
                "training settings before collecting more.")
    else:
        text = (f"More of the same data is unlikely to help: {label} did not improve as the data grew "
                f"({slope:+.3g} per doubling, {n_min:,} to {n_max:,} examples). Look at the data's quality "
                "(dataforge report), the task definition or the training settings first.")
    if fit.get("r2") is not None and fit["r2"] < 0.5 and len(points) > 2:
        text += f" The points scatter around the trend (R² {fit['r2']:.2f}): treat this as a rough estimate."
    return gain, text


def _same_run(run_dir: Path, subset: Path, options: dict) -> bool:
    """Whether run_dir holds a finished run on exactly this subset file with these options."""
    record_path = run_dir / "dataforge_train.json"
    if not record_path.is_file():
        return False
    record = json.loads(record_path.read_text(encoding="utf-8"))
    digest = hashlib.sha256(subset.read_bytes()).hexdigest()
    return (record.get("options") == options and
            list((record.get("data") or {}).get("file_hashes", {}).values()) == [digest])


def probe(model, data, eval_data, output, *, backend: str = "lora", fractions=(0.25, 0.5, 1.0), sets=(),
          config=None, metric: str = "loss", metrics=None, baseline: bool = True, max_new_tokens: int = 64,
          batch_size: int = 8, mapping=None, fmt=None, strict: bool = False, echo=None) -> ProbeResult:
    """Train `backend` on nested subsets of `data`, evaluate each on `eval_data`, fit the gain per doubling."""
    from dataforge.eval.run import evaluate, parse_metrics
    from dataforge.io import RejectSink, read_dataset, write_records
    from dataforge.io.atomic import atomic_write_text
    from dataforge.train import train
    from dataforge.train.run import resolve

    echo = echo or (lambda _msg: None)
    fracs = parse_fractions(fractions)
    metric = {"rouge_l": "rouge", "exact_match": "exact", "perplexity": "loss"}.get(metric, metric)
    if metric not in TARGETS:
        raise ConfigError(f"--metric {metric}: cannot probe on it", f"use one of: {', '.join(TARGETS)}")
    wanted = parse_metrics(metrics or [metric])
    if "judge" in wanted:
        raise ConfigError("the probe does not run the LLM judge", "use `dataforge eval --metrics judge` per run")
    if metric not in wanted:
        wanted.insert(0, metric)
    out = Path(output)
    check_outputs([out], [model, data, eval_data], kind="dir", labels=["-o"])  # io/safety.py: never destroy
    if not Path(eval_data).exists():
        raise InputError(f"--eval {eval_data}: no such file or folder", "pass a held-out eval set")
    res = resolve(backend, model, data, out / "runs" / "check", config=config, sets=sets)  # fast checks, no torch
    if res.options.plan().head != "lm":
        raise ConfigError(f"backend '{backend}' trains a scoring head, which cannot generate or be scored "
                          "on an eval set", "probe an SFT backend (lora, qlora, full, freeze) or dpo")
    options = res.options.model_dump(mode="json")
    out.mkdir(parents=True, exist_ok=True)
    with RejectSink(out / "data.rejects.jsonl", strict=strict) as sink:
        ds = read_dataset([str(d) for d in (data if isinstance(data, (list, tuple)) else [data])],
                          mapping=mapping, fmt=fmt, rejects=sink)
        records = list(ds)
    if not records:
        raise InputError(f"{data}: no usable training rows", "see data.rejects.jsonl")
    records.sort(key=lambda r: order_key(r.id, res.options.seed))
    sizes = subset_sizes(len(records), fracs)
    runs = []
    for k, (frac, n) in enumerate(zip(fracs, sizes), 1):
        subset = out / "subsets" / f"n{n}.jsonl"
        subset.parent.mkdir(parents=True, exist_ok=True)
        write_records(records[:n], subset)
        run_dir = out / "runs" / f"n{n}"
        if _same_run(run_dir, subset, options):
            echo(f"[{k}/{len(sizes)}] {n:,} examples ({frac:g}): already trained, reused")
        else:
            echo(f"[{k}/{len(sizes)}] training {backend} on {n:,} examples ({frac:g} of {len(records):,})")
            if run_dir.exists():
                shutil.rmtree(run_dir)  # an unfinished run of ours: start it again
            train(backend, model, str(subset), str(run_dir), config=config, sets=sets)
        record = json.loads((run_dir / "dataforge_train.json").read_text(encoding="utf-8"))
        runs.append({"fraction": frac, "n": n, "subset": str(subset), "run": str(run_dir),
                     "kind": record["result"]["kind"], "train_metrics": record["result"]["metrics"]})
    echo(f"evaluating {len(runs)} runs on {eval_data}")
    ev_out = out / "eval"
    common = dict(metrics=wanted, max_new_tokens=max_new_tokens, batch_size=batch_size)
    if all(r["kind"] == "adapter" for r in runs):
        ev = evaluate(model, eval_data, adapters=[r["run"] for r in runs], baseline=baseline, output=ev_out, **common)
        by_name = dict(zip([v["name"] for v in ev.data["variants"] if v["kind"] == "adapter"], runs))
        scores = {by_name[v["name"]]["n"]: v["scores"] for v in ev.data["variants"] if v["kind"] == "adapter"}
        base_scores = ev.scores("base") if baseline else None
        eval_data_out = ev.data
    else:  # full fine-tunes: one model per run, the base once
        scores, eval_data_out = {}, None
        for r in runs:
            ev = evaluate(r["run"], eval_data, output=Path(r["run"]) / "eval", **common)
            scores[r["n"]] = ev.data["variants"][0]["scores"]
        base_scores = None
        if baseline:  # rendered with the template the runs were trained with
            base = evaluate(model, eval_data, output=ev_out / "base", template=options["template"], **common)
            base_scores = base.data["variants"][0]["scores"]
    return _finish(out, runs, scores, base_scores, metric, wanted, eval_data_out, eval_data, backend, len(records),
                   atomic_write_text)


def _finish(out, runs, scores, base_scores, metric, wanted, eval_data_out, eval_data, backend, total, write):
    key = TARGETS[metric][0]
    fits = {}
    for name in [metric] + [m for m in wanted if m != metric and m in TARGETS]:
        k = TARGETS[name][0]
        points = [(r["n"], scores[r["n"]].get(k)) for r in runs]
        if all(v is not None for _, v in points):
            fits[name] = {**fit_log2(points), "points": points}
    if metric not in fits:
        raise InputError(f"the eval gave no {TARGETS[metric][1]} for some runs",
                         "for --metric lang the answers must be long enough to detect their language")
    fit = fits[metric]
    gain, sentence = verdict(metric, fit["points"], fit)
    for r in runs:
        r["scores"] = scores[r["n"]]
    data = {
        "schema": 1, "backend": backend, "metric": metric, "score_key": key, "rows": total,
        "eval_data": str(eval_data), "runs": runs, "base_scores": base_scores,
        "fit": {"gain_per_doubling": gain, **{k: v for k, v in fit.items() if k != "points"},
                "points": fit["points"]},
        "fits": {m: {k: v for k, v in f.items()} for m, f in fits.items()},
        "verdict": sentence,
    }
    from dataforge.eval.report import page

    body = probe_section(data)
    if eval_data_out is not None:
        from dataforge.eval.report import section

        body += section(eval_data_out)
    write(out / "probe.html", page(eval_data_out or {}, title="dataforge probe", body=body,
                                   subtitle=f"{backend} on {data_path_text(runs)} · eval {eval_data}"))
    write(out / "probe.json", json.dumps(data, indent=2, ensure_ascii=False))
    return ProbeResult(data, out)


def probe_figure(data: dict, name: str):
    """The metric against the number of examples (log2 axis), the fitted line and the base as a dashed line."""
    import plotly.graph_objects as go

    k, label, _, _ = TARGETS[name]
    fit = data["fits"][name]
    ns = [n for n, _ in fit["points"]]
    fig = go.Figure()
    fig.add_scatter(x=ns, y=[v for _, v in fit["points"]], mode="lines+markers", name=label,
                    marker=dict(size=9, color="#3b6fd8"), line=dict(color="#3b6fd8"))
    xs = [ns[0], ns[-1] * 2]
    fig.add_scatter(x=xs, y=[fit["intercept"] + fit["slope"] * math.log2(x) for x in xs], mode="lines",
                    name=f"fit: {fit['slope']:+.3g} per doubling", line=dict(dash="dot", color="#e4892b"))
    base = (data.get("base_scores") or {}).get(k)
    if base is not None:
        fig.add_hline(y=base, line=dict(dash="dash", color="#6f7a86"), annotation_text="base model")
    fig.update_layout(height=340, margin=dict(l=55, r=15, t=40, b=45), plot_bgcolor="white",
                      title=dict(text=f"{label} vs training examples", x=0.01, font_size=14),
                      xaxis=dict(type="log", tickvals=ns + [xs[-1]], title="training examples (log scale)"),
                      yaxis_title=label, legend=dict(orientation="h", y=-0.25))
    return fig


def probe_section(data: dict) -> str:
    """The probe as an HTML fragment: the verdict, one chart per metric, the runs table."""
    import html

    from dataforge.eval.report import figure_html

    parts = ['<section id="probe"><h2>Data-quantity probe</h2>',
             f'<p class="verdict">{html.escape(data["verdict"])}</p>',
             f'<p class="note">backend {html.escape(data["backend"])} trained on nested subsets of {data["rows"]:,} '
             "rows (same seed); gain per doubling = least-squares slope of the metric against log2(examples).</p>"]
    for name in data["fits"]:
        parts.append(figure_html(probe_figure(data, name), f"fig-probe-{name}"))
    keys = [(TARGETS[m][0], TARGETS[m][1]) for m in data["fits"]]
    head = "".join(f'<th class="n">{html.escape(lbl)}</th>' for _, lbl in keys)
    parts.append(f'<table><thead><tr><th>examples</th><th class="n">fraction</th>{head}<th>run</th></tr></thead>'
                 "<tbody>")
    if data.get("base_scores"):
        vals = "".join(f'<td class="n">{_num(data["base_scores"].get(k))}</td>' for k, _ in keys)
        parts.append(f'<tr><td>0 (base model)</td><td class="n">–</td>{vals}<td></td></tr>')
    for r in data["runs"]:
        vals = "".join(f'<td class="n">{_num(r["scores"].get(k))}</td>' for k, _ in keys)
        parts.append(f'<tr><td>{r["n"]:,}</td><td class="n">{r["fraction"]:g}</td>{vals}'
                     f'<td>{html.escape(r["run"])}</td></tr>')
    parts.append("</tbody></table></section>")
    return "\n".join(parts)


def data_path_text(runs: list[dict]) -> str:
    return f"{runs[-1]['n']:,} examples in {len(runs)} nested subsets"


def _num(value) -> str:
    return "–" if value is None else f"{value:.4g}"
