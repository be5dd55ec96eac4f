"""Real files written back in their own format are the source text, byte for byte where the format allows.

Also: LLaMA-Factory's dataset_info.json read and written, the CLI options for
it, nested --map paths, and what must never happen to KTO and multi-turn data.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from io_helpers import read_lines, rejects_of, write_jsonl
from realdata_cases import CASES, FORMATS, INFO, LF, content

from dataforge.cli.main import cli
from dataforge.convert import convert
from dataforge.errors import ConfigError, InputError
from dataforge.io import read_dataset, to_shape
from dataforge.io.transcripts import to_transcript
from dataforge.records import ConversationRecord, answer_messages, prompt_messages


def _source(path):
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else [json.loads(x) for x in text.splitlines() if x.strip()]


def test_hh_rlhf_transcripts_are_rebuilt_exactly():
    src = _source(FORMATS / "hh-rlhf/harmless-base-test.jsonl")
    records = list(read_dataset(FORMATS / "hh-rlhf/harmless-base-test.jsonl"))
    by_line = dict(zip([i for i, row in enumerate(src) if i != 86], records))  # line 87: an empty chosen answer
    assert len(by_line) == 199
    for i, record in by_line.items():
        prompt = prompt_messages(record)
        assert to_transcript(prompt + answer_messages(record, "chosen")) == src[i]["chosen"]
        assert to_transcript(prompt + answer_messages(record, "rejected")) == src[i]["rejected"]
    multi = [r for r in records if r.history]
    assert len(multi) > 100  # most HH prompts are conversations, not one question
    assert src[86]["chosen"].endswith("\n\nAssistant: ")  # the one row rejected really has no answer


@pytest.mark.parametrize("name", ["glaive_toolcall_en_demo.json", "glaive_toolcall_zh_demo.json",
                                  "dpo_en_demo.json", "dpo_zh_demo.json"])
def test_llamafactory_sharegpt_rows_are_written_back_as_they_were(tmp_path, name):
    out = tmp_path / "out.json"
    summary = convert(LF / name, out, to="llamafactory-sharegpt")
    written, source = read_lines_json(out), _source(LF / name)
    assert summary.rejected == 0 and len(written) == len(source)
    for row, original in zip(written, source):
        row.pop("id")
        if "tools" in original:  # the same tool list ("[]" or none: no tools); its JSON text may be spaced differently
            assert json.loads(row.pop("tools", "[]")) == json.loads(original.pop("tools") or "[]")
        assert row == original


def read_lines_json(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["drone_training.jsonl", "toy_chat_fine_tuning.jsonl"])
def test_openai_rows_are_written_back_as_they_were(tmp_path, name):
    out = tmp_path / "out.jsonl"
    convert(FORMATS / "openai-cookbook" / name, out, to="openai")
    written = [{k: v for k, v in r.items() if k != "id"} for r in read_lines(out)]
    assert written == _source(FORMATS / "openai-cookbook" / name)


def test_tool_calls_results_and_definitions_are_kept():
    glaive = list(read_dataset(LF / "glaive_toolcall_en_demo.json"))
    first = glaive[0]
    assert isinstance(first, ConversationRecord) and first.tools[0]["name"] == "search_recipes"
    call = next(m for m in first.messages if m.get("tool_calls"))
    assert call["tool_calls"][0]["function"] == {"name": "search_recipes",
                                                 "arguments": '{"ingredients": ["chicken", "bell peppers", "rice"]}'}
    result = first.messages[first.messages.index(call) + 1]
    assert result["role"] == "tool" and result["tool_call_id"] == call["tool_calls"][0]["id"]
    assert result["content"].startswith('{"recipes": [{"name": "Chicken and Bell Pepper Stir Fry"')
    drone = list(read_dataset(FORMATS / "openai-cookbook/drone_training.jsonl"))
    assert all(len(r.tools) == 16 and r.messages[-1]["tool_calls"] for r in drone)
    assert drone[0].meta["extra"] == {"parallel_tool_calls": False}
    reason = list(read_dataset(LF / "reason_tool_use_demo_50.jsonl"))
    assert sum(bool(m.get("reasoning_content")) for r in reason for m in r.messages) == 112
    assert sum(m["role"] == "tool" for r in reason for m in r.messages) == 42


def test_a_system_prompt_answered_with_no_user_turn_is_a_valid_chat():
    records = list(read_dataset(FORMATS / "openai-cookbook/toy_chat_fine_tuning.jsonl"))
    assert [m["role"] for m in records[3].messages] == ["system", "assistant"]
    assert records[3].messages[1]["content"] == "You're great!"


def test_sharegpt_observation_without_a_function_call_is_rejected_with_the_reason(tmp_path):
    # the shape of rows 198 and 294 of the whole glaive_toolcall_zh_demo.json (not in the excerpt): the function
    # call was translated into the assistant's text, so the observation answers no call
    src = write_jsonl(tmp_path / "g.jsonl", [{"conversations": [
        {"from": "human", "value": "q"}, {"from": "gpt", "value": 'ok\nAI calc: {"a": 1}'},
        {"from": "observation", "value": "{}"}, {"from": "gpt", "value": "a"},
        {"from": "human", "value": "thanks"}, {"from": "gpt", "value": "b"}]}])
    summary = convert(src, tmp_path / "o.jsonl", allow_empty=True)
    (reject,) = rejects_of(tmp_path / "o.jsonl")
    assert summary.rejected == 1 and reject["field"] == "conversations"
    assert reject["reason"] == "turn 2 is a tool result (observation) but no tool call comes before it"


# ---- LLaMA-Factory's dataset_info.json ---------------------------------------------------------

LOCAL = {"identity": "alpaca", "glaive_toolcall_en_demo": "sharegpt", "glaive_toolcall_zh_demo": "sharegpt",
         "dpo_en_demo": "sharegpt-preference", "dpo_zh_demo": "sharegpt-preference", "kto_en_demo": "sharegpt-kto",
         "wiki_demo": "text", "c4_demo": "text"}


@pytest.mark.parametrize("name", sorted(LOCAL))
def test_dataset_info_entries_read_by_their_declared_format(name):
    ds = read_dataset(f"{INFO}#{name}")
    records = list(ds)
    assert ds.shape == LOCAL[name] and ds.stats.rejected == 0 and len(records) == ds.stats.read > 0
    plain = list(read_dataset(LF / json.loads(INFO.read_text())[name]["file_name"]))
    assert [content(r) for r in records] == [content(r) for r in plain]


def test_dataset_info_names_what_cannot_be_read(tmp_path):
    with pytest.raises(InputError, match="no dataset named 'nope'") as info:
        read_dataset(f"{INFO}#nope")
    assert "dpo_en_demo" in info.value.hint
    with pytest.raises(InputError, match="'alpaca_en' is not a local file \\(hf_hub_url llamafactory/alpaca_en\\)"):
        read_dataset(f"{INFO}#alpaca_en")
    with pytest.raises(InputError, match="has images"):
        read_dataset(f"{INFO}#mllm_demo")
    with pytest.raises(InputError, match="LLaMA-Factory's list of datasets") as info:
        read_dataset(INFO)
    assert "--dataset NAME" in info.value.hint
    with pytest.raises(InputError, match="a LLaMA-Factory data folder holds many datasets"):
        read_dataset(LF)


def test_cli_dataset_info_options(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["inspect", "--dataset-info", str(INFO), "--dataset", "kto_en_demo", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output[res.output.index("{"):])
    assert (info["shape"], info["kind"], info["rows"], info["rejected"]) == ("sharegpt-kto", "kto", 90, 0)
    out = tmp_path / "dpo.jsonl"
    res = runner.invoke(cli, ["convert", "--dataset-info", str(INFO), "--dataset", "dpo_en_demo", "-o", str(out),
                              "--to", "openai-preference"])
    assert res.exit_code == 0, res.output
    assert "read 62 rows (sharegpt-preference), wrote 62 (openai-preference), rejected 0" in res.output
    res = runner.invoke(cli, ["dedup", "--dataset-info", str(INFO), "--dataset", "glaive_toolcall_en_demo", "-o",
                              str(tmp_path / "d.jsonl")])  # every reading command, also those that look at paths
    assert res.exit_code == 0, res.output
    assert "read 115 rows: 8 exact duplicates, 1 near duplicates" in res.output
    res = runner.invoke(cli, ["inspect", "--dataset", "dpo_en_demo"])
    assert res.exit_code == 2 and "--dataset-info FILE and --dataset NAME go together" in res.output
    res = runner.invoke(cli, ["inspect"])
    assert res.exit_code == 2 and "Missing argument" in res.output


@pytest.mark.parametrize("target,name", [("llamafactory-sharegpt", "glaive_toolcall_en_demo.json"),
                                          ("llamafactory-sharegpt", "dpo_zh_demo.json"),
                                          ("llamafactory-sharegpt", "kto_en_demo.json"),
                                          ("llamafactory-alpaca", "identity.json"),
                                          ("llamafactory-alpaca", "c4_demo.jsonl")])
def test_llamafactory_export_writes_its_dataset_info_entry(tmp_path, target, name):
    out = tmp_path / "data" / "mine.jsonl"
    out.parent.mkdir()
    (out.parent / "dataset_info.json").write_text(json.dumps({"other": {"file_name": "x.json"}}))
    summary = convert(LF / name, out, to=target)
    info = json.loads((out.parent / "dataset_info.json").read_text())
    assert summary.dataset_name == "mine" and set(info) == {"other", "mine"}  # other entries are kept
    assert info["mine"]["file_name"] == "mine.jsonl"
    again = list(read_dataset(f"{out.parent / 'dataset_info.json'}#mine"))  # LLaMA-Factory's reading of it
    assert [content(r) for r in again] == [content(r) for r in read_dataset(LF / name)]
    convert(LF / name, out, to=target)  # a rerun replaces its own entry
    with pytest.raises(InputError, match="its entry 'mine' describes mine.jsonl, not mine.json"):
        convert(LF / name, out.with_suffix(".json"), to=target)


# ---- nested fields, KTO and multi-turn prompts ---------------------------------------------------

def test_nested_map_paths(tmp_path):
    res = CliRunner().invoke(cli, ["convert", str(FORMATS / "self-instruct/seed_tasks.jsonl"), "-o",
                                   str(tmp_path / "o.jsonl"), "--map", "context=instances.0.input",
                                   "--map", "output=instances[0].output"])
    assert res.exit_code == 0, res.output
    rows = read_lines(tmp_path / "o.jsonl")
    source = _source(FORMATS / "self-instruct/seed_tasks.jsonl")
    assert [(r["instruction"], r["context"], r["output"]) for r in rows] == [
        (s["instruction"], s["instances"][0]["input"], s["instances"][0]["output"]) for s in source]
    assert "instances" not in rows[0]["meta"]["extra"]  # taken whole: not kept twice
    chat = list(read_dataset(CASES["fastchat"].path, mapping=["instruction=conversations[0].value",
                                                              "output=conversations[1].value"]))
    assert chat[0].instruction == "Who are you?" and chat[0].output.startswith("I am Vicuna")
    assert chat[0].meta["extra"]["conversations_rest"][2] == {"from": "human", "value": "Have a nice day!"}


def test_kto_rows_keep_their_label_and_never_become_sft_text(tmp_path):
    from dataforge.formatting import format_dataset

    records = list(read_dataset(LF / "kto_en_demo.json"))
    labels = [r.label for r in records]
    assert labels.count(False) > 20 and labels.count(True) > 20
    with pytest.raises(ConfigError, match="bad completions would be trained on"):
        format_dataset(LF / "kto_en_demo.json", tmp_path / "f.jsonl")
    row = to_shape(records[0], "trl-chat")
    assert set(row) == {"id", "prompt", "completion", "label"} and row["label"] is records[0].label


def test_dpo_renders_the_whole_multi_turn_prompt(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    from dataforge.train.render import render_preference

    tok = AutoTokenizer.from_pretrained(str(tiny_tokenizer_dir))
    record = next(r for r in read_dataset(FORMATS / "hh-rlhf/harmless-base-test.jsonl") if len(r.history) >= 2)
    prompt, chosen, rejected = render_preference(record, "chat_template", tok)
    assert record.history[0]["content"] in prompt and record.history[1]["content"] in prompt
    assert prompt.index(record.history[0]["content"]) < prompt.index(record.instruction)
    assert record.chosen in chosen and record.rejected in rejected


def test_hosted_openai_export_keeps_the_whole_prompt_and_refuses_kto(tmp_path):
    from dataforge_openai_finetune.export import build

    export = build(FORMATS / "hh-rlhf/harmless-base-test.jsonl", tmp_path / "run")
    assert len(export.train) == 199 and export.rejected == 1
    first = export.train[0]["input"]["messages"]
    assert [m["role"] for m in first] == ["user", "assistant", "user", "assistant", "user"]
    assert first[0]["content"] == "what are some pranks with a pen i can do?"
    tools = build(LF / "glaive_toolcall_en_demo.json", tmp_path / "run2")
    assert sum("tools" in e for e in tools.train) > 50 and tools.rejected == 0
    with pytest.raises(InputError, match="OpenAI fine-tuning has no method for kto data"):
        build(LF / "kto_en_demo.json", tmp_path / "run3")
