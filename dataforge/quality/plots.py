"""Plotly figures drawn from the report dict (never from the data: the JSON holds every number).

Histograms arrive already binned (edges + counts), so a million-row dataset
makes a figure of forty bars, not a million points.
"""

from __future__ import annotations

import plotly.graph_objects as go

PALETTE = ["#3b6fd8", "#e4892b", "#3aa67a", "#c8465b", "#8a63c9", "#8c6d4f", "#d46fb3", "#6f7a86"]
SEVERITY_COLOURS = {"high": "#c8465b", "medium": "#e4892b", "low": "#c9a227", "info": "#6f7a86"}
_TEMPLATE = go.layout.Template(layout=dict(
    font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12, color="#222"),
    paper_bgcolor="white", plot_bgcolor="white", colorway=PALETTE,
    xaxis=dict(gridcolor="#eceff3", zeroline=False, linecolor="#c9ced6"),
    yaxis=dict(gridcolor="#eceff3", zeroline=False, linecolor="#c9ced6"),
    margin=dict(l=55, r=15, t=40, b=45), legend=dict(orientation="h", yanchor="top", y=-0.32, x=0),
    bargap=0.05, hoverlabel=dict(font_size=12),
))


def _layout(fig: go.Figure, title: str, x: str = "", y: str = "", height: int = 300) -> go.Figure:
    legend = sum(1 for t in fig.data if t.showlegend is not False) > 1
    fig.update_layout(template=_TEMPLATE, title=dict(text=title, x=0.01, font_size=14),
                      height=height + (40 if legend else 0), showlegend=legend,
                      margin=dict(b=85 if legend else 45), xaxis_title=x, yaxis_title=y)
    return fig


def _bars(hist: dict, name: str, colour: str | None = None, normalise: bool = False,
          counts: list | None = None, opacity: float = 1.0) -> go.Bar:
    edges = hist["edges"]
    values = counts if counts is not None else hist["counts"]
    total = sum(values) + hist.get("overflow", 0)
    ys = [v / total for v in values] if normalise and total else values
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    width = (edges[1] - edges[0]) if len(edges) > 1 else 1
    return go.Bar(x=centres, y=ys, width=width, name=name, marker_color=colour, opacity=opacity,
                  hovertemplate="%{x:.0f}: %{y:,}<extra>" + name + "</extra>")


def length_figure(field: str, info: dict, by_lang: dict | None, unit: str = "chars") -> go.Figure:
    """One field's length histogram; with languages, a line per language (share of its rows)."""
    hist = info[f"{unit}_hist"]
    fig = go.Figure()
    several = bool(by_lang) and len(by_lang) > 1 and unit == "chars"
    fig.add_trace(_bars(hist, "all rows", PALETTE[0], normalise=several, opacity=0.55 if several else 1))
    if several:
        centres = [(a + b) / 2 for a, b in zip(hist["edges"][:-1], hist["edges"][1:])]
        for i, (lang, per) in enumerate(by_lang.items()):
            total = sum(per["counts"]) + per["overflow"]
            fig.add_trace(go.Scatter(x=centres, y=[c / total for c in per["counts"]], mode="lines",
                                     name=f"{lang} ({per['rows']:,})", line=dict(color=PALETTE[(i + 1) % 8], width=2)))
    over = f" · {hist['overflow']:,} longer not shown" if hist.get("overflow") else ""
    y = "share of rows" if several else "rows"
    return _layout(fig, f"{field}: length in {unit}{over}", unit, y)


def tokens_figure(ready: dict) -> go.Figure:
    fig = go.Figure(_bars(ready["row_tokens_hist"], "rows", PALETTE[2]))
    fig.add_vline(x=ready["max_length"], line_dash="dash", line_color=SEVERITY_COLOURS["high"],
                  annotation_text=f"--max-length {ready['max_length']:,}", annotation_position="top left")
    kind = "tokens" if ready["tokens_exact"] else "tokens (estimated)"
    return _layout(fig, f"Tokens per row ({ready['over_max_length']:,} over the limit)", kind, "rows")


def languages_figure(lang: dict) -> go.Figure:
    fig = go.Figure()
    order: list[str] = []
    for info in lang["fields"].values():
        order += [k for k in info["shares"] if k not in order]
    # languages under 0.5% in every field (langdetect's stray guesses) would only add noise
    order = [k for k in order if any(f["shares"].get(k, {}).get("share", 0) >= 0.005
                                     for f in lang["fields"].values())][:12]
    for i, (field, info) in enumerate(lang["fields"].items()):
        s = info["shares"]
        ys = [s.get(k, {}).get("share", 0) for k in order]
        err = dict(type="data", symmetric=False,
                   array=[s[k]["high"] - s[k]["share"] if k in s else 0 for k in order],
                   arrayminus=[s[k]["share"] - s[k]["low"] if k in s else 0 for k in order],
                   visible=lang["sampled"], color="#555")
        fig.add_trace(go.Bar(x=order, y=ys, name=field, error_y=err, marker_color=PALETTE[i % 8],
                             hovertemplate="%{x}: %{y:.1%}<extra>" + field + "</extra>"))
    fig.update_layout(barmode="group", yaxis_tickformat=".0%")
    note = "sample, 95% CI" if lang["sampled"] else "all rows"
    return _layout(fig, f"Languages per field ({note})", "", "share of detected texts")


def signals_figure(sig: dict, rep: dict) -> go.Figure:
    names = [info["title"] for info in sig["signals"].values()]
    values = [info["rows"] for info in sig["signals"].values()]
    for field, info in rep["fields"].items():
        names.append(f"repetitive {field}")
        values.append(info["rows"])
    fig = go.Figure(go.Bar(y=names[::-1], x=values[::-1], orientation="h", marker_color=PALETTE[3],
                           text=[f"{v:,}" for v in values[::-1]], textposition="outside",
                           hovertemplate="%{y}: %{x:,} rows<extra></extra>"))
    fig.update_layout(margin=dict(l=300))
    return _layout(fig, "Rows flagged per signal", "rows", "", height=60 + 28 * len(names))


def categories_figure(cats: dict) -> go.Figure:
    items = list(cats["counts"].items())[:25][::-1]
    fig = go.Figure(go.Bar(y=[k for k, _ in items], x=[v for _, v in items], orientation="h",
                           marker_color=PALETTE[4], hovertemplate="%{y}: %{x:,} rows<extra></extra>"))
    fig.update_layout(margin=dict(l=160))
    return _layout(fig, f"Categories ({cats['distinct']} distinct)", "rows", "", height=max(300, 60 + 24 * len(items)))


def repetition_figure(rep: dict) -> go.Figure:
    fig = go.Figure()
    for i, (field, info) in enumerate(rep["fields"].items()):
        fig.add_trace(_bars(info["hist"], field, PALETTE[i % 8], opacity=0.7))
    fig.add_vline(x=rep["flag_at"], line_dash="dash", line_color=SEVERITY_COLOURS["high"])
    fig.update_layout(barmode="overlay", yaxis_type="log")
    return _layout(fig, "Repeated word 3-grams per row", "share repeated", "rows (log)")


def preference_figures(pref: dict) -> list[go.Figure]:
    lb = pref["length_bias"]
    hist = lb["log2_ratio_hist"]
    bars = _bars(hist, "pairs", PALETTE[1])
    ratio = go.Figure(bars)
    ratio.add_vline(x=0, line_color="#333")
    tails = hist.get("below", 0) + hist.get("overflow", 0)
    more = f" · {tails:,} beyond ±4 not shown" if tails else ""
    ratio = _layout(ratio, f"log2(chosen / rejected length): chosen longer in {lb['share_chosen_longer']:.0%}{more}",
                    "log2 length ratio (> 0: chosen longer)", "pairs")
    sc = lb["scatter"]
    top = max(sc["chosen"] + sc["rejected"] + [1])
    scatter = go.Figure(go.Scatter(x=sc["rejected"], y=sc["chosen"], mode="markers",
                                     marker=dict(size=4, opacity=0.45, color=PALETTE[0]), name="pairs",
                                     hovertemplate="rejected %{x:,} · chosen %{y:,}<extra></extra>"))
    scatter.add_trace(go.Scatter(x=[1, top], y=[1, top], mode="lines", line=dict(dash="dash", color="#999"),
                                 name="equal length"))
    scatter.update_layout(xaxis_type="log", yaxis_type="log")
    scatter = _layout(scatter, f"Chosen vs rejected length ({sc['points']:,} pairs shown)",
                      "rejected (chars)", "chosen (chars)")
    return [ratio, scatter]


def overlay_figure(field: str, a: dict, b: dict, labels: tuple[str, str], unit: str = "chars") -> go.Figure:
    """Compare mode: two datasets' length histograms for one field, as shares of their rows."""
    fig = go.Figure()
    for i, (info, label) in enumerate(((a, labels[0]), (b, labels[1]))):
        hist = info[f"{unit}_hist"]
        centres = [(x + y) / 2 for x, y in zip(hist["edges"][:-1], hist["edges"][1:])]
        total = sum(hist["counts"]) + hist["overflow"]
        fig.add_trace(go.Scatter(x=centres, y=[c / total if total else 0 for c in hist["counts"]],
                                 mode="lines", line_shape="hv", name=label, line=dict(color=PALETTE[i], width=2),
                                 fill="tozeroy", opacity=0.5))
    return _layout(fig, f"{field}: length in {unit}", unit, "share of rows")
