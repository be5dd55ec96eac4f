"""`--to openai` writes chat JSONL that passes the checks of OpenAI's data-preparation guide."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dataforge.cli.main import cli
from dataforge.errors import InputError
from dataforge.formatting import format_dataset, validate_openai
from dataforge.formatting.openai_check import GUIDANCE, default_epochs, example_errors
from dataforge.formatting.styles import openai_preference_row
from dataforge.records import PreferenceRecord
from dataforge.tokencount import estimate_one


def dolly_rows(n):
    return [{"instruction": f"Question number {i}?", "context": "" if i % 2 else f"Background {i}.",
             "response": f"Answer {i}.", "category": "open_qa"} for i in range(n)]


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_export_passes_validation_and_reports_tokens_and_cost(tmp_path):
    out = tmp_path / "ft.jsonl"
    s = format_dataset(write(tmp_path / "in.jsonl", dolly_rows(12)), out, to="openai", epochs=2,
                       price_per_1m_tokens=25.0)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 12 and all(set(r) == {"messages"} for r in rows)  # no extra keys for the API
    assert all(example_errors(r) == [] for r in rows)
    assert rows[0]["messages"] == [{"role": "user", "content": "Question number 0?\n\nBackground 0."},
                                   {"role": "assistant", "content": "Answer 0."}]
    report = s.openai
    assert report.ok and report.examples == 12 and report.guidance == [GUIDANCE]
    # OpenAI's recipe: 3 tokens per message + its text, + 3 for the reply; the text estimated per script
    expected = [3 + estimate_one(m[0]["content"]) + 3 + estimate_one(m[1]["content"]) + 3
                for m in (r["messages"] for r in rows)]
    assert report.tokens == expected and report.total_tokens == sum(expected)
    assert report.billed_tokens == 2 * sum(expected)
    assert report.cost == pytest.approx(2 * sum(expected) / 1e6 * 25.0)
    text = "\n".join(s.lines())
    assert "50-100 well-crafted examples" in text and "estimated cost: $" in text and "2 epoch(s)" in text


def test_fewer_than_ten_examples_is_an_error_and_nothing_is_written(tmp_path):
    out = tmp_path / "ft.jsonl"
    with pytest.raises(InputError, match="needs at least 10"):
        format_dataset(write(tmp_path / "in.jsonl", dolly_rows(9)), out, to="openai")
    assert not out.exists()
    res = CliRunner().invoke(cli, ["-q", "format", str(tmp_path / "in.jsonl"), "-o", str(out), "--to", "openai"])
    assert res.exit_code == 1 and "error: --to openai: 9 valid example(s)" in res.output


def test_fifty_examples_need_no_guidance_and_default_epochs_follow_openai(tmp_path):
    s = format_dataset(write(tmp_path / "in.jsonl", dolly_rows(60)), tmp_path / "ft.jsonl", to="openai")
    assert s.openai.ok and s.openai.guidance == []
    assert s.openai.epochs == 3 and not s.openai.epochs_given
    assert default_epochs(12) == 8 and default_epochs(10_000) == 2 and default_epochs(30_000) == 1


def test_token_counts_use_the_tokenizer_when_given(tmp_path, tok):
    rows = [{"messages": [{"role": "user", "content": "Hello there"}, {"role": "assistant", "content": "Hi!"}]}] * 10
    report = validate_openai(rows, tokenizer=tok)
    n = len(tok("Hello there", add_special_tokens=False)["input_ids"]) + len(tok("Hi!", add_special_tokens=False)["input_ids"])
    assert report.tokens == [n + 9] * 10 and not report.estimated


@pytest.mark.parametrize("row,problem", [
    ({"messages": [{"role": "user", "content": "Hi"}, {"role": "bot", "content": "Hello"}]}, "role 'bot'"),
    ({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "  "}]}, "empty content"),
    ({"messages": [{"role": "assistant", "content": "Hi"}, {"role": "user", "content": "Hey"}]},
     "does not end with an assistant message"),
    ({"messages": [{"role": "user", "content": "Hi"}]}, "no assistant message"),
    ({"conversation": []}, "missing or empty 'messages'"),
    ({"messages": [{"role": "user", "text": "Hi"}]}, "needs 'role' and 'content'"),
])
def test_each_rule_of_the_guide_is_checked(row, problem):
    good = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    report = validate_openai([good] * 10 + [row])
    assert report.ok and report.invalid == 1 and problem in report.row_errors[0][1]
    assert not validate_openai([good] * 9 + [row]).ok  # nine valid examples are too few


PREFERENCE = [{"prompt": f"Question {i}?", "chosen": f"A careful answer {i}.", "rejected": f"No idea {i}."}
              for i in range(12)]


def test_preference_data_writes_openai_preference_rows(tmp_path):
    rows_in = PREFERENCE + [{"prompt": "Same?", "chosen": "Same.", "rejected": " Same. "},
                            {"prompt": "Be kind.", "chosen": "Sure.", "rejected": "No."}]
    out = tmp_path / "dpo.jsonl"
    s = format_dataset(write(tmp_path / "pref.jsonl", rows_in), out, to="openai", epochs=1,
                       price_per_1m_tokens=10.0)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 13 and all(example_errors(r) == [] for r in rows)
    assert rows[0] == {"input": {"messages": [{"role": "user", "content": "Question 0?"}]},
                       "preferred_output": [{"role": "assistant", "content": "A careful answer 0."}],
                       "non_preferred_output": [{"role": "assistant", "content": "No idea 0."}]}
    # a record's own system prompt opens the input; no default one is added
    record = PreferenceRecord(instruction="Be kind.", context="Be brief.", chosen="Sure.", rejected="No.",
                              meta={"system": "You are gentle."})
    assert openai_preference_row(record)["input"]["messages"] == [
        {"role": "system", "content": "You are gentle."}, {"role": "user", "content": "Be kind.\n\nBe brief."}]
    assert rows[-1]["input"]["messages"] == [{"role": "user", "content": "Be kind."}]
    # a prompt of several turns keeps them, in order, before the last user turn
    multi = PreferenceRecord(instruction="And now?", chosen="Yes.", rejected="No.",
                             history=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}])
    row = openai_preference_row(multi)
    assert [m["content"] for m in row["input"]["messages"]] == ["Hi", "Hello", "And now?"]
    assert example_errors(row) == []
    # the pair with no preference is rejected with the reason, not written
    reject = json.loads((tmp_path / "dpo.jsonl.rejects.jsonl").read_text().splitlines()[0])
    assert "no preference to learn" in reject["reason"] and s.rejected == 1
    report = s.openai
    assert report.ok and report.examples == 13 and report.invalid == 1 and report.kinds == {"preference"}
    # tokens: the input once and both answers, 3 per message + 3 (OpenAI's recipe)
    assert report.tokens[0] == (3 * 3 + 3 + estimate_one("Question 0?") + estimate_one("A careful answer 0.")
                                + estimate_one("No idea 0."))
    assert "13 valid preference (DPO) example(s)" in "\n".join(s.lines())


@pytest.mark.parametrize("row,problem", [
    ({"input": {"messages": [{"role": "user", "content": "Hi"}]},
      "preferred_output": [{"role": "assistant", "content": "Hello"}, {"role": "assistant", "content": "x"}],
      "non_preferred_output": [{"role": "assistant", "content": "Go away"}]}, "exactly one assistant message"),
    ({"input": {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yes?"}]},
      "preferred_output": [{"role": "assistant", "content": "Hello"}],
      "non_preferred_output": [{"role": "assistant", "content": "Go away"}]}, "must end with a user"),
    ({"input": {"messages": []}, "preferred_output": [{"role": "assistant", "content": "Hello"}],
      "non_preferred_output": [{"role": "assistant", "content": "Go away"}]}, "missing or empty 'input.messages'"),
    ({"input": {"messages": [{"role": "user", "content": "Hi"}]},
      "preferred_output": [{"role": "user", "content": "Hello"}],
      "non_preferred_output": [{"role": "assistant", "content": "Go away"}]}, "must be an assistant message"),
    ({"input": {"messages": [{"role": "user", "content": "Hi"}]}, "preferred_output": [{"role": "assistant",
      "content": "Hello"}], "non_preferred_output": [{"role": "assistant", "content": " "}]}, "empty content"),
    ({"input": {"messages": [{"role": "user", "content": "Hi"}]}, "preferred_output": [{"role": "assistant",
      "content": "Hello"}], "non_preferred_output": [{"role": "assistant", "content": "Go"}], "id": "7"},
     "unrecognized top-level keys ['id']"),
])
def test_each_preference_rule_is_checked(row, problem):
    good = {"input": {"messages": [{"role": "user", "content": "Hi"}]},
            "preferred_output": [{"role": "assistant", "content": "Hello"}],
            "non_preferred_output": [{"role": "assistant", "content": "Go away"}]}
    report = validate_openai([good] * 10 + [row])
    assert report.ok and report.invalid == 1 and problem in report.row_errors[0][1]


def test_a_file_mixing_chat_and_preference_examples_is_refused():
    chat = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    pref = {"input": {"messages": [{"role": "user", "content": "Hi"}]},
            "preferred_output": [{"role": "assistant", "content": "Hello"}],
            "non_preferred_output": [{"role": "assistant", "content": "Go away"}]}
    report = validate_openai([chat] * 10 + [pref] * 10)
    assert not report.ok and "mixes chat and preference" in report.errors[0]


def test_tool_calls_are_valid_chat_examples():
    call = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
        "name": "weather", "arguments": '{"city": "Paris"}'}}]}
    row = {"messages": [{"role": "user", "content": "Weather in Paris?"}, call,
                        {"role": "tool", "tool_call_id": "c1", "content": "18C"},
                        {"role": "assistant", "content": "It is 18C."}],
           "tools": [{"type": "function", "function": {"name": "weather", "parameters": {}}}]}
    assert example_errors(row) == []
    report = validate_openai([row] * 10)
    assert report.ok and report.tokens[0] > validate_openai([{"messages": [row["messages"][0],
                                                                          row["messages"][3]]}] * 10).tokens[0]


@pytest.mark.parametrize("to", ["sharegpt", "alpaca"])
def test_preference_data_to_a_chat_export_names_what_exists(tmp_path, to):
    res = CliRunner().invoke(cli, ["-q", "format", str(write(tmp_path / "p.jsonl", PREFERENCE)), "-o",
                                   str(tmp_path / "o.jsonl"), "--to", to])
    assert res.exit_code == 1 and f"--to {to} cannot hold preference" in res.output
    hint = next(line for line in res.output.splitlines() if line.startswith("hint:"))
    assert "--to openai" in hint and "--style preference" in hint and "dataforge convert --to trl" in hint
    assert "--to preference" not in hint  # `format --to` has no such choice
    assert not (tmp_path / "o.jsonl").exists()
