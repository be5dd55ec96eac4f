"""The report as one self-contained HTML page: inline CSS, inline plotly.js, no requests.

The page is drawn from the report dict alone (see `report.py`), with a
Jinja2 template next to this module. plotly.js is embedded once, in the head;
each figure is a div plus the call that draws it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dataforge.io import atomic_write_text
from dataforge.quality import plots

_TEMPLATE = "report.html.j2"
_CONFIG = {"displaylogo": False, "responsive": True,
           "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


def _figure_html(fig, div_id: str) -> str:
    import plotly.io as pio

    div_id = "fig-" + div_id  # never the id of a section: Plotly draws into the first element with it
    height = fig.layout.height or 300
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG,
                       default_height=f"{height}px", validate=False)


def _anchor(row_id: str) -> str:
    return "row-" + hashlib.blake2b(str(row_id).encode(), digest_size=6).hexdigest()


def figures(report: dict, prefix: str = "") -> dict[str, str]:
    """name -> HTML of every plot the report has data for."""
    out: dict[str, str] = {}
    if "lengths" not in report:
        return out
    lens = report["lengths"]
    by_lang = lens.get("by_language", {})
    for name, info in lens["fields"].items():
        if info["filled"]:
            out[f"len_{name}"] = _figure_html(plots.length_figure(name, info, by_lang.get(name)), f"{prefix}len-{name}")
    ready = report["readiness"]
    out["tokens"] = _figure_html(plots.tokens_figure(ready), f"{prefix}tokens")
    if report.get("languages") and any(f["shares"] for f in report["languages"]["fields"].values()):
        out["languages"] = _figure_html(plots.languages_figure(report["languages"]), f"{prefix}languages")
    flagged = [s["rows"] for s in report["signals"]["signals"].values()]
    flagged += [f["rows"] for f in report["repetition"]["fields"].values()]
    if any(flagged):
        out["signals"] = _figure_html(plots.signals_figure(report["signals"], report["repetition"]),
                                      f"{prefix}signals")
    out["repetition"] = _figure_html(plots.repetition_figure(report["repetition"]), f"{prefix}repetition")
    cats = report["signals"].get("categories")
    if cats:
        out["categories"] = _figure_html(plots.categories_figure(cats), f"{prefix}categories")
    if report.get("preference") and report["preference"]["compared"]:
        ratio, scatter = plots.preference_figures(report["preference"])
        out["pref_ratio"] = _figure_html(ratio, f"{prefix}pref-ratio")
        out["pref_scatter"] = _figure_html(scatter, f"{prefix}pref-scatter")
    return out


def _compare_figures(comp: dict, a: dict, b: dict) -> dict[str, str]:
    out = {}
    if "lengths" not in a or "lengths" not in b:
        return out
    labels = (comp["labels"]["a"], comp["labels"]["b"])
    for name, info in a["lengths"]["fields"].items():
        other = b["lengths"]["fields"].get(name)
        if other and (info["filled"] or other["filled"]):
            out[name] = _figure_html(plots.overlay_figure(name, info, other, labels), f"cmp-len-{name}")
    return out


def render_html(report: dict) -> str:
    """The whole page as a string."""
    import jinja2
    import plotly.offline

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.dirname(__file__)),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v: f"{v:,}" if isinstance(v, int) else (f"{v:,.2f}" if isinstance(v, float) else v)
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:.1%}"
    env.filters["anchor"] = _anchor
    comp = report.get("compare")
    other = comp["other"] if comp else None
    page = env.get_template(_TEMPLATE).render(
        r=report, figs=figures(report), colours=plots.SEVERITY_COLOURS,
        comp=comp, other=other, other_figs=_compare_figures(comp, report, other) if comp else {},
        plotlyjs=plotly.offline.get_plotlyjs(),
    )
    return page


def write_html(report: dict, path: str | os.PathLike) -> Path:
    """Write the page atomically; returns the path."""
    path = Path(path)
    atomic_write_text(path, render_html(report))
    return path
