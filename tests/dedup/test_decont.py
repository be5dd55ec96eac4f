"""Decontamination against evaluation files of other shapes (13-gram overlap)."""

from __future__ import annotations

import pytest
from dedup_helpers import check_accounting, dolly, ids, make_text, write_jsonl

from dataforge.dedup import dedup
from dataforge.dedup.decont import EvalIndex
from dataforge.errors import InputError

PASSAGE = ("the mitochondria is the powerhouse of the cell and converts nutrients into adenosine triphosphate"
           " through a chain of reactions")


def _train(tmp_path):
    return write_jsonl(tmp_path / "train.jsonl", [
        dolly("leak-long", "Tell me about cells.", f"Well, as every textbook says: {PASSAGE.upper()}!"),
        dolly("leak-short", "what is the boiling point of water at sea level", "100 C"),
        dolly("paris", "Name a big European city.", "Paris"),  # the eval answer alone is not a leak
        dolly("near-miss", "Tell me about cells.", " ".join(PASSAGE.split()[:11]) + " and so on"),
        dolly("clean", make_text(1), "fine"),
    ])


def test_overlap_with_a_chat_shaped_eval_file(tmp_path):
    eval_chat = write_jsonl(tmp_path / "eval.jsonl", [
        {"id": "ev-cells", "messages": [{"role": "user", "content": "Describe the cell."},
                                        {"role": "assistant", "content": PASSAGE}]},
        {"id": "ev-water", "messages": [{"role": "user", "content": "What is the boiling point of water at sea level?"},
                                        {"role": "assistant", "content": "100 degrees Celsius"}]},
        {"id": "ev-capital", "messages": [{"role": "user", "content": "Capital of France?"},
                                          {"role": "assistant", "content": "Paris"}]},
    ])
    out = tmp_path / "out.jsonl"
    s = dedup([_train(tmp_path)], out, exact=True, against=[eval_chat])
    kept, rejects = check_accounting(s, out)
    assert ids(kept) == ["paris", "near-miss", "clean"]  # 11 shared tokens < 13: not a leak
    assert s.contaminated == 2
    reasons = {r["id"]: r["reason"] for r in rejects}
    assert reasons["leak-long"].startswith("contaminated: overlaps evaluation row 'ev-cells' (eval.jsonl:1) on 13 tokens")
    assert reasons["leak-short"].startswith("contaminated: overlaps evaluation row 'ev-water' (eval.jsonl:2)")


def test_eval_file_with_unknown_columns_uses_every_text_value(tmp_path):
    eval_raw = write_jsonl(tmp_path / "mmlu_like.jsonl", [
        {"question_id": 7, "question": "Which organelle is the powerhouse?", "explanation": PASSAGE,
         "choices": ["nucleus", "mitochondria"]},
        {"question_id": 8, "question": "What is the boiling point of water at sea level?", "answer": "100"},
    ])
    out = tmp_path / "out.jsonl"
    s = dedup([_train(tmp_path)], out, exact=True, against=[eval_raw])
    kept, rejects = check_accounting(s, out)
    assert {r["id"] for r in rejects} == {"leak-long", "leak-short"}
    assert "(mmlu_like.jsonl:1)" in next(r["reason"] for r in rejects if r["id"] == "leak-long")


def test_contaminated_rows_do_not_win_a_duplicate_cluster(tmp_path):
    train = write_jsonl(tmp_path / "t.jsonl", [
        dolly("first", "Tell me about cells.", PASSAGE),  # leaks, and is first
        dolly("second", "tell me about cells", "Cells are small.")])
    ev = write_jsonl(tmp_path / "e.jsonl", [dolly("e1", "Explain.", PASSAGE)])
    out = tmp_path / "out.jsonl"
    s = dedup([train], out, exact=True, against=[ev])
    kept, _ = check_accounting(s, out)
    assert ids(kept) == ["second"] and s.contaminated == 1 and s.exact_duplicates == 0


def test_empty_or_missing_eval_data_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no rows"):
        EvalIndex([write_jsonl(tmp_path / "empty.jsonl", [])])
    with pytest.raises(InputError):
        dedup([_train(tmp_path)], tmp_path / "o.jsonl", against=[tmp_path / "missing.jsonl"])
