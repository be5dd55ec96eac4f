"""Edge cases of the chat, tool-calling, KTO, text and nested-field readers (small hand-made rows)."""

from __future__ import annotations

import gzip
import json

import pytest
from io_helpers import read_lines, rejects_of, write_jsonl

from dataforge.convert import convert
from dataforge.errors import InputError
from dataforge.io import read_dataset, to_shape
from dataforge.records import ConversationRecord, KTORecord, TextRecord


def _one(tmp_path, rows, **kw):
    ds = read_dataset(write_jsonl(tmp_path / "d.jsonl", rows), **kw)
    return ds, list(ds)


def test_legacy_function_calls_and_parallel_results_are_linked(tmp_path):
    rows = [{"messages": [
        {"role": "user", "content": "Weather in Oslo and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"type": "function", "function": {"name": "weather", "arguments": {"city": "Oslo"}}},
            {"id": "r", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Rome"}'}}]},
        {"role": "tool", "content": "5C"}, {"role": "tool", "content": "20C"},
        {"role": "assistant", "content": "Oslo 5C, Rome 20C."},
        {"role": "user", "content": "And Paris?"},
        {"role": "assistant", "content": None, "function_call": {"name": "weather", "arguments": '{"city":"Paris"}'}},
        {"role": "function", "name": "weather", "content": "12C"},
        {"role": "assistant", "content": "12C."}]}]
    ds, (rec,) = _one(tmp_path, rows)
    calls = rec.messages[1]["tool_calls"]
    assert [c["id"] for c in calls] == ["call_1", "r"] and calls[0]["function"]["arguments"] == '{"city": "Oslo"}'
    assert [rec.messages[i]["tool_call_id"] for i in (2, 3)] == ["call_1", "r"]
    assert rec.messages[6]["tool_calls"][0]["function"] == {"name": "weather", "arguments": '{"city":"Paris"}'}
    assert rec.messages[7] == {"role": "tool", "content": "12C", "name": "weather", "tool_call_id": "call_2"}
    chat = to_shape(rec, "trl-chat")  # chat templates want the arguments as objects
    assert chat["prompt"][1]["tool_calls"][0]["function"]["arguments"] == {"city": "Oslo"}
    openai = to_shape(rec, "openai")
    assert "content" not in openai["messages"][1] and openai["messages"][1]["tool_calls"] == calls


@pytest.mark.parametrize("messages,reason", [
    ([{"role": "user", "content": "a"}, {"role": "system", "content": "s"}, {"role": "assistant", "content": "b"}],
     "a system message may only come first"),
    ([{"role": "user", "content": "a"}, {"role": "tool", "content": "{}"}, {"role": "assistant", "content": "b"}],
     "turn 1 is a tool result (observation) but no tool call comes before it"),
    ([{"role": "assistant", "content": "hi"}],
     "the conversation starts with an assistant turn, with no system or user turn before it"),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": [{"type": "image_url", "value": "x"}]}],
     "message 1 has non-text content parts (image_url)"),
])
def test_chats_dataforge_cannot_hold_are_rejected_with_the_reason(tmp_path, messages, reason):
    summary = convert(write_jsonl(tmp_path / "d.jsonl", [{"messages": messages}]), tmp_path / "o.jsonl",
                      allow_empty=True)
    assert summary.rejected == 1 and rejects_of(tmp_path / "o.jsonl")[0]["reason"] == reason


def test_turns_need_not_alternate(tmp_path):
    _, (rec,) = _one(tmp_path, [{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                                             {"role": "assistant", "content": "c"}]}])
    assert isinstance(rec, ConversationRecord) and len(rec.messages) == 3


def test_a_label_column_makes_kto_data_only_when_it_holds_booleans(tmp_path):
    chat = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    ds, (rec,) = _one(tmp_path, [{"messages": chat, "label": False}])
    assert ds.shape == "openai-kto" and isinstance(rec, KTORecord) and rec.label is False
    ds, (rec,) = _one(tmp_path, [{"messages": chat, "label": 3}])  # a class label, not a judgement
    assert ds.shape == "openai" and rec.meta["extra"] == {"label": 3}
    ds, recs = _one(tmp_path, [{"prompt": "p", "completion": "c", "label": "true"},
                               {"prompt": "p", "completion": "d", "label": "maybe"},
                               {"prompt": "q", "completion": "e", "label": "false"}])
    assert ds.shape == "trl-kto" and [r.label for r in recs] == [True, False]  # the stray value: that row's reject
    assert ds.stats.rejected == 1


def test_txt_files_are_plain_text_one_document_per_line(tmp_path):
    src = tmp_path / "docs.txt.gz"
    with gzip.open(src, "wb") as fh:
        fh.write("\ufeffFirst document.\r\n\n  \nSecond, with ünïcode.\n".encode())
    ds = read_dataset(src)
    recs = list(ds)
    assert ds.shape == "text" and [r.text for r in recs] == ["First document.", "Second, with ünïcode."]
    assert isinstance(recs[0], TextRecord) and ds.stats.read == 2
    with pytest.raises(InputError, match="reads .txt but does not write it"):
        convert(src, tmp_path / "out.txt")
    summary = convert(src, tmp_path / "out.jsonl", to="trl")
    assert summary.written == 2 and read_lines(tmp_path / "out.jsonl")[1]["text"] == "Second, with ünïcode."


def test_nested_paths_and_dotted_names(tmp_path):
    rows = [{"q.text": "dotted", "a": {"list": [{"x": "first"}, {"x": "second", "note": "n"}]}}]
    _, (rec,) = _one(tmp_path, rows, mapping=["instruction=q.text", "output=a.list[1].x"])
    assert (rec.instruction, rec.output) == ("dotted", "second")
    assert rec.meta["extra"] == {"a": {"list": [{"x": "first"}, {"note": "n"}]}}  # the rest is kept, once
    with pytest.raises(InputError, match="cannot tell what kind of data"):
        _one(tmp_path, rows, mapping=["instruction=q.text", "output=a.list[5].x"])  # no such item: nothing mapped


def test_dataset_info_with_custom_sharegpt_tags(tmp_path):
    write_jsonl(tmp_path / "chats.jsonl", [{"dialog": [{"speaker": "customer", "says": "Hi?"},
                                                       {"speaker": "agent", "says": "Hello."}]}])
    (tmp_path / "dataset_info.json").write_text(json.dumps({"support": {
        "file_name": "chats.jsonl", "formatting": "sharegpt", "columns": {"messages": "dialog"},
        "tags": {"role_tag": "speaker", "content_tag": "says", "user_tag": "customer", "assistant_tag": "agent"}}}))
    ds = read_dataset(f"{tmp_path / 'dataset_info.json'}#support")
    (rec,) = list(ds)
    assert ds.shape == "sharegpt" and (rec.instruction, rec.output) == ("Hi?", "Hello.")


def test_alpaca_kto_and_pretraining_entries(tmp_path):
    write_jsonl(tmp_path / "k.jsonl", [{"q": "2+2?", "a": "4", "good": True}, {"q": "2+2?", "a": "5", "good": False}])
    write_jsonl(tmp_path / "t.jsonl", [{"body": "Some text."}])
    (tmp_path / "dataset_info.json").write_text(json.dumps({
        "k": {"file_name": "k.jsonl", "columns": {"prompt": "q", "response": "a", "kto_tag": "good"}},
        "t": {"file_name": "t.jsonl", "columns": {"prompt": "body"}}}))
    kto = list(read_dataset(f"{tmp_path / 'dataset_info.json'}#k"))
    assert [(r.instruction, r.completion, r.label) for r in kto] == [("2+2?", "4", True), ("2+2?", "5", False)]
    (text,) = list(read_dataset(f"{tmp_path / 'dataset_info.json'}#t"))
    assert isinstance(text, TextRecord) and text.text == "Some text."


def test_hh_transcript_with_text_before_the_first_turn_is_rejected(tmp_path):
    rows = [{"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi\n\nAssistant: go"},
            {"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "preamble\n\nHuman: a\n\nAssistant: c"}]
    ds, recs = _one(tmp_path, rows)
    assert ds.shape == "hh-rlhf" and [(r.instruction, r.chosen, r.rejected) for r in recs] == [("hi", "hello", "go")]
    assert ds.stats.rejected == 1


@pytest.mark.parametrize("target", ["openai", "trl-chat"])
def test_tool_schemas_and_call_arguments_survive_parquet(tmp_path, target):
    """One struct type per column would give every row every tool's keys (as nulls): such values are JSON text."""
    from realdata_cases import LF, content

    src = LF / "glaive_toolcall_en_demo.json"
    convert(src, tmp_path / "t.parquet", to=target)
    convert(tmp_path / "t.parquet", tmp_path / "back.jsonl")
    assert [content(r) for r in read_dataset(tmp_path / "back.jsonl")] == [content(r) for r in read_dataset(src)]
