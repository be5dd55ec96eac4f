"""Different questions about one passage are different examples, even with the same answer.

T0's quoref rows put a ~400-word article after a one-line question; two questions about the
same article answered alike ("North Dakota") share ~95% of their 5-grams. Before the rule
that a near duplicate must ask the same question, default dedup removed 104 of 200 such rows
(30 of the 40 in the excerpt). A copy with a word or two swapped in its prompt is still a copy.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from dataforge.dedup import dedup
from dataforge.dedup.find import find_duplicates
from dataforge.dedup.keys import row_keys
from dataforge.records import InstructionRecord
from tests.dedup.dedup_helpers import make_text

QUOREF = Path(__file__).parents[1] / "realdata" / "dedup" / "t0_quoref_friend_question_40.jsonl"


def _question(row: dict) -> Counter:
    """The question of a quoref prompt as casefolded words (independent of dataforge's tokens)."""
    q = row["instruction"].split(", using the article:")[0].removeprefix("A friend asked me to answer this question:")
    return Counter(re.findall(r"\w+", q.casefold()))


def test_no_row_is_removed_for_a_shared_passage(tmp_path):
    out = tmp_path / "out.jsonl"
    s = dedup([QUOREF], out)
    assert (s.rows_in, s.exact_duplicates, s.near_duplicates, s.other_question) == (40, 0, 4, 26)
    kept = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    rejects = [json.loads(line) for line in Path(f"{out}.rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 4
    for rej in rejects:
        other = kept[re.search(r"near duplicate of '([^']+)'", rej["reason"]).group(1)]
        a, b = _question(rej["row"]), _question(other)
        # the same question, reworded: one of the two adds at most two words to the other
        assert min(sum((a - b).values()), sum((b - a).values())) <= 2, (rej["row"]["instruction"][:150],
                                                                      other["instruction"][:150])
        assert rej["row"]["output"] == other["output"]


def _rec(i: int, question: str, passage: str, answer: str) -> InstructionRecord:
    return InstructionRecord(instruction=question, context=passage, output=answer, id=f"r{i}")


def test_report_counts_the_same_and_copies_still_go():
    passage = make_text(7, 300)
    rows = [
        _rec(0, "What state is Grand Forks in?", passage, "North Dakota"),
        _rec(1, "What state are LM Glasfiber and Cirrus Design located in?", passage, "North Dakota"),  # kept
        _rec(2, "What state is Grand Forks located in?", passage, "North Dakota"),  # one word added: copy
        _rec(3, "Which state is Grand Fork in?", passage, "North Dakota"),  # two words swapped: copy
    ]
    keys, prompts = zip(*(row_keys(r) for r in rows))
    found = find_duplicates(keys, prompts)
    assert found.decisions.status.tolist() == [0, 0, 2, 2]
    assert found.decisions.dup_of.tolist()[2:] == [0, 0]
    assert (found.near, found.other_question) == (2, 1)
