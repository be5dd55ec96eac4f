"""Markdown, HTML and PDF documents in `synth qa` and `synth backtranslate`: passages by headings (pages)
and length, with their source and position; bad files are rejects, never tracebacks."""

from __future__ import annotations

from pathlib import Path

from synth_helpers import ROOT, read_jsonl

from dataforge.io import RejectSink
from dataforge.synth.documents import extract_html, extract_pdf
from dataforge.synth.sources import MAX_PASSAGE_CHARS, read_documents

DOCS = ROOT / "tests" / "realdata" / "documents"
MD, HTML, PDF = DOCS / "fastchat_openai_api.md", DOCS / "fastchat_arena.html", DOCS / "alpaca_readme.pdf"


def read(path, tmp_path, split="auto", min_words=1):
    sink = RejectSink(tmp_path / "r.jsonl")
    docs = list(read_documents([str(path)], rejects=sink, split=split, min_words=min_words))
    sink.close()
    rejects = read_jsonl(tmp_path / "r.jsonl") if sink.count else []
    return docs, rejects


def test_markdown_passages_follow_headings_with_offsets_into_the_file(tmp_path):
    docs, rejects = read(MD, tmp_path)
    text = MD.read_text(encoding="utf-8")
    assert not rejects
    assert [d.text for d in docs] == [text[d.position["start"]:d.position["end"]] for d in docs]
    curl = next(d for d in docs if d.text.startswith("### cURL"))
    assert curl.position["headings"] == ["OpenAI-Compatible RESTful APIs", "RESTful API Server", "cURL"]
    assert curl.source == f"{MD}:{curl.position['line']}" and text.splitlines()[curl.position["line"] - 1] == \
        "### cURL"
    # a heading with nothing under it opens the next section instead of being a passage of its own
    timeout = next(d for d in docs if "### Timeout" in d.text)
    assert timeout.text.startswith("## Adjusting Environment Variables\n\n### Timeout")
    assert timeout.position["headings"][-2:] == ["Adjusting Environment Variables", "Timeout"]
    assert "```bash" in next(d for d in docs if d.text.startswith("## RESTful API Server")).text  # code kept


def test_html_keeps_the_article_and_drops_navigation_footer_scripts(tmp_path):
    docs, rejects = read(HTML, tmp_path)
    assert not rejects and len(docs) == 7
    joined = "\n".join(d.text for d in docs)
    for boilerplate in ("Privacy policy", "Copyright 2023", "cookies", "dataLayer", "Blog", "Training"):
        assert boilerplate not in joined
    assert docs[0].text.startswith("# Chatbot Arena\n\nChatbot Arena is an LLM benchmark platform")
    assert docs[3].position["headings"] == ["Chatbot Arena", "How to add a new model", "Method 2: Hosted by LMSYS"]
    extracted = extract_html(HTML)
    assert all(extracted[d.position["start"]:d.position["end"]] == d.text for d in docs)
    assert [d.source for d in docs] == [f"{HTML}:section {k}" for k in range(1, 8)]


def test_pdf_passages_are_pages(tmp_path):
    docs, rejects = read(PDF, tmp_path)
    assert not rejects
    assert [(d.source, d.position["page"]) for d in docs] == [(f"{PDF}:page 1", 1), (f"{PDF}:page 2", 2)]
    assert "The current Alpaca model is fine-tuned from a 7B LLaMA model" in " ".join(docs[0].text.split())
    assert docs[1].text == extract_pdf(PDF)[1].strip()


def test_long_section_is_cut_with_exact_offsets(tmp_path):
    sentence = "Harbour cranes lift containers from the ships onto waiting trucks every morning. "
    md = tmp_path / "long.md"
    md.write_text("# Port\n\n" + sentence * 200 + "\n\n## Short\n\nA short closing section about the port.\n")
    docs, _ = read(md, tmp_path)
    text = md.read_text()
    assert len(docs) == 4  # 16,000+ characters -> 3 parts, then the short section
    assert all(len(d.text) <= MAX_PASSAGE_CHARS for d in docs)
    # each part names the line it starts on (the sentences are all on line 3)
    assert [d.source for d in docs[:3]] == [f"{md}:1#1", f"{md}:3#2", f"{md}:3#3"]
    assert [d.position["line"] for d in docs[:3]] == [1, 3, 3]
    assert all(text[d.position["start"]:d.position["end"]] == d.text for d in docs)
    assert docs[3].position["headings"] == ["Port", "Short"]


def test_paragraph_split_still_reads_markdown_by_blank_lines(tmp_path):
    docs, _ = read(MD, tmp_path, split="paragraph")
    assert docs[0].text == "# OpenAI-Compatible RESTful APIs" and docs[0].position is None


def bad_files(folder: Path) -> Path:
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(PDF.read_bytes()[:400])  # cut off: no pages, no xref
    (folder / "garbage.pdf").write_bytes(b"this is not a PDF at all\n" * 20)
    (folder / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "empty.html").write_text("<html><head><title>x</title><script>var a = 1;</script></head><body></body></html>")
    return folder


def test_bad_files_are_rejects_with_reasons_and_good_ones_still_used(serve, synth, tmp_path):
    folder = bad_files(tmp_path / "in")
    (folder / "good.md").write_text(MD.read_text(encoding="utf-8"), encoding="utf-8")
    srv = serve()
    out = tmp_path / "qa.jsonl"
    res = synth(srv, "qa", folder, "-o", out, "--per-passage", "1", "--min-words", "5")
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    by_file = {Path(r["file"]).name: r["reason"] for r in read_jsonl(f"{out}.rejects.jsonl") if "file" in r}
    assert by_file["broken.pdf"].startswith("cannot read the PDF")
    assert by_file["garbage.pdf"].startswith("cannot read the PDF")
    assert by_file["image.md"] == "not a text file: binary content in a .md file"
    assert by_file["empty.html"] == "no text found in the HTML page"
    rows = read_jsonl(out)
    assert rows and all(r["meta"]["position"]["file"].endswith("good.md") for r in rows)


def test_only_bad_files_is_one_error_line(serve, synth, tmp_path):
    folder = bad_files(tmp_path / "in")
    srv = serve()
    res = synth(srv, "backtranslate", folder, "-o", tmp_path / "bt.jsonl")
    assert res.exit_code == 1
    assert "Traceback" not in res.output and srv.log.total == 0
    errors = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: wrote no rows")
    assert "cannot read the PDF" in errors[0] and read_jsonl(tmp_path / "bt.jsonl") == []


def test_qa_and_backtranslate_on_real_documents_carry_position(serve, synth, tmp_path):
    srv = serve()
    out = tmp_path / "qa.jsonl"
    res = synth(srv, "qa", MD, HTML, PDF, "-o", out, "--per-passage", "1")
    assert res.exit_code == 0, res.output
    rows = read_jsonl(out)
    files = {Path(r["meta"]["position"]["file"]).name for r in rows}
    assert files == {"alpaca_readme.pdf", "fastchat_arena.html", "fastchat_openai_api.md"}
    md_row = next(r for r in rows if r["meta"]["position"]["file"].endswith(".md"))
    pos = md_row["meta"]["position"]
    assert md_row["context"] == MD.read_text(encoding="utf-8")[pos["start"]:pos["end"]]
    assert md_row["meta"]["source"] == f"{MD}:{pos['line']}"
    bt = tmp_path / "bt.jsonl"
    res = synth(srv, "backtranslate", PDF, "-o", bt)
    assert res.exit_code == 0, res.output
    assert sorted(r["meta"]["position"]["page"] for r in read_jsonl(bt)) == [1, 2]


def test_html_in_its_declared_encoding(tmp_path):
    page = tmp_path / "latin.html"
    page.write_bytes('<html><head><meta charset="iso-8859-1"></head><body><article><h1>Café</h1><p>Le café est '
                     'servi très chaud chaque matin dans la grande salle du château.</p></article></body></html>'
                     .encode("latin-1"))
    docs, rejects = read(page, tmp_path)
    assert not rejects
    assert docs[0].text == "# Café\n\nLe café est servi très chaud chaque matin dans la grande salle du château."
    assert docs[0].position["headings"] == ["Café"]


def test_bom_and_crlf_offsets_match_the_file_as_python_reads_it(tmp_path):
    # issue 16: a BOM shifted offsets by one; CRLF put "\r\n" into the stored passage
    body = "# Port\n\nCranes lift containers every morning.\n\n## Trucks\n\nTrucks wait by the gate.\n"
    for name, data in (("bom.md", b"\xef\xbb\xbf" + body.encode()), ("crlf.md", body.replace("\n", "\r\n").encode()),
                       ("both.md", b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode())):
        md = tmp_path / name
        md.write_bytes(data)
        docs, _ = read(md, tmp_path)
        text = md.read_text(encoding="utf-8")  # universal newlines, the BOM kept as a character
        assert [d.text for d in docs] == ["# Port\n\nCranes lift containers every morning.",
                                          "## Trucks\n\nTrucks wait by the gate."], name
        assert [text[d.position["start"]:d.position["end"]] for d in docs] == [d.text for d in docs], name
        assert [d.position["line"] for d in docs] == [1, 5], name


def test_heading_path_is_plain_text(tmp_path):
    md = tmp_path / "links.md"
    md.write_text("# Used by [Amazon](https://amazon.com) and *others*\n\n## The `vllm` ![logo](x.png) worker\n\n"
                  "Text under the heading.\n", encoding="utf-8")
    docs, _ = read(md, tmp_path)
    assert docs[0].position["headings"] == ["Used by Amazon and others", "The vllm logo worker"]
