"""Markdown, HTML and PDF files as passages: text extraction and splitting by headings and length.

- Markdown is parsed with markdown-it-py (CommonMark: ATX and setext headings,
  nothing inside code blocks counts as a heading); a YAML front matter block is
  skipped.
- HTML goes through trafilatura, which drops navigation, headers, footers,
  scripts, cookie banners and other boilerplate and returns the main text as
  Markdown (h1-h6 become `#` headings), which is then split like Markdown.
- PDF text comes from pypdf, page by page; each page is a section.

A section runs from one heading to the next, with its heading path (the
enclosing headings); a heading with no text under it joins the next section.
Sections over `max_chars` are cut at paragraph, line, sentence or word ends
(`split_long`, which sources.py uses too). Every passage says where it came from: `position` =
{file, headings, line or page, start, end}. Text is stored with LF newlines (CRLF and CR become LF);
start/end are character offsets into the Markdown file as Python reads it
(`open(path, encoding="utf-8").read()`: universal newlines, a BOM counting as one
character), into the extracted HTML text, or into the page's extracted text; `line`
is the line the passage (or the part of a long section) starts on. Headings are
plain text (link and emphasis markup dropped). A file
that cannot be read (a damaged PDF, binary bytes in a `.md`) raises
`Unreadable` with the reason, for the rejects file.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

KINDS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".pdf": "pdf"}


class Unreadable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Section:
    text: str
    where: str  # file:line (Markdown), file:page N (PDF), file:section N (HTML)
    position: dict


def kind_of(path) -> str | None:
    return KINDS.get(Path(path).suffix.lower())


def _text_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read the file ({exc.strerror})") from None
    if b"\x00" in data[:65536]:
        raise Unreadable(f"not a text file: binary content in a {path.suffix or 'suffix-less'} file")
    return data


def read_text_file(path: Path) -> str:
    """UTF-8 text (a BOM dropped, bad bytes replaced, CRLF and CR made LF); a file with NUL bytes is binary."""
    return _newlines(_text_bytes(path).decode("utf-8-sig", errors="replace"))


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def extract_html(path: Path) -> str:
    """The main text of an HTML page as Markdown, boilerplate removed."""
    data = _text_bytes(path)  # bytes: trafilatura finds the page's encoding (<meta charset>, detection)
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.ERROR)  # its warnings are not the user's business
    out = trafilatura.extract(data, output_format="markdown", include_formatting=True, include_tables=True,
                              include_comments=False, include_links=False, include_images=False, favor_recall=True)
    if not out or not out.strip():
        raise Unreadable("no text found in the HTML page")
    return out


def extract_pdf(path: Path) -> list[str]:
    """The text of each page of a PDF."""
    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except Unreadable:
        raise
    except Exception as exc:  # a damaged file can fail anywhere inside pypdf, with any exception type
        raise Unreadable(f"cannot read the PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not any(p.strip() for p in pages):
        raise Unreadable("no text in the PDF (scanned pages need OCR first)")
    return pages


def sections(path: Path, max_chars: int) -> list[Section]:
    """The passages of a Markdown, HTML or PDF file, by headings (pages) and length."""
    kind = kind_of(path)
    if kind == "pdf":
        out = []
        for number, page in enumerate(extract_pdf(path), 1):
            out += _parts(page, 0, len(page), f"{path}:page {number}",
                          {"file": str(path), "headings": [], "page": number}, max_chars)
        return out
    if kind == "html":
        found = markdown_sections(extract_html(path), path, max_chars)
        for k, section in enumerate(found, 1):  # offsets are into the extracted text, not into the HTML
            section.where = f"{path}:section {k}"
            section.position.pop("line", None)
        return found
    data = _text_bytes(path)
    bom = 1 if data.startswith(b"\xef\xbb\xbf") else 0  # one character of the file as Python reads it
    return markdown_sections(_newlines(data[3 * bom:].decode("utf-8", errors="replace")), path, max_chars, bom)


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(---|\.\.\.)[ \t]*(\n|\Z)", re.DOTALL)


def _plain(inline) -> str:
    """A heading's text without its markup: links and emphasis as their words, images as their alt text."""
    if inline is None or inline.type != "inline":
        return ""
    if not inline.children:
        return inline.content
    return "".join(" " if c.type in ("softbreak", "hardbreak") else c.content for c in inline.children
                   if c.type in ("text", "code_inline", "image", "softbreak", "hardbreak"))


def markdown_sections(text: str, path, max_chars: int, offset: int = 0) -> list[Section]:
    """Sections of Markdown `text` (newlines already LF); offsets are into it, plus `offset` (a BOM)."""
    from markdown_it import MarkdownIt

    front = _FRONT_MATTER.match(text)
    skip = front.end() if front else 0
    body = text[skip:]
    front_lines = text.count("\n", 0, skip)

    def line_of(at: int) -> int:
        return body.count("\n", 0, at) + 1 + front_lines
    line_starts = [0]
    for line in body.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    tokens = MarkdownIt("commonmark").parse(body)
    heads = []  # (start line, end line, level, title)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            title = _plain(tokens[i + 1] if i + 1 < len(tokens) else None)
            heads.append((tok.map[0], tok.map[1], int(tok.tag[1]), " ".join(title.split())))
    out: list[Section] = []
    stack: list[tuple[int, str]] = []
    bounds = [(0, None)] + [(h[0], h) for h in heads]
    carry = None  # start line of heading-only sections waiting for text
    for n, (first, head) in enumerate(bounds):
        end_line = bounds[n + 1][0] if n + 1 < len(bounds) else len(line_starts) - 1
        if head is not None:
            level = head[2]
            stack = [s for s in stack if s[0] < level] + [(level, head[3])]
        start_line = first if carry is None else carry
        content_from = head[1] if head is not None else first
        has_body = body[line_starts[min(content_from, len(line_starts) - 1)]:line_starts[end_line]].strip()
        if not has_body:
            if head is not None:
                carry = start_line
            continue
        carry = None
        a, b = line_starts[start_line], line_starts[end_line]
        position = {"file": str(path), "headings": [t for _, t in stack] if head is not None else []}
        out += _parts(body, a, b, str(path), position, max_chars, base=skip + offset, line_of=line_of)
    if carry is not None and not out:  # only headings: they are the text
        a = line_starts[carry]
        out += _parts(body, a, len(body), str(path), {"file": str(path), "headings": [t for _, t in stack]},
                      max_chars, base=skip + offset, line_of=line_of)
    return out


def split_long(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, each cut at the last paragraph break, line end,
    sentence end or space in its second half (mid-word only when there is none)."""
    parts = []
    while len(text) > limit:
        window = text[:limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", ". ", "? ", "! ", "。", " "):
            at = window.rfind(sep, limit // 2)
            if at >= 0:
                cut = at + len(sep)
                break
        cut = cut if 0 < cut <= limit else limit
        parts.append(text[:cut].strip())
        text = text[cut:].strip()
    return [p for p in parts + [text] if p]


def _parts(text: str, a: int, b: int, where: str, position: dict, max_chars: int, base: int = 0,
           line_of=None) -> list[Section]:
    """text[a:b], stripped, as one section or (over max_chars) several, each with its offsets; with
    `line_of` (Markdown), each part says the line it starts on: FILE:LINE, or FILE:LINE#K for part K."""
    chunk = text[a:b]
    stripped = chunk.strip()
    if not stripped:
        return []
    a += len(chunk) - len(chunk.lstrip())
    pieces = [stripped] if len(stripped) <= max_chars else split_long(stripped, max_chars)
    out, cursor = [], 0
    for k, piece in enumerate(pieces, 1):
        at = stripped.find(piece, cursor)
        at = cursor if at < 0 else at
        cursor = at + len(piece)
        start = base + a + at
        extra = {}
        here = where
        if line_of is not None:
            extra["line"] = line_of(a + at)
            here = f"{where}:{extra['line']}"
        out.append(Section(piece, here if len(pieces) == 1 else f"{here}#{k}",
                           {**position, **extra, "start": start, "end": start + len(piece)}))
    return out
