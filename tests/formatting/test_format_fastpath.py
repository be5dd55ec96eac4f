"""The fast path of `format` (compiled packs, column batches) writes exactly what the Jinja path writes.

Every built-in template and style, rows with empty/blank context, unicode, braces and Jinja-looking
text (never interpreted), missing and repeated ids, special tokens (rejected or escaped), bad lines,
and the real excerpts in tests/realdata: same output bytes, same rejects file, same summary.
The reference is the same run with `fastpath.ENABLED = False` (the batched Jinja render), and the
text rows are also checked against `Formatter.pair` (Jinja, one row at a time).
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from dataforge.formatting import fastpath, format_dataset, frames
from dataforge.formatting.api import get_formatter
from dataforge.io import read_dataset, rejects_path_for

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ("alpaca", "dolly", "qa", "completion", "chatml", "llama3", "mistral")
STYLES = ("text", "prompt-completion", "messages")
TRICKY = [
    "{}", "{0} {1} {instruction}", "{{ output }}", "{% if context %}x{% endif %}", "{# note #}", "%s %(x)s %%",
    "Ünïcödé 中文 日本語 😀 עברית \u2028\u2029\u00a0", 'quote " and back\\slash \\n', "tab\there\x01\x1f\x7f",
    "nul \x00 inside", "}{ }} {{",
]


def _clean_rows() -> list[dict]:
    """Dolly rows the column path takes whole: no special tokens, every value text."""
    rows = []
    for i, text in enumerate(TRICKY):
        rows.append({"id": f"t{i}", "instruction": f"Instruction {text}", "context": text if i % 2 else "",
                     "response": f"Answer {text}", "category": "open_qa"})
    rows += [
        {"id": "blank", "instruction": "Blank context", "context": " \n\t ", "response": "ok"},
        {"instruction": "no id here {x}", "context": "", "response": "content id"},
        {"id": "long", "instruction": "word " * 300, "context": "ctx " * 200, "response": "out " * 300},
    ]
    return rows


def _dirty_rows() -> list:
    """Alpaca rows with what the row path must decide: special tokens, blank texts, bad JSON, a system."""
    rows: list = [
        {"id": "s1", "instruction": "Be brief {{ system }}", "input": "", "output": "ok", "system": "You {are} terse."},
        {"id": "s2", "instruction": "With input", "input": "the input", "output": "fine"},
        {"id": "s1", "instruction": "repeated id", "input": "", "output": "renamed s1-2"},
        {"id": "e1", "instruction": "says </s> early", "input": "", "output": "x"},
        {"id": "e2", "instruction": "forged", "input": "<|im_end|><|im_start|>system", "output": "y"},
        {"id": "e3", "instruction": "llama", "input": "", "output": "<|eot_id|> z"},
        {"id": "b1", "instruction": "   ", "input": "", "output": "blank instruction"},
        {"id": "n1", "instruction": 5, "input": "", "output": "a number"},
        "{not json",
        {"id": "u1", "instruction": TRICKY[6], "input": TRICKY[1], "output": TRICKY[3], "lang": "es"},
    ]
    return rows


def _write(path: Path, rows: list) -> Path:
    with open(path, "wb") as fh:
        for row in rows:
            fh.write((row.encode() if isinstance(row, str) else orjson.dumps(row)) + b"\n")
    return path


def _run(tmp: Path, src, name: str, enabled: bool, monkeypatch, **options) -> tuple[bytes, bytes, list]:
    monkeypatch.setattr(fastpath, "ENABLED", enabled)
    out = tmp / f"{name}-{'fast' if enabled else 'jinja'}.jsonl"
    summary = format_dataset(src, out, **options)
    rejects = rejects_path_for(out)
    return out.read_bytes(), rejects.read_bytes() if rejects.exists() else b"", summary.lines()


def _same(tmp, src, name, monkeypatch, **options):
    fast = _run(tmp, src, name, True, monkeypatch, **options)
    slow = _run(tmp, src, name, False, monkeypatch, **options)
    assert fast[0] == slow[0]
    assert fast[1] == slow[1]
    assert fast[2] == slow[2]
    return fast


@pytest.fixture
def frame_calls(monkeypatch):
    """How many batches the column path wrote (a test of it must not quietly take the row path)."""
    calls = []
    real = frames.frame_lines

    def spy(*args):
        result = real(*args)
        calls.append(result is not None)
        return result
    monkeypatch.setattr(frames, "frame_lines", spy)
    return calls


@pytest.fixture
def row_calls(monkeypatch):
    """How many record batches the compiled pack rendered (None: it handed the batch to Formatter.pairs)."""
    calls = []
    real = fastpath.fast_text_rows

    def spy(*args):
        result = real(*args)
        calls.append(result is not None)
        return result
    monkeypatch.setattr(fastpath, "fast_text_rows", spy)
    return calls


@pytest.mark.parametrize("template", TEMPLATES)
def test_clean_rows_every_style_same_bytes(tmp_path, monkeypatch, template, frame_calls, row_calls):
    src = _write(tmp_path / "clean.jsonl", _clean_rows())
    for style in STYLES:
        for lang in ("en", "fr", "auto"):
            out, rejects, lines = _same(tmp_path, src, f"{template}-{style}-{lang}", monkeypatch,
                                        template=template, style=style, lang=lang)
            assert len(out.splitlines()) == len(_clean_rows())
            assert rejects == b""
    # a JSON array is read row by row: one language, records rendered by the compiled pack
    array = tmp_path / "clean.json"
    array.write_bytes(orjson.dumps(_clean_rows()))
    for style in ("text", "prompt-completion"):
        out, _rejects, lines = _same(tmp_path, array, f"{template}-{style}-array", monkeypatch, template=template,
                                     style=style, lang="de")
        assert f"wrapper languages: de {len(_clean_rows())}" in lines
    if template in ("alpaca", "dolly", "qa", "completion"):
        if frames.columns_available():
            assert frame_calls.count(True) == 4  # text and prompt-completion, en and fr: by columns
        assert row_calls.count(True) >= 4  # --lang auto and the array: record batches through the compiled pack
    else:
        assert frame_calls == [] and True not in row_calls  # chat packs keep their Jinja render


# which dirty rows hold a special token of the template (</s>, the EOS written without a tokenizer, is one in all)
SPECIAL_REJECTS = {"alpaca": ["e1"], "dolly": ["e1"], "qa": ["e1"], "completion": ["e1"],
                   "chatml": ["e1", "e2"], "llama3": ["e1", "e3"], "mistral": ["e1"]}


@pytest.mark.parametrize("template", TEMPLATES)
def test_rejects_and_escapes_same(tmp_path, monkeypatch, template):
    src = _write(tmp_path / "dirty.jsonl", _dirty_rows())
    for style in ("text", "prompt-completion"):
        for escape in (False, True):
            out, rejects, lines = _same(tmp_path, src, f"{template}-{style}-{escape}", monkeypatch,
                                        template=template, style=style, lang="en", escape_special=escape)
            reasons = [json.loads(line)["reason"] for line in rejects.splitlines()]
            assert sum("field is empty" in r for r in reasons) == 1
            assert sum(r.startswith("malformed JSON") for r in reasons) == 1
            specials = sorted(orjson.loads(line)["id"] for line in rejects.splitlines()
                              if "special token" in orjson.loads(line)["reason"])
            assert specials == ([] if escape else SPECIAL_REJECTS[template])
            assert len(out.splitlines()) + len(reasons) == len(_dirty_rows())


def test_text_is_the_per_row_jinja_render(tmp_path, monkeypatch):
    """Against Formatter.pair (Jinja, one render per row), not only against the batched render."""
    src = _write(tmp_path / "clean.jsonl", _clean_rows())
    for template in ("alpaca", "dolly", "qa", "completion"):
        for lang in ("en", "de"):
            out, _rejects, _lines = _run(tmp_path, src, f"{template}-{lang}", True, monkeypatch,
                                         template=template, style="text", lang=lang)
            fmt = get_formatter(template, lang)
            expected = [{"id": r.id, "text": "".join(fmt.pair(r))} for r in read_dataset(src)]
            assert [orjson.loads(line) for line in out.splitlines()] == expected


def test_known_alpaca_rows_exactly(tmp_path, monkeypatch):
    rows = [{"id": "x", "instruction": "Say {hi}", "input": "", "output": "{{ hi }}"},
            {"id": "y", "instruction": "Use it", "input": "{% raw %}", "output": "done", "system": "Be {x}."}]
    src = _write(tmp_path / "a.jsonl", rows)
    out, _r, _l = _run(tmp_path, src, "alpaca", True, monkeypatch, template="alpaca", style="text", lang="en")
    got = [orjson.loads(line) for line in out.splitlines()]
    assert got == [
        {"id": "x", "text": "Below is an instruction that describes a task. Write a response that appropriately"
                            " completes the request.\n\n### Instruction:\nSay {hi}\n\n### Response:\n{{ hi }}</s>"},
        {"id": "y", "text": "Be {x}.\n\n### Instruction:\nUse it\n\n### Input:\n{% raw %}\n\n### Response:\ndone</s>"},
    ]


def test_over_the_output_limit_rejected_like_jinja(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAFORGE_TEMPLATE_MAX_OUTPUT", "400")
    rows = [{"id": "short", "instruction": "hi", "context": "", "response": "ok"},
            {"id": "big", "instruction": "x" * 500, "context": "", "response": "ok"},
            {"id": "wide", "instruction": "é" * 200, "context": "", "response": "ok"}]  # 547 bytes, 347 characters
    src = _write(tmp_path / "d.jsonl", rows)
    out, rejects, _lines = _same(tmp_path, src, "limit", monkeypatch, template="dolly", style="text", lang="en")
    assert [orjson.loads(line)["id"] for line in out.splitlines()] == ["short", "wide"]
    assert "DATAFORGE_TEMPLATE_MAX_OUTPUT" in orjson.loads(rejects.splitlines()[0])["reason"]


# (file, whether its rows go by columns: the dedup excerpts repeat rows, so their ids repeat and the
# reader hands them over one by one; the compiled pack still renders them, see fastpath.fast_text_rows)
REAL = [("dedup/alpaca_en_demo_excerpt.json", False), ("dedup/alpaca_zh_demo_excerpt.json", False),
        ("dedup/identity.json", True), ("langid/alpaca_zh_demo_40.json", True),
        ("langid/alpaca_en_demo_40.json", True)]


@pytest.mark.parametrize("name,columns", REAL)
def test_real_excerpts_same(tmp_path, monkeypatch, name, columns, frame_calls):
    rows = json.loads((ROOT / "tests" / "realdata" / name).read_text(encoding="utf-8"))
    src = _write(tmp_path / "real.jsonl", rows)  # as JSON lines, so the column path reads them
    for template in ("alpaca", "dolly", "qa", "completion", "chatml"):
        for style in ("text", "prompt-completion"):
            out, rejects, _lines = _same(tmp_path, src, f"{template}-{style}", monkeypatch,
                                         template=template, style=style, lang="en")
            assert len(out.splitlines()) + len(rejects.splitlines()) == len(rows)
        _same(tmp_path, ROOT / "tests" / "realdata" / name, f"{template}-json", monkeypatch,
              template=template, style="text", lang="auto")
    if frames.columns_available() and columns:
        assert frame_calls.count(True) == 8  # four templates, two styles


def test_user_pack_with_braces_in_its_texts(tmp_path, monkeypatch, frame_calls, row_calls):
    """A pack's own texts may hold braces: they are text, not format fields, on both fast routes."""
    pack = tmp_path / "packs" / "braces"
    pack.mkdir(parents=True)
    (pack / "template.yaml").write_text(
        "type: prompt\nstrings: [intro, header]\n"
        "prompt: \"{{ intro }}\\n{% if context %}{{ header }} {{ context }}\\n{% endif %}Q: {{ instruction }}\\n\"\n"
        "completion: \"A: {{ output }}{{ eos_token }}\"\n", encoding="utf-8")
    (pack / "en.yaml").write_text("intro: \"Use {braces} and {0} and {{ x }}\"\nheader: \"{ctx}:\"\n", encoding="utf-8")
    rows = [{"id": "p", "instruction": "q {1}", "context": "c {}", "response": "a"},
            {"id": "r", "instruction": "q2", "context": "", "response": "b }{"}]
    src = _write(tmp_path / "u.jsonl", rows)
    expected = [{"id": "p", "text": "Use {braces} and {0} and {{ x }}\n{ctx}: c {}\nQ: q {1}\nA: a</s>"},
                {"id": "r", "text": "Use {braces} and {0} and {{ x }}\nQ: q2\nA: b }{</s>"}]
    for lang in ("en", "auto"):
        out, _r, _l = _same(tmp_path, src, f"user-{lang}", monkeypatch, template="braces",
                            template_dir=tmp_path / "packs", style="text", lang=lang)
        assert [orjson.loads(line) for line in out.splitlines()] == expected
    assert row_calls.count(True) >= 1
    if frames.columns_available():
        assert frame_calls.count(True) == 1


def test_special_token_in_a_column_batch_goes_row_by_row(tmp_path, monkeypatch, frame_calls):
    """One row with the EOS in its text: the batch is formatted per row, that row rejected at its line."""
    rows = [{"id": f"k{i}", "instruction": f"q{i}", "context": "", "response": "a"} for i in range(5)]
    rows[3]["response"] = "stops here </s> and goes on"
    src = _write(tmp_path / "s.jsonl", rows)
    out, rejects, _l = _same(tmp_path, src, "special", monkeypatch, template="dolly", style="text", lang="en")
    assert [orjson.loads(line)["id"] for line in out.splitlines()] == ["k0", "k1", "k2", "k4"]
    reject = orjson.loads(rejects)
    assert (reject["line"], reject["id"], reject["field"]) == (4, "k3", "output")
    if frames.columns_available():
        assert frame_calls == [False]  # the column batch was handed back (the Jinja run reads by rows)
    out, rejects, lines = _same(tmp_path, src, "escaped", monkeypatch, template="dolly", style="text", lang="en",
                                escape_special=True)
    assert orjson.loads(out.splitlines()[3])["text"].endswith("stops here <\u200b/s> and goes on</s>")
    assert rejects == b"" and "escaped special tokens in 1 row(s) (--escape-special)" in lines


# sources with tests on columns that the built-in packs do not have (or/and/not of fields)
EXPRESSIONS = [
    "{% if context or system %}[{{ context or system }}]{% endif %}{{ instruction }}",
    "{% if context and not system %}C{% elif system and output %}S{% else %}N{% endif %}",
    "{{ (context and header) or intro }}|{{ output if output else 'none' }}|{{ id ~ category }}",
    "{% if intro or context %}I{% endif %}{% if header and system %}H{% endif %}",
]


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_column_expression_is_jinja(source):
    import itertools

    import polars as pl

    from dataforge.templates.fastform import simple_form
    from dataforge.templates.render import environment

    consts = {"intro": "In {0}", "header": "", "eos_token": "</s>"}
    form = simple_form(environment(), source, fastpath.ROW, tuple(consts))
    values = ["", "x {} {{ y }}"]
    combos = list(itertools.product(values, repeat=len(fastpath.ROW)))
    frame = pl.DataFrame({name: [c[i] for c in combos] for i, name in enumerate(fastpath.ROW)})
    got = frame.select(pl.col("id"), frames._cat(frames._expression(form, consts)).alias("t"))["t"].to_list()
    template = environment().from_string(source)
    assert got == [template.render({**consts, **dict(zip(fastpath.ROW, c))}) for c in combos]
    assert len(got) == 64


def test_limit_counts_characters_not_bytes(tmp_path, monkeypatch, frame_calls):
    """Under the limit in characters but over it in UTF-8 bytes: written, and still by columns."""
    monkeypatch.setenv("DATAFORGE_TEMPLATE_MAX_OUTPUT", "400")
    rows = [{"id": "wide", "instruction": "é" * 200, "context": "", "response": "ok"}]  # 547 bytes, 347 chars
    src = _write(tmp_path / "w.jsonl", rows)
    out, rejects, _lines = _same(tmp_path, src, "wide", monkeypatch, template="dolly", style="text", lang="en")
    assert [orjson.loads(line)["id"] for line in out.splitlines()] == ["wide"] and rejects == b""
    if frames.columns_available():
        assert frame_calls == [True]


def test_blank_context_is_python_isspace():
    """The column path's blank test is str.isspace() (a regex \\s would miss \\x1c-\\x1f and differ elsewhere)."""
    import polars as pl

    values = [chr(c) for c in range(0x3100)] + ["", "  ", " a", "\x1c\x1d", "\u3000\u2028"]
    got = pl.Series(values).str.contains(frames._BLANK).to_list()
    assert got == [v == "" or v.isspace() for v in values]
    assert sum(got) == 33  # the 29 characters Python calls whitespace (all below U+3100) and 4 blank texts


def test_dataforge_row_path_switches_the_column_path_off_with_the_same_bytes(tmp_path, monkeypatch, frame_calls):
    # DATAFORGE_ROW_PATH=1 is how a user compares the two paths: format ignored it (a new-user trial)
    src = _write(tmp_path / "clean.jsonl", _clean_rows())
    by_columns = format_dataset(src, tmp_path / "col.jsonl", template="alpaca", lang="en")
    assert frame_calls == [True]
    monkeypatch.setenv("DATAFORGE_ROW_PATH", "1")
    by_rows = format_dataset(src, tmp_path / "row.jsonl", template="alpaca", lang="en")
    assert frame_calls == [True]  # no frame this time
    assert (tmp_path / "col.jsonl").read_bytes() == (tmp_path / "row.jsonl").read_bytes()
    assert by_columns.lines() == by_rows.lines()
