"""Dataset quality reports: `build_report`, `write_html`, `compare_reports`.

Imports are lazy so that `import dataforge.quality.languages` (done by the
language-detection worker processes) stays cheap.
"""

from __future__ import annotations

__all__ = ["build_report", "write_html", "render_html", "compare_reports", "summary_lines"]


def __getattr__(name: str):
    if name == "build_report":
        from dataforge.quality.report import build_report

        return build_report
    if name in ("write_html", "render_html"):
        from dataforge.quality import html

        return getattr(html, name)
    if name == "compare_reports":
        from dataforge.quality.compare import compare_reports

        return compare_reports
    if name == "summary_lines":
        from dataforge.quality.terminal import summary_lines

        return summary_lines
    raise AttributeError(name)
