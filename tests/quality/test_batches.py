"""The report reads and measures a file in blocks; its numbers must not depend on the block sizes.

Memory stays bounded because the frame is built, measured and deduplicated a
block at a time (dedup keys spill to a temporary file). A report computed in
blocks of a few rows must equal the one computed in a single block.
"""

from __future__ import annotations

from quality_helpers import planted_rows

from dataforge.dedup import find
from dataforge.quality import frame, ngrams, signals


def _comparable(report: dict) -> dict:
    report = dict(report)
    for key in ("timings", "generated"):
        report.pop(key)
    report["languages"] = {k: v for k, v in report["languages"].items() if k not in ("seconds", "texts_per_second")}
    return report


def _rows() -> list[dict]:
    rows = planted_rows()
    rows += [dict(r, id=f"{r['id']}-again") for r in rows[:9]]  # exact copies across block borders
    rows.append({"id": "q-1", "instruction": "???", "context": "", "response": "!!!", "category": "open_qa"})
    return rows


def test_report_in_small_blocks_equals_one_block(report_of, monkeypatch):
    rows = _rows()
    whole = report_of(rows, name="whole.jsonl")
    added = []
    real_add = find.DuplicateFinder.add

    def add(self, keys, prompts=None):
        added.append(len(keys))
        return real_add(self, keys, prompts)

    monkeypatch.setattr(frame, "OFFER_ROWS", 7)  # frame blocks and dedup key blocks
    monkeypatch.setattr(ngrams, "CHUNK_ROWS", 5)  # words and n-grams
    monkeypatch.setattr(find.KeyTexts, "WINDOW", 3)  # key texts read back from the temporary file
    monkeypatch.setattr(find.DuplicateFinder, "add", add)
    monkeypatch.setattr(find, "BLOCK", 4)  # signature blocks
    monkeypatch.setattr(signals, "SLICE_ROWS", 6)  # regex passes
    monkeypatch.setattr(frame, "SLICE_ROWS", 8)  # lengths and token estimates
    blocks = report_of(rows, name="whole.jsonl")
    assert len(added) == -(-len(rows) // 7) and max(added) == 7  # it really read in blocks
    assert whole["duplicates"]["dedup"]["exact"] >= 12 and whole["duplicates"]["dedup"]["near"] >= 1
    assert _comparable(blocks) == _comparable(whole)


def test_key_texts_read_back_in_and_out_of_order():
    texts = ["first", "", "ünïcödé \x01 b \x02 c", "日本語", "last one"] * 5
    store = find.KeyTexts()
    store.WINDOW = 4
    store.extend(texts[:7])
    store.extend(texts[7:])
    store.seal()
    assert [store[i] for i in range(len(texts))] == texts  # in order, through windows
    assert [store[i] for i in (17, 3, 24, 0, 9)] == [texts[i] for i in (17, 3, 24, 0, 9)]  # random rows
    store.close()
