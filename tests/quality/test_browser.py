"""The HTML report renders in headless Chromium: no console errors, every plot drawn, no network.

Chromium comes from `tests/setup_system_deps.sh` (run by `make test`); without it
these tests fail rather than skip, so a missing browser cannot pass unnoticed.
The screenshot is decoded and each figure's plot area must hold coloured trace
pixels (a page whose plots are empty or hidden still makes a large PNG). It is
kept under the test's tmp folder (its path is printed) so a person can look at
it; bench/bench_report.py takes one of the 1M-row report too.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import struct
import subprocess
import zlib
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


def run_chromium(tmp_path: Path, page: Path, *mode: str, size: str = "1280,2200") -> subprocess.CompletedProcess:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
           "--host-resolver-rules=MAP * ~NOTFOUND",  # any request off the machine fails loudly
           "--virtual-time-budget=10000", f"--window-size={size}", "--hide-scrollbars", *mode, page.as_uri()]
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


# Appended to a copy of the page: once plotly has drawn, write where each figure and its plot
# areas (plotly's .nsewdrag rectangles) sit, in CSS pixels, into the DOM that --dump-dom prints.
_LAYOUT_JS = """<script>window.addEventListener('load', () => setTimeout(() => {
  const box = el => { const r = el.getBoundingClientRect();
                      return [r.x + scrollX, r.y + scrollY, r.width, r.height]; };
  const figures = [...document.querySelectorAll('.plotly-graph-div')].map(d => ({
    id: d.id, box: box(d), areas: [...d.querySelectorAll('.nsewdrag')].map(box)}));
  const pre = document.createElement('pre'); pre.id = 'df-layout';
  pre.textContent = JSON.stringify(figures); document.body.appendChild(pre); }, 500));</script>"""


def read_png(path: Path):
    """(height, width, 3) uint8 pixels of an 8-bit RGB(A), non-interlaced PNG: what Chromium writes.

    No image library is a dependency, so this undoes PNG's per-row filters itself. Each
    pixel's predictor needs its left, upper and upper-left neighbours; stored skewed as
    S[y + x, x] those lie on the two anti-diagonals before it, so one diagonal is one numpy step.
    """
    import numpy as np

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, head = 8, [], None
    while pos < len(data):
        (n,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body, pos = data[pos + 8:pos + 8 + n], pos + 12 + n
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    w, h, depth, color, _, _, interlace = head
    assert depth == 8 and color in (2, 6) and not interlace, f"unexpected PNG header {head}"
    bpp = 3 if color == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, 1 + w * bpp)
    ys, xs = np.mgrid[0:h, 0:w]
    diag = h + w + 1  # two zero diagonals first, and a zero column: PNG's border of zeros
    kinds = np.zeros((diag, w + 1, 1), np.int16)
    vals = np.zeros((diag, w + 1, bpp), np.int16)
    out = np.zeros((diag, w + 1, bpp), np.int16)
    kinds[ys + xs + 2, xs + 1, 0] = raw[:, 0:1]
    vals[ys + xs + 2, xs + 1] = raw[:, 1:].reshape(h, w, bpp)
    for d in range(2, diag):  # cells outside the image have filter 0 and value 0: they stay 0
        a, b, c = out[d - 1, :-1], out[d - 1, 1:], out[d - 2, :-1]  # left, up, upper-left
        p = a + b - c
        pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        f = kinds[d, 1:]
        pred = np.where(f == 1, a, np.where(f == 2, b, np.where(f == 3, (a + b) >> 1, np.where(f == 4, paeth, 0))))
        out[d, 1:] = (vals[d, 1:] + pred) & 255
    return out[ys + xs + 2, xs + 1, :3].astype(np.uint8)


def test_read_png_decodes_every_filter(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    pixels = (rng.integers(0, 256, (6, 5, 3)) // 64 * 64).astype(np.uint8)
    rows = []
    for y, kind in enumerate([0, 1, 2, 3, 4, 4]):  # None, Sub, Up, Average, Paeth, Paeth
        cur, up = pixels[y].astype(int).reshape(-1), (pixels[y - 1].astype(int).reshape(-1) if y else np.zeros(15, int))
        left = np.concatenate([[0, 0, 0], cur[:-3]])
        upleft = np.concatenate([[0, 0, 0], up[:-3]])
        p = left + up - upleft
        paeth = np.where((abs(p - left) <= abs(p - up)) & (abs(p - left) <= abs(p - upleft)), left,
                         np.where(abs(p - up) <= abs(p - upleft), up, upleft))
        pred = [0 * cur, left, up, (left + up) // 2, paeth][kind]
        rows.append(bytes([kind]) + bytes(((cur - pred) % 256).tolist()))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = tmp_path / "t.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 6, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    assert (read_png(png) == pixels).all()


def test_screenshot_shows_every_plot_with_its_traces(pages):
    """What a person sees: every figure drawn inside the screenshot with coloured traces in its plot area."""
    import numpy as np

    tmp, out = pages
    probe = tmp / "compare-probe.html"
    probe.write_text(out["compare"].read_text().replace("</body>", _LAYOUT_JS + "</body>"))
    png = tmp / "report.png"
    # half resolution: the whole 9000 px tall page in a PNG small enough to decode in about a second
    res = run_chromium(tmp, probe, "--dump-dom", f"--screenshot={png}", "--force-device-scale-factor=0.5",
                       size="1280,9000")
    assert res.returncode == 0, res.stderr[-2000:]
    print(f"screenshot: {png}")
    layout = re.search(r'<pre id="df-layout">(.*?)</pre>', res.stdout, re.S)
    assert layout, "the layout probe did not run"
    figures = json.loads(html_lib.unescape(layout.group(1)))
    pixels = read_png(png).astype(int)
    height, width, _ = pixels.shape
    scale = width / 1280
    assert width == 640 and height == 4500
    packed = (pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2]
    assert len(np.unique(packed)) > 500, "the screenshot is nearly uniform"
    assert len(figures) >= 9
    blank = []
    for fig in figures:
        x, y, w, h = (round(v * scale) for v in fig["box"])
        assert y + h <= height, f"{fig['id']} is below the screenshot: raise its window height"
        assert fig["areas"], f"{fig['id']} has no plot area: not drawn"
        for ax, ay, aw, ah in fig["areas"]:
            area = pixels[round(ay * scale):round((ay + ah) * scale), round(ax * scale):round((ax + aw) * scale)]
            # traces are coloured; background, grid lines, axes and text are grey
            coloured = (area.max(-1) - area.min(-1)) > 60
            if coloured.sum() < 20:
                blank.append(f"{fig['id']}: {coloured.sum()} coloured pixels in its plot area")
    assert blank == [], "plots without visible traces:\n" + "\n".join(blank)
