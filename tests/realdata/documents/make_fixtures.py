"""Build the document fixtures from the mirrored public repositories (run from the repository root).

    python tests/realdata/documents/make_fixtures.py /work/.mirror

- fastchat_openai_api.md: FastChat's docs/openai_api.md, copied unedited.
- fastchat_arena.html: FastChat's docs/arena.md rendered to HTML with markdown-it-py, inside a page with
  the boilerplate a real site has (navigation, header, footer, cookie banner, scripts): no real HTML
  page with prose is in the mirrors, so this one is built; its text is the real document's.
- alpaca_readme.pdf: the "Overview" and "Data Generation Process" sections of Stanford Alpaca's
  README.md as plain text on two pages of a PDF written here byte by byte (Helvetica, PDF 1.4; no
  PDF writer library is installed).
"""

from __future__ import annotations

import html
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent


def show(mirror: Path, repo: str, path: str) -> str:
    return subprocess.run(["git", f"--git-dir={mirror / repo / 'repo'}", "show", f"HEAD:{path}"], check=True,
                          capture_output=True, text=True).stdout


def page_html(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} - FastChat docs</title>
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
<style>body {{ font-family: sans-serif; }}</style></head>
<body>
<header class="site-header"><a class="logo" href="/">FastChat</a>
<nav><ul><li><a href="/">Home</a></li><li><a href="/docs">Docs</a></li><li><a href="/blog">Blog</a></li>
<li><a href="https://github.com/lm-sys/FastChat">GitHub</a></li></ul></nav></header>
<div class="layout"><aside class="sidebar"><nav><ul><li><a href="/docs/openai_api">OpenAI API</a></li>
<li><a href="/docs/arena">Chatbot Arena</a></li><li><a href="/docs/training">Training</a></li></ul></nav></aside>
<main><article>
{body}
</article></main></div>
<footer class="site-footer"><p>Copyright 2023 LMSYS. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> | <a href="/terms">Terms of use</a></p></footer>
<div id="cookie-banner" class="cookie">We use cookies to improve your experience. <button>Accept</button></div>
<script src="/assets/analytics.js"></script>
</body></html>
"""


def pdf_bytes(pages: list[list[str]]) -> bytes:
    """A minimal PDF: one Helvetica text stream per page."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        ops = ["BT", "/F1 10 Tf", "14 TL", "50 790 Td"]
        for line in lines:
            safe = line.encode("latin-1", "replace").decode("latin-1")
            safe = safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({safe}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode('latin-1')}\nendstream")
        content = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R "
                       "/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(len(objects))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def section(markdown: str, title: str) -> str:
    start = markdown.index(f"## {title}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start:end if end > 0 else len(markdown)]


def main(mirror: Path) -> None:
    from markdown_it import MarkdownIt

    (HERE / "fastchat_openai_api.md").write_text(show(mirror, "lm-sys+FastChat", "docs/openai_api.md"),
                                                 encoding="utf-8")
    arena = show(mirror, "lm-sys+FastChat", "docs/arena.md")
    (HERE / "fastchat_arena.html").write_text(page_html("Chatbot Arena", MarkdownIt("commonmark").render(arena)),
                                              encoding="utf-8")
    readme = show(mirror, "tatsu-lab+stanford_alpaca", "README.md")
    pages = []
    for title in ("Overview", "Data Generation Process"):
        lines = []
        for para in section(readme, title).split("\n\n"):
            text = " ".join(para.replace("**", "").split())
            lines += textwrap.wrap(text, 95) + [""]
        pages.append(lines[:54])
    (HERE / "alpaca_readme.pdf").write_bytes(pdf_bytes(pages))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror"))
