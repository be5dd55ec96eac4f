"""`--to openai` writes chat JSONL that passes the checks of OpenAI's data-preparation guide."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dataforge.cli.main import cli
from dataforge.errors import InputError
from dataforge.formatting import format_dataset, validate_openai
from dataforge.formatting.openai_check import GUIDANCE, default_epochs, example_errors
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
