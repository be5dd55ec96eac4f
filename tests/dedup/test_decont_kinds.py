"""`--against` works for every kind of record on either side (KTO and plain text crashed before:
'KTORecord' / 'TextRecord' object has no attribute 'output')."""

from __future__ import annotations

import json

import pytest
from dedup_helpers import make_text, write_jsonl

from dataforge.dedup import dedup

LEAK = make_text(11, 20)  # 20 words: any 13 of them in a row are a leak


def _rows(kind: str, leak: bool) -> list[dict]:
    rows = []
    for i in range(4):
        body = make_text(100 + i, 30) + (" " + LEAK if leak and i == 2 else "")
        if kind == "kto":
            rows.append({"id": f"{kind}-{i}", "prompt": make_text(200 + i, 10), "completion": body, "label": i % 2 == 0})
        elif kind == "text":
            rows.append({"id": f"{kind}-{i}", "text": body})
        else:
            rows.append({"id": f"{kind}-{i}", "instruction": make_text(200 + i, 10), "input": "", "output": body})
    return rows


@pytest.mark.parametrize("train_kind,eval_kind", [("text", "text"), ("text", "alpaca"), ("kto", "alpaca"),
                                                  ("alpaca", "kto"), ("alpaca", "text"), ("kto", "text")])
def test_against_finds_the_leak_whatever_the_kinds(tmp_path, train_kind, eval_kind):
    train, ev = tmp_path / "train.jsonl", tmp_path / "eval.jsonl"
    write_jsonl(train, _rows(train_kind, leak=True))
    write_jsonl(ev, [r for r in _rows(eval_kind, leak=True) if r["id"].endswith("-2")])  # only the leak row
    ev.write_text(ev.read_text().replace(_rows(eval_kind, True)[2]["id"], "eval-0"))
    out = tmp_path / "out.jsonl"
    s = dedup([train], out, against=[ev], exact=True, near=False)
    assert (s.rows_in, s.contaminated, s.rows_out) == (4, 1, 3)
    rejects = [json.loads(line) for line in (tmp_path / "out.jsonl.rejects.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rejects] == [f"{train_kind}-2"]
    assert "overlaps evaluation row 'eval-0'" in rejects[0]["reason"]
