"""The terminal summary: the few findings worth reading before opening the page."""

from __future__ import annotations

from dataforge.quality.findings import SEVERITIES

STYLES = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def summary_lines(report: dict, top: int = 8) -> list[tuple[str, str]]:
    """(severity, one line) for the worst `top` findings, info last and only if room remains."""
    rows = report["rows"]
    lines = [("info", f"{rows['read']:,} rows read, {rows['usable']:,} usable, {rows['rejected']:,} rejected"
                      f" ({report['input']['kind']} data, {report['input']['shape']})")]
    problems = [f for f in report["findings"] if f["severity"] != "info"]
    for f in problems[:top]:
        ids = f" e.g. {', '.join(f['examples'][:2])}" if f["examples"] else ""
        lines.append((f["severity"], f"{f['title']}{ids}"))
    if len(problems) > top:
        lines.append(("info", f"... and {len(problems) - top} more in the report"))
    if not problems:
        lines.append(("info", "no problems found"))
    dup = report.get("duplicates")
    if dup and "dedup" in dup:  # so report and `dataforge dedup` can be checked against each other
        lines.append(("info", dup["dedup"]["line"]))
    lang = report.get("languages")
    if lang:
        lines.append(("info", "languages: " + lang["method"]))
    comp = report.get("compare")
    if comp:
        lines.append(("info", f"compared with {comp['labels']['b']}: {comp['better']} measures better,"
                              f" {comp['worse']} worse"))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(lines[:1], key=lambda x: order[x[0]]) + lines[1:]


def print_summary(report: dict, console=None, top: int = 8) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = console or Console()
    for severity, text in summary_lines(report, top):
        tag = f"[{STYLES[severity]}]{severity:>6}[/]" if severity != "info" else "      "
        console.print(f"{tag}  {escape(text)}", highlight=False, markup=True)
