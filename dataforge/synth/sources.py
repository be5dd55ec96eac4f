"""Inputs of the generators: instruction datasets and plain documents.

Documents (for backtranslate, qa, completion) come from text files (split
into paragraphs at blank lines, or per line / per file), from Markdown, HTML
and PDF files (`--split auto`/`section`: by headings or pages and length, see
`dataforge.synth.documents`), from folders of such files, or from any
dataset file with a text column (`--text-field`, default: the first of
text/content/document/passage/context/output/response). Unreadable rows and
rows without text go to the rejects file with their line number; unreadable
files (a damaged PDF, a binary file named .md) with the reason.
A paragraph over MAX_PASSAGE_CHARS is read per line, and any longer text is cut
into passages of at most that length (one request must not carry a whole book).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from dataforge.errors import InputError
from dataforge.io import RejectSink, read_dataset, resolve
from dataforge.io.rawread import iter_raw
from dataforge.io.rejects import Reject
from dataforge.records import content_id
from dataforge.synth import documents
from dataforge.synth.documents import split_long

TEXT_SUFFIXES = (".txt", ".md", ".text")
TEXT_FIELDS = ("text", "content", "document", "passage", "context", "output", "response")
SPLITS = ("auto", "section", "paragraph", "line", "file")  # auto: section for Markdown/HTML/PDF, else paragraph
# One document is one request's passage: a whole article (or a 1 MB .txt with no blank lines) would be a
# prompt no server takes. Longer text is cut at paragraph, line, sentence or word ends into pieces this long.
MAX_PASSAGE_CHARS = 6000


@dataclass(slots=True)
class Document:
    text: str
    id: str
    source: str  # file:paragraph or file:line
    position: dict | None = None  # Markdown/HTML/PDF passages: file, headings, page, start, end


DOCUMENT_SUFFIXES = ".md, .markdown, .html, .htm, .pdf, .txt, .text"


def own_files(out) -> list[str]:
    """The files a run writing `out` creates (output, rejects, journal): never inputs of that run, so an
    output inside an input folder can be resumed."""
    if out is None:
        return []
    from dataforge.io import rejects_path_for
    from dataforge.llm import journal_path_for

    return [str(out), str(rejects_path_for(out)), str(journal_path_for(out))]


def input_files(paths, out=None) -> list[str]:
    """The paths the document reader will read (a folder as its files), for the output safety check."""
    paths = paths if isinstance(paths, (list, tuple)) else [paths]
    return [str(path) for path, why in _expand(paths, own_files(out)) if why is None]


def read_documents(paths, *, rejects: RejectSink, text_field: str | None = None, split: str = "paragraph",
                   min_words: int = 1, out=None) -> Iterator[Document]:
    """Documents from text files or dataset files, in order; too-short ones are rejected. `out`: the
    output of the run, whose own files a folder read leaves out."""
    if split not in SPLITS:
        raise InputError(f"unknown --split '{split}'", f"use one of: {', '.join(SPLITS)}")
    paths = paths if isinstance(paths, (list, tuple)) else [paths]
    seen: set[str] = set()
    for path, why in _expand(paths, own_files(out)):
        if why is not None:  # a file of a folder that is not read: a reject, so every file is accounted for
            rejects.add(Reject(why, file=str(path)))
            continue
        if str(path).endswith(TEXT_SUFFIXES) or documents.kind_of(path):
            pieces = _file_pieces(Path(path), split, rejects)
        else:
            pieces = ((where, text, None) for where, text in _dataset_pieces(path, text_field, rejects))
        for where, text, position in _capped(pieces):
            if len(text.split()) < min_words and len(text) < 4 * min_words:
                rejects.add(Reject(f"document too short: fewer than {min_words} words", **_file_line(where),
                                   row=text))
                continue
            doc_id = content_id("doc", text)
            if doc_id in seen:
                rejects.add(Reject("duplicate document (same text seen before)", **_file_line(where), id=doc_id))
                continue
            seen.add(doc_id)
            yield Document(text, doc_id, where, position)


def _file_line(where: str) -> dict:
    """"x.md:12" and "x.md:12#2" -> file x.md, line 12, as other rejects; "x.pdf:page 2" stays whole."""
    match = re.fullmatch(r"(.+):(\d+)(?:#\d+)?", where)
    return {"file": match.group(1), "line": int(match.group(2))} if match else {"file": where}


def _is_document(path: Path) -> bool:
    return path.name.endswith(TEXT_SUFFIXES) or documents.kind_of(path) is not None


def _expand(paths, own=()) -> Iterator[tuple]:
    """(path, None) for each path to read, (path, why) for a file of a folder that is not read.

    A folder holding text, Markdown, HTML or PDF files is those files, in name order (hidden files and
    folders left out, its other files each with the reason); another folder is its data files. The
    run's own files (`own`: output, rejects, journal) are never read."""
    from dataforge.io.files import type_from_name

    mine = [os.path.realpath(p) for p in own]  # output, rejects, journal
    journal = next((p for p in mine if p.endswith(".journal.sqlite")), None)
    # a data file named by -o is skipped only when its journal shows an earlier run of this command wrote it:
    # a user's dataset named by mistake stays an input, and the safety check refuses to overwrite it
    written = mine if journal is not None and os.path.exists(journal) else mine[1:]

    def ours(p, among) -> bool:  # the journal comes with -wal, -shm and .lock files; a folder output with shards
        real = os.path.realpath(p)
        return any(real == m or real.startswith(m + os.sep) for m in among) or \
            (journal is not None and journal in among and real.startswith(journal))

    for path in paths:
        folder = Path(path)
        if not folder.is_dir():
            if folder.is_file() and not _is_document(folder) and type_from_name(folder) is None:
                raise InputError(f"{path}: unsupported file type '{folder.suffix or folder.name}'",
                                 f"read documents ({DOCUMENT_SUFFIXES}) or a dataset file with a text column "
                                 "(.jsonl, .json, .parquet, .csv), or a folder of them")
            yield path, None
            continue
        files = sorted(p for p in folder.rglob("*") if p.is_file()
                       and not any(part.startswith(".") for part in p.relative_to(folder).parts))
        if any(_is_document(p) for p in files):
            for p in files:  # documents are read (and so checked against -o); the run's own files left out
                if _is_document(p):
                    yield p, None
                elif not ours(p, mine):
                    yield p, (f"not read: a {p.suffix or 'suffix-less'} file in a folder of documents (read: "
                              f"{DOCUMENT_SUFFIXES}; pass a dataset file on its own to read its text column)")
            continue
        try:
            listed = resolve(str(path))
        except InputError as exc:
            if "holds no data files" not in exc.message:
                raise
            listed = []
        if len(listed) == 1 and listed[0].type == "hf":
            yield path, None  # a saved datasets folder is read as a whole
            continue
        data = [df.path for df in listed if not ours(df.path, written)]
        if not data:  # nothing but this run's own files (or nothing at all): never read those back
            raise InputError(f"{path}: the folder holds no documents or data files",
                             f"expected documents ({DOCUMENT_SUFFIXES}) or dataset files with a text column "
                             "(.jsonl, .json, .parquet, .csv)")
        yield from ((d, None) for d in data)


def _capped(pieces):
    """Each piece, stripped; one longer than MAX_PASSAGE_CHARS as parts WHERE#1, WHERE#2, ..."""
    for where, text, position in pieces:
        text = text.strip()
        if len(text) <= MAX_PASSAGE_CHARS:
            yield where, text, position
            continue
        for k, part in enumerate(split_long(text, MAX_PASSAGE_CHARS), 1):
            yield f"{where}#{k}", part, None


def _file_pieces(path: Path, split: str, rejects: RejectSink):
    """(where, text, position) of a text, Markdown, HTML or PDF file; an unreadable file is one reject."""
    if not path.exists():
        raise InputError(f"{path}: no such file", "check the path")
    kind = documents.kind_of(path)
    try:
        if kind is not None and split in ("auto", "section"):
            for section in documents.sections(path, MAX_PASSAGE_CHARS):
                yield section.where, section.text, section.position
            return
        if kind == "pdf":
            text = "\n\n".join(documents.extract_pdf(path))
        elif kind == "html":
            text = documents.extract_html(path)
        else:
            text = documents.read_text_file(path)
    except documents.Unreadable as exc:
        rejects.add(Reject(exc.reason, file=str(path)))
        return
    for where, piece in _text_pieces(path, text, split):
        yield where, piece, None


def _text_pieces(path: Path, text: str, split: str) -> Iterator[tuple[str, str]]:
    if split == "file":
        yield f"{path}", text
    elif split == "line":
        for i, line in enumerate(text.splitlines(), 1):
            if line.strip():
                yield f"{path}:{i}", line
    else:
        line = 1
        for block in re.split(r"(\n\s*\n)", text):
            if block.strip() and not re.fullmatch(r"\n\s*\n", block):
                start = line + len(block) - len(block.lstrip(chr(10)))
                if len(block) <= MAX_PASSAGE_CHARS:
                    yield f"{path}:{start}", " ".join(block.split())
                else:  # a long block (a file with no blank lines): one document per line, as other readers
                    for i, row in enumerate(block.lstrip("\n").splitlines()):
                        if row.strip():
                            yield f"{path}:{start + i}", " ".join(row.split())
            line += block.count("\n")


def _dataset_pieces(path, text_field: str | None, rejects: RejectSink) -> Iterator[tuple[str, str]]:
    for df in resolve(path):
        name = str(df.path)
        chosen = text_field
        for line, obj in iter_raw(df):
            if isinstance(obj, Reject):
                rejects.add(obj)
                continue
            if chosen is None:
                chosen = next((f for f in TEXT_FIELDS if isinstance(obj.get(f), str)), None)
                if chosen is None:
                    raise InputError(f"{name}: no text column found (columns: {', '.join(map(str, obj))})",
                                     "name it with --text-field COLUMN")
            value = obj.get(chosen)
            if not isinstance(value, str) or not value.strip():
                rejects.add(Reject(f"no text in field '{chosen}'", file=name, line=line, field=chosen, row=obj))
                continue
            yield f"{name}:{line}", value


@dataclass(slots=True)
class Prompt:
    instruction: str
    context: str
    id: str
    source: str = ""


PROMPT_FIELDS = ("instruction", "prompt", "question", "query")


def read_instructions(paths, *, rejects: RejectSink, mapping=None, fmt: str | None = None) -> Iterator[Prompt]:
    """Instructions (with context) from any dataset shape, or from a file with just an instruction column.

    Outputs are not needed; preference data gives its prompts. Rows with an
    empty instruction are rejected.
    """
    try:
        ds = read_dataset(paths, mapping=mapping, fmt=fmt, rejects=rejects, require_text=False)
    except InputError as exc:
        if "cannot tell what kind of data" not in exc.message:
            raise
        yield from _bare_instructions(paths, rejects, fmt)
        return
    for record in ds:
        instruction = getattr(record, "instruction", None)
        if instruction is None:  # a multi-turn conversation: its first user turn
            instruction = next((m["content"] for m in record.messages if m["role"] == "user"), "")
        if not instruction.strip():
            rejects.add(Reject("empty instruction", field="instruction", id=record.id, row=record.to_dict()))
            continue
        yield Prompt(instruction.strip(), (getattr(record, "context", "") or "").strip(), record.id)


def _bare_instructions(paths, rejects: RejectSink, fmt: str | None) -> Iterator[Prompt]:
    for df in resolve(paths, fmt):
        name, column = str(df.path), None
        for line, obj in iter_raw(df):
            if isinstance(obj, Reject):
                rejects.add(obj)
                continue
            if column is None:
                column = next((f for f in PROMPT_FIELDS if f in obj), None)
                if column is None:
                    raise InputError(f"{name}: no instruction column (columns: {', '.join(map(str, obj))})",
                                     "name it with --map instruction=COLUMN")
            value = obj.get(column)
            if not isinstance(value, str) or not value.strip():
                rejects.add(Reject("empty instruction", file=name, line=line, field=column, row=obj))
                continue
            context = obj.get("context") or obj.get("input") or ""
            yield Prompt(value.strip(), context.strip() if isinstance(context, str) else "",
                         content_id("i", value.strip(), context), f"{name}:{line}")
