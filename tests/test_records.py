"""The record model: what to_dict writes (columns, their order, optional ones) and record_from_dict reads back."""

from __future__ import annotations

import pytest

from dataforge.records import (
    ConversationRecord,
    InstructionRecord,
    KTORecord,
    PreferenceRecord,
    TextRecord,
    record_from_dict,
)

HISTORY = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]
TOOLS = [{"type": "function", "function": {"name": "add", "parameters": {}}}]
TURNS = [{"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function",
                                                               "function": {"name": "add", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "c1", "content": "3"}, {"role": "assistant", "content": "3."}]

# (record, the columns to_dict writes, in order) - written out, one case per kind and optional column
CASES = [
    (InstructionRecord("Add 1 and 2.", "3", meta={"system": "Be brief."}),
     ["id", "instruction", "context", "output", "lang", "category", "meta"]),
    (PreferenceRecord("Add 1 and 2.", "3", "4"), ["id", "instruction", "context", "chosen", "rejected", "lang", "meta"]),
    (PreferenceRecord("Add 1 and 2.", "3", "4", history=HISTORY, chosen_turns=TURNS, tools=TOOLS),
     ["id", "instruction", "context", "chosen", "rejected", "lang", "meta", "history", "chosen_turns", "tools"]),
    (KTORecord("Add 1 and 2.", "4", False), ["id", "instruction", "context", "completion", "label", "lang", "meta"]),
    (KTORecord("Add 1 and 2.", "3", True, history=HISTORY),
     ["id", "instruction", "context", "completion", "label", "lang", "meta", "history"]),
    (ConversationRecord(HISTORY), ["id", "messages", "lang", "meta"]),
    (ConversationRecord(HISTORY + TURNS, tools=TOOLS), ["id", "messages", "lang", "meta", "tools"]),
    (TextRecord("Plain text."), ["id", "text", "lang", "meta"]),
]


@pytest.mark.parametrize("record, columns", CASES)
def test_to_dict_columns_and_the_round_trip(record, columns):
    data = record.to_dict()
    assert list(data) == columns
    back = record_from_dict(data)
    assert type(back) is type(record) and back == record
    for name in getattr(record, "optional_columns", ()):  # read back as fresh lists, never shared with the input
        assert getattr(back, name) is not data.get(name)


def test_the_system_prompt_is_read_from_meta_for_prompt_records_only():
    assert InstructionRecord("q", "a", meta={"system": "S"}).system == "S"
    assert PreferenceRecord("q", "a", "b", meta={"system": "S"}).system == "S"
    assert KTORecord("q", "a", True).system == ""
    assert not hasattr(ConversationRecord(HISTORY), "system")  # a chat keeps its system turn in messages


def test_ids_are_stable_content_hashes():
    # the ids the code gave before this file's refactor (computed with that version): a change here gives
    # the rows of every existing file new ids
    user = [{"role": "user", "content": "x"}]
    assert InstructionRecord("Add 1 and 2.", "3").id == "635e00b0cb8d0b5d"
    assert PreferenceRecord("q", "a", "b").id == "0fae2a82a657c64e"
    assert PreferenceRecord("q", "a", "b", history=user).id == "f99f71cbd264ec0e"
    assert KTORecord("q", "c", True).id == "8275d6823860cac2"
    assert ConversationRecord(user).id == "64f8f7a683492d00"
    assert ConversationRecord(user, tools=[{"t": 1}]).id == "cd49b9bd150c18cf"
    assert TextRecord("t").id == "ff3e314f28e82b04"
