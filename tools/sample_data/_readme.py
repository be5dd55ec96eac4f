"""README.md for sample_data/, written by make_sample_data.py so its lists always match PLANTED.json."""

from __future__ import annotations

import collections
import json
import platform
from pathlib import Path


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1024:.0f} KiB"


def _ids(items) -> str:
    return ", ".join(" = ".join(x) if isinstance(x, list) else x for x in items)


def _toy_rows(here: Path) -> str:
    """Table rows for reverse_words/ (written by dataforge.tiny, not here): read from `here`, or from
    the committed sample_data/ when writing elsewhere, so the README is the same either way."""
    folder = here / "reverse_words"
    if not folder.is_dir():
        folder = Path(__file__).resolve().parents[2] / "sample_data" / "reverse_words"
    rows = []
    for name in ("train.jsonl", "heldout.jsonl"):
        path = folder / name
        n = len(path.read_text(encoding="utf-8").splitlines())
        rows.append(f"| `reverse_words/{name}` | {n:,} | {_size(path)} | generated: `python -m dataforge.tiny --task` |")
    return "\n".join(rows)


def build_readme(here: Path, planted: dict, raw_stats: dict) -> str:
    dolly = _rows(here / "dolly_en.jsonl")
    ml = _rows(here / "multilingual.jsonl")
    pref = _rows(here / "preference.jsonl")
    seeds = _rows(here / "seed_tasks.jsonl")
    ev = _rows(here / "eval.jsonl")
    raw_lines = (here / "raw_text.txt").read_text(encoding="utf-8").splitlines()
    cats = collections.Counter(r["category"] for r in dolly)
    langs = collections.Counter(r["lang"] for r in ml)
    elangs = collections.Counter(r["lang"] for r in ev)
    d, b, m, p = (planted[k] for k in ("dolly_en.jsonl", "bad_rows.jsonl", "multilingual.jsonl",
                                        "preference.jsonl"))
    edits = "\n".join(f"  - {i}: {what}" for i, what in sorted(d["near_duplicate_edits"].items()))
    why = "\n".join(f"  - line {n}: {w}" for n, w in b["why"].items())
    notes = "\n".join(f"  - line {n}: {w}" for n, w in b["notes"].items())
    fmt = lambda c: ", ".join(f"{k} {v}" for k, v in sorted(c.items()))  # noqa: E731
    return f"""# sample_data

Small, honest data for `make demo`, the tests and the benchmarks. This folder holds data only.
Every file (except the toy task in `reverse_words/`, described at the end, and
`translated_example.jsonl`, written by `tests/translate/make_example.py`) is written by
`tools/sample_data/make_sample_data.py` (deterministic, offline, seconds) from the hand-written
content in the `tools/sample_data/_content_*.py` modules plus rows derived from the Python standard
library. "Hand-written" means written directly into those modules by the author of
this folder (an AI coding assistant working on the project) with the facts checked; nothing was
downloaded or scraped, and no model was run to generate rows. Regenerate and verify with:

    .venv/bin/python tools/sample_data/make_sample_data.py            # rewrites every file below
    .venv/bin/python tools/sample_data/make_sample_data.py --check    # parses, counts, planted problems, runs code
    .venv/bin/python tools/sample_data/make_sample_data.py --out DIR  # writes into DIR (diff -r DIR sample_data)

`--check` also asserts there are no problems other than the planted ones: no unplanned exact or
near duplicates (word-3-gram Jaccard >= 0.5 over instruction+context+response), no unplanned
overlap with `eval.jsonl`, every ```python block in a response runs, and langdetect agrees with
every `lang` label of a multilingual output longer than 60 characters.

The committed files were generated with Python {platform.python_version()} (the docstrings come from
that interpreter; another version gives slightly different derived rows).

**Everything deliberately wrong is listed, machine-readably, in `PLANTED.json`**; the lists below
are generated from it. Tests should assert against PLANTED.json rather than copy ids.

## Files

| file | rows | size | source |
|---|---|---|---|
| `dolly_en.jsonl` | {len(dolly)} | {_size(here / "dolly_en.jsonl")} | hand-written + derived from stdlib docstrings + computed |
| `bad_rows.jsonl` | {len(b["bad_lines"]) + len(b["good_lines"])} lines | {_size(here / "bad_rows.jsonl")} | hand-written, written as raw bytes |
| `multilingual.jsonl` | {len(ml)} | {_size(here / "multilingual.jsonl")} | hand-written |
| `preference.jsonl` | {len(pref)} | {_size(here / "preference.jsonl")} | hand-written + derived from stdlib docstrings |
| `seed_tasks.jsonl` | {len(seeds)} | {_size(here / "seed_tasks.jsonl")} | hand-written |
| `raw_text.txt` | {len(raw_lines)} lines | {_size(here / "raw_text.txt")} | hand-written + stdlib docstring prose |
| `eval.jsonl` | {len(ev)} | {_size(here / "eval.jsonl")} | hand-written |
| `PLANTED.json` | | | manifest of the planted problems |
{_toy_rows(here)}

### dolly_en.jsonl
Dolly shape: `id` (`dolly-0001`...), `instruction`, `context`, `response`, `category`.
Categories: {fmt(cats)}.
- Hand-written general-knowledge rows (open_qa, general_qa, brainstorming, classification,
  creative_writing), checked by hand.
- closed_qa / information_extraction / summarization rows with a hand-written reference passage in
  `context` (one question per passage, so no two rows share a long passage).
- Coding rows whose responses contain fenced code blocks (```python, ```bash, ```sql); every
  ```python block is executed by `--check`.
- Derived offline from the standard library of the running Python: "What does `textwrap.dedent` do?"
  answered with the first paragraph of its docstring plus its signature; "Summarize the documentation
  of X" with the full docstring as context and its first sentence as the answer; "List the
  parameters of this signature" answered from `inspect.signature`. Docstrings are (c) the Python
  Software Foundation, used under the PSF License.
- Computed rows (days of the week, date differences, unit conversions, primes, binary/hex, GCD), correct by
  construction.

Deliberately wrong (all in PLANTED.json under `dolly_en.jsonl`):
- {len(d["exact_duplicates"])} exact duplicates (same instruction+context+response, new id), as `[kept_id, dup_id]`,
  the kept one always earlier in the file: {_ids(d["exact_duplicates"])}.
- {len(d["near_duplicates"])} near duplicates `[original_id, edited_id]`: {_ids(d["near_duplicates"])}. The edits
  (five of each kind; word-5-gram Jaccard stays >= 0.8; casing and punctuation edits become exact
  duplicates after lower-casing and stripping punctuation):
{edits}
- {len(d["eval_leaks"])} rows that leak `eval.jsonl` (same question, identical or lightly reworded, with a longer
  answer), as `[train_id, eval_id]`: {_ids(d["eval_leaks"])}.

### bad_rows.jsonl
Dolly-shaped rows, one problem per bad line; dataforge's reader keeps the good lines and rejects
exactly the bad ones (`--check` verifies this with `dataforge.io.read_dataset`).
- Bad lines {b["bad_lines"]}:
{why}
- Good lines {b["good_lines"]}, some with a harmless oddity the reader must accept:
{notes}

### multilingual.jsonl
dataforge instruction shape: `id` (`ml-001`...), `instruction`, `context`, `output`, `lang`, `category`.
Hand-written in each language (natural phrasing, checked for grammar and facts). Languages: {fmt(langs)}.
Deliberately wrong: {len(m["language_mismatch"])} rows whose output is in a different language from the
instruction and its `lang` label (one es->en, one fr->de, one de->es): {_ids(m["language_mismatch"])}.
Note: langdetect misreads a few very short, correct outputs (list-like answers such as
"Apfel: Obst..."); those are not planted errors, and `--check` prints them.

### preference.jsonl
dataforge preference shape: `id` (`pref-001`...), `instruction`, `context`, `chosen`, `rejected`, `lang`
(mostly en, a few es/fr/de). `chosen` is the better answer: the rejected one is wrong, vague, rude,
unsafe, off-topic or needlessly terse. Hand-written pairs plus pairs derived from stdlib docstrings
(chosen = the documented behaviour; rejected = a vague non-answer or another function's
description). Honest length bias: chosen is longer in most, not all, of the normal pairs.
Deliberately wrong (PLANTED.json under `preference.jsonl`):
- chosen identical to rejected: {_ids(p["identical"])}
- chosen nearly identical to rejected (one word or punctuation mark): {_ids(p["near_identical"])}
- an empty side (one empty `rejected`, one empty `chosen`): {_ids(p["empty"])}; dataforge's reader
  rejects these two rows.
- duplicated prompts (same instruction and context, different answer pairs): {_ids(p["duplicated_prompts"])}

### seed_tasks.jsonl
{len(seeds)} hand-written seed tasks for self-instruct (`instruction`, `context`, `output`, `category`, no id)
covering every Dolly category, with and without context, including code. Nothing planted.

### raw_text.txt
Plain UTF-8 prose, one paragraph per line, paragraphs separated by a blank line, for
self-supervised completion pairs and back-translation. {raw_stats["hand_written_paragraphs"]} hand-written paragraphs
(explanations of everyday topics, plus the reference passages used as `context` in dolly_en.jsonl),
then {raw_stats["docstring_paragraphs"]} prose paragraphs taken from module and class docstrings of the Python
standard library (PSF License), filtered to plain sentences (no code, markup or licence text).
Nothing planted.

### eval.jsonl
{len(ev)} held-out rows in the instruction shape with `lang` ({fmt(elangs)}) and short, exact answers
(a number, a name, a word), so exact match and ROUGE are meaningful. A few closed_qa rows carry a
short context. Ids `eval-001`.... Its only contamination is the planted leaks listed under
dolly_en.jsonl.

### reverse_words/ (the demo's toy task)
What `make demo` trains on: a task a tiny random model can learn in a few CPU minutes, so the demo's
before/after table shows a real gain on cases the model never saw. Dolly shape; each row is
`"Reverse the order of these three words: apple river stone"` -> `"stone river apple"`.
Generated, not hand-written: `python -m dataforge.tiny --task sample_data/reverse_words` draws three
distinct words from a fixed list of 141 common English words (`TOY_WORDS` in `dataforge/tiny.py`; no
articles, which exact match ignores) with Python's `random.Random(0)`: first the 200 held-out cases,
then the 3,000 training cases, each a set of words not drawn before, so no held-out case shares its words
(in any order) with a training case or another held-out case. `tests/test_demo.py` checks that and that
these files are exactly what the generator writes. Nothing is planted. `dataforge.tiny.sample_texts`
skips this folder, so the tokenizer the tests build is unchanged; the demo's own tokenizer does learn
the training file's text (`build_demo_model`).
"""
