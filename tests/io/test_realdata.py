"""Real-data conformance: public datasets in every common format read whole, round-trip, and train.

Files and sources: tests/realdata/README.md; expectations: realdata_cases.py.
For each file: the detected shape and the rows read / kept / rejected (and
why); a round trip through every target that can hold it keeps every text;
the TRL export passes TRL's own data utilities with a real chat template; the
OpenAI export passes `openai_check`; dedup and report agree.
"""

from __future__ import annotations

import pytest
from io_helpers import read_lines, rejects_of, write_jsonl
from realdata_cases import CASES, content

from dataforge.convert import convert
from dataforge.inspect import inspect_dataset
from dataforge.io import read_dataset


def _records(case, path=None, **kw):
    ds = read_dataset(path or case.path, mapping=list(case.mapping) if path is None else None, **kw)
    return ds, list(ds)


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_and_counts(name):
    case = CASES[name]
    info = inspect_dataset(case.path, mapping=list(case.mapping))
    assert (info.shape, info.kind) == (case.shape, case.kind)
    assert info.rows == case.read and info.rejected == sum(case.rejected.values())
    assert info.good == case.read - info.rejected and info.reject_reasons == case.rejected


def _trips():
    for name, case in sorted(CASES.items()):
        for target in case.trips:
            yield name, target


@pytest.mark.parametrize("name,target", list(_trips()))
def test_round_trip_keeps_every_text(tmp_path, name, target):
    case = CASES[name]
    _, original = _records(case)
    mid = tmp_path / "mid" / f"{name}.jsonl"
    mid.parent.mkdir()
    s1 = convert(case.path, mid, to=target, mapping=list(case.mapping))
    expected = case.export_rejects.get(target, {})
    reasons = [r["reason"] for r in rejects_of(mid) if r.get("field") != "chosen" or "empty" not in r["reason"]]
    assert s1.rejected == sum(case.rejected.values()) + sum(expected.values())
    for start, n in expected.items():
        assert sum(r.startswith(start) for r in reasons) == n, reasons[:3]
    kept_ids = {r["id"] for r in read_lines(mid)}
    back = tmp_path / "back.jsonl"
    s2 = convert(mid, back)  # dataforge's own records, from whatever shape `target` wrote
    assert s2.read == s2.written == s1.written and s2.rejected == 0
    _, again = _records(case, back)
    assert [content(r) for r in again] == [content(r) for r in original if r.id in kept_ids]


# ---- training files other tools accept --------------------------------------------------------

@pytest.fixture(scope="module")
def chat_tokenizer(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_tokenizer_dir))
    assert tok.chat_template  # a real (ChatML) chat template, as TRL will apply it
    return tok


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.trl))
def test_trl_data_utilities_accept_the_training_export(tmp_path, chat_tokenizer, name):
    from trl.data_utils import is_conversational, maybe_apply_chat_template

    case = CASES[name]
    out = tmp_path / "train.jsonl"
    summary = convert(case.path, out, to=case.trl, mapping=list(case.mapping))
    rows = read_lines(out)
    assert summary.written == len(rows) > 0
    assert summary.rejected == sum(case.rejected.values()) + sum(case.export_rejects.get(case.trl, {}).values())
    for row in rows:
        tools = row.pop("tools", None)
        del row["id"]
        assert is_conversational(row) == (case.kind != "text" and case.trl == "trl-chat")
        done = maybe_apply_chat_template(row, chat_tokenizer, tools=tools)
        if case.kind == "text":
            assert done == row
            continue
        answer = done.get("completion", done.get("chosen"))
        assert done["prompt"] and answer
        last = (row.get("completion") or row.get("chosen"))[-1]
        assert last["content"] in answer  # the answer text is in the rendered completion
        if case.kind == "preference":
            assert row["rejected"][-1]["content"] in done["rejected"]
        if case.kind == "kto":
            assert done["label"] is row["label"]


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.openai))
def test_openai_checks_accept_the_openai_export(tmp_path, name):
    from dataforge.formatting import format_dataset
    from dataforge.formatting.openai_check import MIN_EXAMPLES, example_errors

    case = CASES[name]
    target = "openai-preference" if case.kind == "preference" else "openai"
    out = tmp_path / "openai.jsonl"
    convert(case.path, out, to=target, mapping=list(case.mapping))
    rows = [{k: v for k, v in r.items() if k != "id"} for r in read_lines(out)]  # the id is lineage, not OpenAI's
    assert len(rows) == case.read - sum(case.rejected.values())
    assert {i: example_errors(r) for i, r in enumerate(rows) if example_errors(r)} == {}
    if case.kind == "preference":
        assert all({"input", "preferred_output", "non_preferred_output"} == set(r) for r in rows)
    if "toolcall" in case.path.name or "drone" in case.path.name:  # tool definitions travel with the example
        assert sum("tools" in r for r in rows) > len(rows) // 2
    if len(rows) >= MIN_EXAMPLES:  # `format --to openai` writes the same rows and checks them itself
        summary = format_dataset(case.path, tmp_path / "format.jsonl", to="openai", mapping=list(case.mapping))
        assert summary.openai.invalid == 0 and summary.openai.examples == len(rows)
        assert read_lines(tmp_path / "format.jsonl") == rows


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.dedup is not None))
def test_dedup_and_report_agree(tmp_path, name):
    from dataforge.dedup import dedup
    from dataforge.quality import build_report

    case = CASES[name]
    data = str(case.path)
    s = dedup([data], tmp_path / "out.jsonl", mapping=list(case.mapping))
    assert (s.exact_duplicates, s.near_duplicates, s.same_prompt) == case.dedup
    assert s.rows_in == s.rows_out + s.rejected == case.read
    d = build_report(data, sample=10, mapping=list(case.mapping))["duplicates"]["dedup"]
    assert (d["exact"], d["near"], d["same_prompt"]) == case.dedup
    if case.kind != "preference":  # (preference pairs are compared on their prompt, by design)
        kept = {r.id: r for r in read_dataset(tmp_path / "out.jsonl")}
        dups = [r for r in read_lines(tmp_path / "out.jsonl.rejects.jsonl") if "duplicate of" in r["reason"]] \
            if s.rejected else []
        assert len(dups) == s.exact_duplicates + s.near_duplicates
        differ = set()
        if dups:  # each removed row (written as the output shape) against the row kept for it
            write_jsonl(tmp_path / "removed.jsonl", [r["row"] for r in dups])
            for reject, removed in zip(dups, read_dataset(tmp_path / "removed.jsonl")):
                other = kept[reject["reason"].split("'")[1]]
                if _answers(removed) != _answers(other):
                    differ.add((removed.id, other.id))
        assert differ == KNOWN_DIFFERENT_ANSWERS.get(name, set())


# Removed as near duplicates although an answer differs: dedup's answers need a token Jaccard >= 0.8, and a
# tool call to another function (another tool list) is one token of many. Reported to dedup's owner.
KNOWN_DIFFERENT_ANSWERS = {"glaive_en": {("4120b5b9a792e3b1", "1cd5fb1ce8c360cf")}}


def _answers(record) -> list[str]:
    """Every answer of a record, as casefolded words (what a near duplicate must share)."""
    import re

    from dataforge.dedup.keys import message_text

    if hasattr(record, "messages"):
        texts = [message_text(m) for m in record.messages if m["role"] == "assistant"]
    else:
        texts = [getattr(record, "output", getattr(record, "completion", ""))]
    return [re.findall(r"\w+", t.casefold()) for t in texts]
