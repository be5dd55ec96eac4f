"""`--compare OTHER`: two reports side by side, with what got better and what got worse.

Typical uses: before and after `dataforge dedup` (duplicates should fall,
nothing else should move much), or a dataset and its translation (languages
should change, lengths and signals should not). Counts are compared as shares
of each dataset's own rows where the datasets differ in size.
"""

from __future__ import annotations

from pathlib import Path


def _get(report: dict, path: str):
    node = report
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _metric_specs(a: dict, b: dict) -> list[tuple[str, str, str | None, str | None, str]]:
    """(label, path of the value, path of its row count or None, which direction is better, format)."""
    specs = [("rows read", "rows.read", None, None, "int"), ("usable rows", "rows.usable", None, None, "int"),
             ("rejected rows", "rows.rejected", None, "lower", "int"),
             ("exact duplicates (share)", "duplicates.exact.share", "duplicates.exact.removable", "lower", "pct"),
             ("repeated prompts (share)", "duplicates.prompts.share", "duplicates.prompts.removable", "lower", "pct"),
             ("near-duplicates, est. (share)", "duplicates.near.share", "duplicates.near.removable", "lower", "pct"),
             ("tokens per epoch", "readiness.tokens_per_epoch", None, None, "int"),
             ("rows over max length (share)", "readiness.over_share", "readiness.over_max_length", "lower", "pct")]
    fields = list(_get(a, "lengths.fields") or {})
    fields += [f for f in (_get(b, "lengths.fields") or {}) if f not in fields]
    for f in fields:
        base = f"lengths.fields.{f}"
        specs += [(f"{f}: empty or blank (share)", f"{base}.blank_share", f"{base}.blank",
                   None if f == "context" else "lower", "pct"),
                  (f"{f}: median chars", f"{base}.chars.p50", None, None, "num"),
                  (f"{f}: p99 chars", f"{base}.chars.p99", None, None, "num"),
                  (f"{f}: median tokens", f"{base}.tokens.p50", None, None, "num")]
    for name in (_get(a, "signals.signals") or _get(b, "signals.signals") or {}):
        title = (_get(a, f"signals.signals.{name}.title") or _get(b, f"signals.signals.{name}.title"))
        base = f"signals.signals.{name}"
        specs.append((f"{title} (share)", f"{base}.share", f"{base}.rows", "lower", "pct"))
    for f in (_get(a, "repetition.fields") or {}):
        base = f"repetition.fields.{f}"
        specs.append((f"repetitive {f} (share)", f"{base}.share", f"{base}.rows", "lower", "pct"))
    for f in (_get(a, "languages.mismatch") or {}):
        base = f"languages.mismatch.{f}"
        specs.append((f"instruction/{f} language mismatch", f"{base}.share", f"{base}.count", "lower", "pct"))
    lang_fields = list(_get(a, "languages.fields") or _get(b, "languages.fields") or {})
    if lang_fields:
        answer = lang_fields[-1]  # output (or rejected): the texts a model learns to write
        langs: list[str] = []
        for rep in (a, b):
            shares = _get(rep, f"languages.fields.{answer}.shares") or {}
            langs += [k for k in list(shares)[:6] if k not in langs]
        for lang in langs[:8]:
            specs.append((f"{answer} in '{lang}' (share)", f"languages.fields.{answer}.shares.{lang}.share", None,
                          None, "pct"))
    if a.get("preference") or b.get("preference"):
        specs += [("chosen identical to rejected", "preference.identical.share", "preference.identical.count",
                   "lower", "pct"),
                  ("chosen nearly identical", "preference.near_identical.share", "preference.near_identical.count",
                   "lower", "pct"),
                  ("chosen longer than rejected", "preference.length_bias.share_chosen_longer", None, None, "pct"),
                  ("contradictory pairs", "preference.contradictory.share", "preference.contradictory.pairs",
                   "lower", "pct")]
    return specs


def _status(va, vb, ca, cb, better: str | None) -> str:
    """better/worse only when the share and the row count move the same way: removing clean rows
    raises the share of a problem without adding a single problem row, which is no change for the worse."""
    if va is None or vb is None or va == vb:
        return "same"
    if better is None:
        return "changed"
    improved = (vb < va) == (better == "lower")
    if ca is not None and cb is not None and ca != cb and ((cb < ca) == (better == "lower")) != improved:
        return "changed"
    if ca is not None and cb is not None and ca == cb:
        return "changed"
    return "better" if improved else "worse"


def _fmt(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{value:.1%}"
    if kind == "int":
        return f"{int(value):,}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def compare_reports(a: dict, b: dict, labels: tuple[str, str] | None = None) -> dict:
    """The comparison section: metric rows, resolved/new findings, and `other` (b) in full."""
    if labels is None:
        labels = (_label(a), _label(b))
        if labels[0] == labels[1]:
            labels = (labels[0] + " (1)", labels[1] + " (2)")
    metrics = []
    for label, path, count_path, better, kind in _metric_specs(a, b):
        va, vb = _get(a, path), _get(b, path)
        if va is None and vb is None:
            continue
        ca, cb = (_get(a, count_path), _get(b, count_path)) if count_path else (None, None)
        status = _status(va, vb, ca, cb, better)
        delta = (vb - va) if va is not None and vb is not None else None
        delta_text = "–" if delta is None else (f"{delta:+.1%}" if kind == "pct" else
                                                 f"{delta:+,.0f}" if float(delta).is_integer() else f"{delta:+,.2f}")
        metrics.append({"label": label, "path": path, "a": va, "b": vb, "a_rows": ca, "b_rows": cb,
                        "delta": delta, "better": better,
                        "status": status, "a_text": _fmt(va, kind), "b_text": _fmt(vb, kind),
                        "delta_text": delta_text})
    codes_a = {f["code"]: f["title"] for f in a.get("findings", []) if f["severity"] != "info"}
    codes_b = {f["code"]: f["title"] for f in b.get("findings", []) if f["severity"] != "info"}
    return {
        "labels": {"a": labels[0], "b": labels[1]},
        "metrics": metrics,
        "resolved": [t for c, t in codes_a.items() if c not in codes_b],
        "new": [t for c, t in codes_b.items() if c not in codes_a],
        "better": sum(m["status"] == "better" for m in metrics),
        "worse": sum(m["status"] == "worse" for m in metrics),
        "other": b,
    }


def _label(report: dict) -> str:
    data = report.get("input", {}).get("data", ["?"])
    return ", ".join(Path(d).name for d in data)
