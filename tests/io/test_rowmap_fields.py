"""The reader's fast row mappers give exactly what the shapes' generic mappers give, and refuse the same rows.

The generic mappers (`shapes._from_dolly`, ...) are the independent reference: every row below goes both
ways and the records (ids included) must be equal. Found by `make mutation AREA=io`
(dataforge/io/rowmap.py): faults in the fast path changed records and no test noticed.
"""

from __future__ import annotations

import pytest

from dataforge.io.rowmap import CHECKED_MAPPERS, check_text
from dataforge.io.shapes import RowError, _from_alpaca, _from_dolly, _from_openai
from dataforge.records import InstructionRecord

DOLLY = [
    {"instruction": "Q", "response": "A", "context": "C", "category": "qa", "id": "x1", "lang": "en", "meta": {"k": 1}},
    {"instruction": "Q", "response": "A"},  # no id: the content id
    {"instruction": "Q", "response": "A", "context": "", "id": None, "lang": None, "category": None, "meta": None},
    {"instruction": "Q", "response": "A", "extra": 5},  # an unknown column: the generic path
    {"instruction": "Q", "response": "A", "id": 7},  # a non-text id: the generic path
    {"instruction": "Q", "response": "A", "meta": "not a dict"},
]
ALPACA = [
    {"instruction": "Q", "output": "A", "input": "I", "system": "S"},
    {"instruction": "Q", "output": "A", "context": "C"},
    {"instruction": "Q", "output": "A", "input": "", "context": "C"},
    {"instruction": "Q", "output": "A", "input": "I", "id": "a1", "lang": "de", "category": "c", "meta": {"m": 2}},
    {"instruction": "Q", "output": "A", "history": [["q0", "a0"]]},
    {"instruction": "Q", "output": "A", "system": ""},
]


@pytest.mark.parametrize("row", DOLLY, ids=range(len(DOLLY)))
def test_dolly_fast_path_equals_the_generic_mapper(row):
    assert CHECKED_MAPPERS["dolly"](dict(row), True) == _from_dolly(dict(row))


@pytest.mark.parametrize("row", ALPACA, ids=range(len(ALPACA)))
def test_alpaca_fast_path_equals_the_generic_mapper(row):
    assert CHECKED_MAPPERS["alpaca"](dict(row), True) == _from_alpaca(dict(row))


def test_hand_checked_fields_and_meta_copy():
    meta = {"k": 1}
    rec = CHECKED_MAPPERS["dolly"]({"instruction": "Q", "response": "A", "context": "C", "category": "qa",
                                    "id": "x1", "lang": "en", "meta": meta}, True)
    assert rec == InstructionRecord("Q", "A", "C", "x1", "en", "qa", {"k": 1})
    rec.meta["k"] = 2
    assert meta == {"k": 1}  # the record's meta is its own copy
    rec = CHECKED_MAPPERS["alpaca"]({"instruction": "Q", "output": "A", "input": "I", "system": "S"}, True)
    assert (rec.context, rec.meta) == ("I", {"system": "S"})


@pytest.mark.parametrize("shape,row,field", [
    ("dolly", {"instruction": "", "response": "A"}, "instruction"),
    ("dolly", {"instruction": "Q", "response": " \n"}, "output"),
    ("dolly", {"instruction": "Q", "response": "", "extra": 1}, "output"),  # generic path, same reason
    ("alpaca", {"instruction": "\t", "output": "A"}, "instruction"),
    ("alpaca", {"instruction": "Q", "output": ""}, "output"),
])
def test_empty_text_is_refused_with_its_field_and_allowed_unchecked(shape, row, field):
    with pytest.raises(RowError) as info:
        CHECKED_MAPPERS[shape](dict(row), True)
    assert (info.value.reason, info.value.field) == ("field is empty", field)
    assert CHECKED_MAPPERS[shape](dict(row), False).instruction == row["instruction"]


def test_native_rows_with_messages_are_conversations_and_empty_messages_refused():
    row = {"messages": [{"role": "system", "content": ""}, {"role": "user", "content": "hi"},
                        {"role": "assistant", "content": "yo"}]}
    assert CHECKED_MAPPERS["instruction"](dict(row), True) == _from_openai(dict(row))
    assert CHECKED_MAPPERS["instruction"]({"instruction": "Q", "output": "A"}, True) == _from_alpaca(
        {"instruction": "Q", "output": "A"})
    blank = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"},
                          {"role": "user", "content": "  "}, {"role": "assistant", "content": "ok"}]}
    with pytest.raises(RowError) as info:
        CHECKED_MAPPERS["instruction"](dict(blank), True)
    assert (info.value.reason, info.value.field) == ("a message has empty content", "messages")


def test_check_text_on_instruction_records():
    check_text(InstructionRecord("Q", "A", ""))  # an empty context is fine
    for rec, field in ((InstructionRecord("", "A"), "instruction"), (InstructionRecord("Q", "\n"), "output")):
        with pytest.raises(RowError) as info:
            check_text(rec)
        assert (info.value.reason, info.value.field) == ("field is empty", field)


def test_the_other_shapes_go_through_their_mapper_and_the_empty_check():
    from dataforge.io.shapes import _MAPPERS

    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    assert CHECKED_MAPPERS["openai"](dict(row), True) == _MAPPERS["openai"](dict(row))
    blank = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}]}
    with pytest.raises(RowError) as info:
        CHECKED_MAPPERS["openai"](dict(blank), True)
    assert (info.value.reason, info.value.field) == ("field is empty", "output")  # one turn: an instruction row
    assert CHECKED_MAPPERS["openai"](dict(blank), False).output == " "


@pytest.mark.parametrize("which", ["chosen", "rejected"])
def test_a_preference_continuation_with_an_empty_message_is_refused_naming_its_side(which):
    from dataforge.records import PreferenceRecord

    # a two-message continuation (a tool call, then the answer) whose answer is blank: no usable text there
    turns = [{"role": "assistant", "content": "", "tool_calls": [{"id": "c1"}]}, {"role": "tool", "content": "42"},
             {"role": "assistant", "content": "  "}]
    good = [{"role": "assistant", "content": "The answer is 42."}]
    sides = {"chosen_turns": good, "rejected_turns": good, f"{which}_turns": turns}
    record = PreferenceRecord("Q", chosen="A", rejected="B", **sides)
    with pytest.raises(RowError) as info:
        check_text(record)
    assert (info.value.reason, info.value.field) == ("a message has empty content", which)
    # the same continuation with the blank answer filled in passes (an empty tool-call message is fine)
    turns[-1]["content"] = "It is 42."
    check_text(record)
