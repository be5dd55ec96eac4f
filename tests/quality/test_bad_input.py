"""Bad input: rejected rows, an empty field, one row, one language, a wrong --tokenizer, an empty file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from quality_helpers import base_rows, finding, write_jsonl

from dataforge.cli.main import cli
from dataforge.errors import ConfigError, InputError


def run_cli(*args):
    return CliRunner().invoke(cli, ["-q", "report", *map(str, args)])


def test_rejected_rows_are_listed_and_the_report_still_renders(tmp_path):
    rows = [json.dumps(r) for r in base_rows(6)]
    rows[1] = '{"instruction": "broken json", "response": '
    rows[3] = json.dumps({"instruction": "no answer column at all"})
    data = write_jsonl(tmp_path / "data.jsonl", rows)
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    res = run_cli(data, "-o", out, "--json", js)
    assert res.exit_code == 0, res.output
    report = json.loads(js.read_text())
    assert report["rows"] == {"read": 6, "usable": 4, "rejected": 2}
    rej = report["rejects"]
    assert sorted(e["line"] for e in rej["examples"]) == [2, 4]
    assert rej["file"] == str(out) + ".rejects.jsonl"
    assert len((tmp_path / "r.html.rejects.jsonl").read_text().splitlines()) == 2
    assert finding(report, "rejected_rows")["count"] == 2
    page = out.read_text()
    assert "malformed JSON" in page and "data.jsonl:2" in page and "data.jsonl:4" in page
    assert "rejects:" in res.output


def test_every_row_rejected_still_gives_a_report(tmp_path, report_of):
    from dataforge.quality import render_html

    report = report_of(["not json", "[1, 2]"])
    assert report["rows"]["usable"] == 0 and report["rows"]["rejected"] == 2
    assert finding(report, "no_usable_rows")["severity"] == "high"
    page = render_html(report)
    assert "Rejected rows" in page and "expected a JSON object" in page


def test_an_entirely_empty_field(report_of):
    from dataforge.quality import render_html

    rows = [dict(r, response="") for r in base_rows(12)]
    report = report_of(rows)
    f = finding(report, "field_all_empty:output")
    assert f["severity"] == "high" and f["count"] == 12
    assert "every row" in f["title"]
    assert report["lengths"]["fields"]["output"]["filled"] == 0
    assert report["languages"]["fields"]["output"]["not_detected"]["empty"] == 12
    page = render_html(report)
    assert "'output' is empty in every row" in page


def test_a_single_row(report_of):
    report = report_of(base_rows(1))
    assert report["rows"]["usable"] == 1
    assert finding(report, "too_few_examples")["severity"] == "high"
    assert report["duplicates"]["near"]["pairs"] == 0
    assert report["lengths"]["fields"]["output"]["chars"]["count"] == 1


def test_one_language_only(report_of):
    report = report_of(base_rows(30))
    shares = report["languages"]["fields"]["output"]["shares"]
    assert list(shares) == ["en"] and shares["en"]["share"] == 1.0
    assert finding(report, "languages")["title"] == "one language: en"
    assert report["lengths"]["by_language"] == {}  # nothing to split by


def test_missing_tokenizer_path_is_a_clear_error(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", base_rows(3))
    res = run_cli(data, "-o", tmp_path / "r.html", "--tokenizer", tmp_path / "nope")
    assert res.exit_code == 1
    assert "error: --tokenizer" in res.output and "no such file or folder" in res.output
    assert "hint:" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("name, content, message", [
    ("tok", None, "neither tokenizer.json nor tokenizer.model"),  # an empty folder
    ("tok.model", b"not a model", "not a readable SentencePiece model"),
    ("tokenizer.json", b"{not json", "could not be loaded"),
    ("tok.txt", b"x", "not a tokenizer file"),
])
def test_unusable_tokenizer_paths(tmp_path, report_of, name, content, message):
    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        report_of(base_rows(2), tokenizer=path)


def test_empty_file_is_an_input_error(tmp_path, report_of):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(InputError, match="no rows to report on"):
        report_of(tmp_path / "empty.jsonl")


def test_multi_turn_chats_count_every_turn(report_of):
    chat = {"messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Name a colour of the rainbow, please."},
                         {"role": "assistant", "content": "Red is one of them."},
                         {"role": "user", "content": "And another one from the same rainbow?"},
                         {"role": "assistant", "content": "As an AI language model, I cannot see colours."}]}
    single = {"messages": chat["messages"][:3]}
    report = report_of([chat, single])
    assert report["input"]["shape"] == "openai" and report["rows"]["usable"] == 2
    out = report["lengths"]["fields"]["output"]["chars"]
    assert out["max"] == len("Red is one of them.\n\nAs an AI language model, I cannot see colours.")
    assert report["signals"]["signals"]["refusal"]["rows"] == 1  # found in the second assistant turn
    from dataforge.tokencount import estimate_one as est  # the estimate without a tokenizer

    m = chat["messages"]
    expected = (est(m[1]["content"] + "\n\n" + m[3]["content"]) + est(m[2]["content"] + "\n\n" + m[4]["content"])
                + est("Be brief.") + est(m[1]["content"]) + est(m[2]["content"]) + est("Be brief."))
    assert report["readiness"]["tokens_per_epoch"] == expected  # the system prompt counts too
