"""The HTML report renders in headless Chromium: no console errors, every plot drawn, no network.

Chromium comes from `tests/setup_system_deps.sh` (run by `make test`); without it
these tests fail rather than skip, so a missing browser cannot pass unnoticed.
The screenshot is kept under the test's tmp folder (its path is printed) so a
person can look at it; bench/bench_report.py takes one of the 1M-row report too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from quality_helpers import planted_rows, write_jsonl

from dataforge.cli.main import cli

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if exe is None:
        pytest.fail("Chromium is not installed: run `bash tests/setup_system_deps.sh` (needs root) or "
                    "`apt-get install chromium`; the report's rendering test needs a real browser")
    return exe


def run_chromium(tmp_path: Path, page: Path, *mode: str) -> subprocess.CompletedProcess:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
           "--host-resolver-rules=MAP * ~NOTFOUND",  # any request off the machine fails loudly
           "--virtual-time-budget=10000", "--window-size=1280,2200", "--hide-scrollbars", *mode, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.external: list[str] = []
        self.figures: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            if value and not value.startswith("#"):
                self.external.append(f"<{tag} {name}={value}>")
        if tag == "link":
            self.external.append("<link>")
        if "plotly-graph-div" in (attrs.get("class") or ""):
            self.figures.append(attrs["id"])


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    before = write_jsonl(tmp / "before.jsonl", planted_rows())
    after = write_jsonl(tmp / "after.jsonl", [r for r in planted_rows() if not r["id"].startswith("dup-")])
    out = {"compare": tmp / "compare.html", "preference": tmp / "preference.html"}
    for args in ([str(before), "--compare", str(after), "-o", str(out["compare"])],
                 [str(SAMPLE / "preference.jsonl"), "-o", str(out["preference"])]):
        res = CliRunner().invoke(cli, ["-q", "report", *args])
        assert res.exit_code == 0, res.output
    return tmp, out


@pytest.mark.parametrize("name, least", [("compare", 9), ("preference", 7)])
def test_renders_without_errors_and_draws_every_plot(pages, name, least):
    tmp, out = pages
    page = out[name]
    html = page.read_text()
    found = _Resources()
    found.feed(html)
    assert found.external == [], "the page must not load anything from elsewhere"
    assert "https://cdn" not in re.sub(r"<script>.*?</script>", "", html, flags=re.S)
    assert len(found.figures) >= least
    res = run_chromium(tmp, page, "--dump-dom")
    assert res.returncode == 0, res.stderr[-2000:]
    console = [line for line in res.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], "console messages:\n" + "\n".join(console)
    dom = res.stdout
    for fig in found.figures:  # plotly marks a drawn figure with js-plotly-plot and fills it with svg
        match = re.search(rf'<div id="{fig}" class="plotly-graph-div js-plotly-plot".*?class="main-svg"', dom,
                          flags=re.S)
        assert match, f"figure {fig} was not drawn"
    assert dom.count('class="main-svg"') >= len(found.figures)


def test_screenshot(pages):
    tmp, out = pages
    png = tmp / "report.png"
    res = run_chromium(tmp, out["compare"], f"--screenshot={png}")
    assert res.returncode == 0, res.stderr[-2000:]
    assert png.exists() and png.stat().st_size > 50_000  # a blank page is a few KB
    print(f"screenshot: {png}")
