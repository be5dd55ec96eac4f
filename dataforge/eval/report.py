"""Showing an evaluation: the terminal tables and the HTML section, both drawn from eval.json's dict.

`section(data)` is an HTML fragment (tables, a plotly chart, example answers)
that another page can embed after loading plotly.js once; `page(data)` wraps
it into a self-contained file with plotly.js inline, so it opens offline.
"""

from __future__ import annotations

import html

from dataforge.eval.metrics import MIN_LANG_CHARS

# key, label, higher is better, format
METRICS = [
    ("loss", "loss", False, "{:.4f}"),
    ("perplexity", "perplexity", False, "{:.2f}"),
    ("rouge_l", "ROUGE-L", True, "{:.3f}"),
    ("exact_match", "exact match", True, "{:.3f}"),
    ("chrf", "chrF", True, "{:.2f}"),
    ("lang_faithfulness", "language faithfulness", True, "{:.3f}"),
    ("judge_win_rate", "judge win rate vs base", True, "{:.3f}"),
]
PALETTE = ["#6f7a86", "#3b6fd8", "#e4892b", "#3aa67a", "#c8465b", "#8a63c9", "#8c6d4f", "#d46fb3"]
# The same look as the quality report (`dataforge report`), whose page the section can also sit in.
CSS = """
:root{--ink:#1f2430;--muted:#667085;--line:#e4e7ec;--bg:#f5f6f8;--card:#fff;--accent:#3b6fd8}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#1f2a44;color:#fff;padding:22px 32px 18px}
header h1{margin:0 0 4px;font-size:22px;font-weight:600}
header .sub{color:#c5cde0;font-size:13px}
main{max-width:1280px;margin:0 auto;padding:22px 32px 60px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:0 0 20px}
h2{font-size:17px;margin:0 0 12px}
h3{font-size:14px;margin:18px 0 8px;color:#344054}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
thead th{color:var(--muted);font-weight:600;font-size:12px;background:#fafbfc}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.text{white-space:pre-wrap;word-break:break-word;font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace;
max-width:340px}
.note{color:var(--muted);font-size:12.5px;margin:4px 0 10px}
.verdict{font-size:15px;font-weight:600;margin:0 0 10px}
.better{background:#e8f6ee}.worse{background:#fdecee}
"""


def fmt(value, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)


def present(data: dict) -> list[tuple]:
    """The metric rows that at least one variant has a value for."""
    return [m for m in METRICS if any(v["scores"].get(m[0]) is not None for v in data["variants"])]


def _delta(value, base, higher: bool, pattern: str) -> tuple[str, str]:
    if value is None or base is None:
        return "", ""
    d = value - base
    if abs(d) < 1e-12:
        return " (±0)", ""
    better = (d > 0) == higher
    return f" ({'+' if d > 0 else ''}{pattern.format(d)})", "better" if better else "worse"


def cells(data: dict, scores_of) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(metric label, [(text, css class) per variant])], deltas against the base when there is one."""
    base = next((v for v in data["variants"] if v["kind"] == "base"), None)
    rows = []
    for key, label, higher, pattern in present(data):
        line = []
        for v in data["variants"]:
            value = scores_of(v).get(key)
            text, cls = fmt(value, pattern), ""
            if base is not None and v is not base:
                extra, cls = _delta(value, scores_of(base).get(key), higher, pattern)
                text += extra
            line.append((text, cls))
        rows.append((label, line))
    return rows


def terminal_tables(data: dict) -> list:
    """rich Tables: the overall comparison, then per language when the set is multilingual."""
    from rich.table import Table

    names = [v["name"] for v in data["variants"]]
    n = data["rows"]["scored"]
    title = f"eval on {n:,} rows" + (f" ({data['rows']['rejected']:,} rejected)" if data["rows"]["rejected"] else "")
    table = Table("metric", *names, title=title, title_justify="left")
    colour = {"better": "green", "worse": "red", "": ""}
    for label, line in cells(data, lambda v: v["scores"]):
        table.add_row(label, *[f"[{colour[c]}]{t}[/]" if c else t for t, c in line])
    tables = [table]
    langs = data.get("languages") or {}
    if len(langs) > 1:
        per = Table("language", "metric", *names, title="per language", title_justify="left")
        for lang, count in langs.items():
            rows = cells(data, lambda v, lang=lang: v.get("by_lang", {}).get(lang, {}))
            for j, (label, line) in enumerate(rows):
                per.add_row(f"{lang} ({count})" if j == 0 else "", label,
                            *[f"[{colour[c]}]{t}[/]" if c else t for t, c in line], end_section=j == len(rows) - 1)
        tables.append(per)
    return tables


def _table_html(head: list[str], rows: list[list[tuple[str, str]]], text_cols: int = 1) -> str:
    """A table whose first `text_cols` columns are labels and the rest right-aligned numbers."""
    def cls(i: int, extra: str) -> str:
        return " ".join(c for c in ("n" if i >= text_cols else "", extra) if c)

    out = ["<table><thead><tr>" + "".join(f'<th class="{cls(i, "")}">{html.escape(h)}</th>'
                                          for i, h in enumerate(head)) + "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f'<td class="{cls(i, c)}">{html.escape(t)}</td>' for i, (t, c) in enumerate(row))
                   + "</tr>")
    return "".join(out) + "</tbody></table>"


def figure_html(fig, div_id: str) -> str:
    """A figure as a div (plotly.js must be on the page), drawn at its own height."""
    import plotly.io as pio

    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True},
                       default_height=f"{fig.layout.height or 320}px")


def figure(data: dict):
    """Grouped bars of the 0-1 metrics per variant (chrF scaled to 0-1), per language when multilingual."""
    import plotly.graph_objects as go

    keys = [(k, lbl) for k, lbl, _, _ in present(data) if k not in ("loss", "perplexity")]
    if not keys:
        return None
    fig = go.Figure()
    for j, v in enumerate(data["variants"]):
        ys = [(v["scores"].get(k) or 0) / (100 if k == "chrf" else 1) for k, _ in keys]
        fig.add_bar(x=[lbl + (" /100" if k == "chrf" else "") for k, lbl in keys], y=ys, name=v["name"],
                    marker_color=PALETTE[j % len(PALETTE)])
    fig.update_layout(barmode="group", height=320, margin=dict(l=50, r=10, t=40, b=40), yaxis_range=[0, 1],
                      title=dict(text="scores per model", x=0.01, font_size=14), plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.2))
    return fig


def section(data: dict, examples: list[dict] = ()) -> str:
    """The evaluation as an HTML fragment (plotly.js must already be on the page)."""
    names = [v["name"] for v in data["variants"]]
    parts = ['<section id="eval"><h2>Evaluation</h2>',
             f'<p class="note">{html.escape(data["model"])} · {data["rows"]["scored"]:,} rows scored from '
             f'{html.escape(", ".join(data["data"]))} · greedy, max {data["settings"]["max_new_tokens"]} new tokens'
             f' · {html.escape(data["generated"])}</p>']
    rows = [[(label, "")] + line for label, line in cells(data, lambda v: v["scores"])]
    parts.append(_table_html(["metric", *names], rows))
    judged = {v["name"]: v["scores"].get("lang_judged") for v in data["variants"] if "lang_judged" in v["scores"]}
    if judged:
        parts.append('<p class="note">language faithfulness: the share of answers in the prompt\'s language, over '
                     f"answers of at least {MIN_LANG_CHARS} characters (judged: "
                     + ", ".join(f"{html.escape(k)} {n}" for k, n in judged.items()) + ")</p>")
    langs = data.get("languages") or {}
    if len(langs) > 1:
        parts.append("<h3>Per language</h3>")
        lang_rows = []
        for lang, count in langs.items():
            for j, (label, line) in enumerate(cells(data, lambda v, lang=lang: v.get("by_lang", {}).get(lang, {}))):
                lang_rows.append([(f"{lang} ({count})" if j == 0 else "", ""), (label, "")] + line)
        parts.append(_table_html(["language", "metric", *names], lang_rows, text_cols=2))
    for v in data["variants"]:
        j = v.get("judge")
        if j:
            parts.append(f'<p class="note">judge {html.escape(j["judge_model"])} on {html.escape(v["name"])}: '
                         f'{j["wins"]} wins, {j["ties"]} ties ({j["identical"]} identical), {j["losses"]} losses, '
                         f'{j["inconsistent"]} flipped with the order, {j["failed"]} failed; the judge chose '
                         f'position A {fmt(j["position_a_share"], "{:.0%}")} of the time.</p>')
    fig = figure(data)
    if fig is not None:
        parts.append(figure_html(fig, "fig-eval-scores"))
    if examples:
        parts.append("<h3>Examples</h3>")
        head = ["id", "lang", "question", "reference", *names]
        ex_rows = [[(e["id"], ""), (e["lang"], ""), (e["question"][:600], "text"), (e["reference"][:600], "text")]
                   + [(e["answers"].get(n, "")[:600], "text") for n in names] for e in examples]
        parts.append(_table_html(head, ex_rows, text_cols=len(head)))
    if data.get("notes"):
        parts.append('<ul class="note">' + "".join(f"<li>{html.escape(n)}</li>" for n in data["notes"]) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def page(data: dict, examples: list[dict] = (), title: str = "dataforge eval", body: str | None = None,
         subtitle: str = "") -> str:
    """A self-contained HTML file (plotly.js inline, no requests) around `body` (default: the eval section)."""
    from plotly.offline import get_plotlyjs

    if body is None:
        body = section(data, examples)
        subtitle = subtitle or f"{data['model']} · {', '.join(data['data'])}"
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style><script>{get_plotlyjs()}</script></head><body>"
            f"<header><h1>{html.escape(title)}</h1><div class='sub'>{html.escape(subtitle)}</div></header>"
            f"<main>{body}</main></body></html>")
