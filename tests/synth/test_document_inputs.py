"""What a document run reads from a folder (issue 16): the files its reader reads, never the run's own output,
rejects or journal, so an output inside an input folder resumes; every other file of the folder is accounted
for in the rejects; a too-short passage's reject names file and line apart."""

from __future__ import annotations

from fake_model import fake_model
from synth_helpers import PASSAGE_WORDS, passages, read_jsonl, write_jsonl

DOC = f"# Harbour\n\n{PASSAGE_WORDS}.\n\n## Pier\n\n{PASSAGE_WORDS} (pier).\n"


def test_output_inside_a_document_folder_resumes(serve, synth, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(DOC, encoding="utf-8")
    (folder / "b.md").write_text(DOC.replace("Harbour", "Canal"), encoding="utf-8")
    asked = []
    srv = serve(lambda request: asked.append(1) or fake_model(request))
    out = folder / "qa.jsonl"
    first = synth(srv, "qa", folder, "-o", out)
    assert first.exit_code == 0, first.output
    rows = read_jsonl(out)
    sent = len(asked)
    second = synth(srv, "qa", folder, "-o", out)
    assert second.exit_code == 0, second.output  # was: "the output would overwrite the input"
    assert read_jsonl(out) == rows and len(asked) == sent  # all from the journal, nothing read back


def test_output_inside_a_dataset_folder_is_not_read_back(serve, synth, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [{"text": f"Report {i}: {PASSAGE_WORDS}."} for i in range(3)])
    out = folder / "out.jsonl"
    srv = serve()
    assert synth(srv, "qa", folder, "-o", out, "--per-passage", 1).exit_code == 0
    rows = read_jsonl(out)
    again = synth(srv, "qa", folder, "-o", out, "--per-passage", 1)
    assert again.exit_code == 0, again.output
    assert read_jsonl(out) == rows and len(rows) == 3  # its own rows (a "context" column) were not read back


def test_a_users_dataset_named_as_output_is_still_refused(synth, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("a", "b"):
        write_jsonl(folder / f"{name}.jsonl", [{"text": f"Report {name}: {PASSAGE_WORDS}."}])
    before = (folder / "a.jsonl").read_bytes()
    res = synth(None, "completion", folder, "-o", folder / "a.jsonl")
    assert res.exit_code == 1 and "would overwrite the input" in res.output
    assert (folder / "a.jsonl").read_bytes() == before


def test_output_over_a_document_of_the_folder_is_still_refused(synth, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(DOC, encoding="utf-8")
    res = synth(None, "completion", folder, "-o", folder / "a.md")
    assert res.exit_code == 1 and "would overwrite the input" in res.output
    assert (folder / "a.md").read_text(encoding="utf-8") == DOC


def test_unsupported_files_of_a_folder_are_rejects(synth, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(passages(2), encoding="utf-8")
    (folder / "blob.bin").write_bytes(b"\x00\x01binary")
    out = tmp_path / "c.jsonl"
    assert synth(None, "completion", folder, "-o", out).exit_code == 0
    rejects = read_jsonl(f"{out}.rejects.jsonl")
    assert [(r["file"], r["reason"]) for r in rejects] == [
        (str(folder / "blob.bin"), "not read: a .bin file in a folder of documents (read: .md, .markdown, .html, "
                                   ".htm, .pdf, .txt, .text; pass a dataset file on its own to read its text column)")]


def test_unsupported_file_hint_names_the_document_types(synth, tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x01binary")
    res = synth(None, "completion", blob, "-o", tmp_path / "c.jsonl")
    assert res.exit_code == 1
    assert f"error: {blob}: unsupported file type '.bin'" in res.output
    assert "hint: read documents (.md, .markdown, .html, .htm, .pdf, .txt, .text)" in res.output


def test_too_short_section_reject_has_file_and_line_apart(serve, synth, tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text(f"# Title\n\nToo short.\n\n## Long\n\n{PASSAGE_WORDS}.\n", encoding="utf-8")
    out = tmp_path / "qa.jsonl"
    assert synth(serve(), "qa", doc, "-o", out).exit_code == 0
    short = [r for r in read_jsonl(f"{out}.rejects.jsonl") if r["reason"].startswith("document too short")]
    assert [(r["file"], r["line"]) for r in short] == [(str(doc), 1)]


def test_folder_with_only_the_runs_own_files_is_an_error_not_read_back(serve, synth, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [{"text": f"Report {i}: {PASSAGE_WORDS}."} for i in range(3)])
    out = folder / "out.jsonl"
    srv = serve()
    assert synth(srv, "qa", folder, "-o", out, "--per-passage", 1).exit_code == 0
    (folder / "a.jsonl").unlink()  # only the output, its rejects and journal are left
    written = out.read_bytes()
    res = synth(srv, "qa", folder, "-o", out, "--per-passage", 1)
    assert res.exit_code == 1
    assert f"error: {folder}: the folder holds no documents or data files" in res.output
    assert "hint: expected documents (.md, .markdown, .html, .htm, .pdf, .txt, .text)" in res.output
    assert out.read_bytes() == written
