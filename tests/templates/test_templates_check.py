"""`dataforge templates check` names file and line; user packs work through --template-dir."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from dataforge.cli.main import cli
from dataforge.errors import ConfigError
from dataforge.formatting import format_record
from dataforge.records import InstructionRecord
from dataforge.templates.check import check_pack_dir

GOOD = """\
description: my support format
type: prompt
strings: [intro, question_header, notes_header, answer_header]
prompt: |
  {{ intro }}

  {{ question_header }} {{ instruction }}
  {% if context %}
  {{ notes_header }} {{ context }}
  {% endif %}
  {{ answer_header }}
completion: "{{ output }}{{ eos_token }}"
"""
EN = "intro: You answer support tickets.\nquestion_header: 'Ticket:'\nnotes_header: 'Notes:'\nanswer_header: 'Reply:'\n"
DE = ("intro: Du beantwortest Support-Tickets.\nquestion_header: 'Ticket:'\nnotes_header: 'Notizen:'\n"
      "answer_header: 'Antwort:'\n")


def make_pack(root: Path, template: str = GOOD, langs: dict | None = None, name: str = "support") -> Path:
    pack = root / name
    pack.mkdir(parents=True)
    (pack / "template.yaml").write_text(textwrap.dedent(template), encoding="utf-8")
    for lang, text in (langs if langs is not None else {"en": EN, "de": DE}).items():
        (pack / f"{lang}.yaml").write_text(text, encoding="utf-8")
    return pack


def run(*args):
    return CliRunner().invoke(cli, ["-q", *map(str, args)])


def test_a_good_user_pack_passes_and_formats(tmp_path):
    make_pack(tmp_path / "packs")
    assert check_pack_dir(tmp_path / "packs") == []
    res = run("templates", "check", tmp_path / "packs")
    assert res.exit_code == 0 and "ok" in res.output
    rec = InstructionRecord(instruction="My printer is on fire", output="Unplug it.", lang="de")
    out = format_record(rec, "support", "auto", template_dir=tmp_path / "packs")
    assert out == {"prompt": "Du beantwortest Support-Tickets.\n\nTicket: My printer is on fire\nAntwort:\n",
                   "completion": "Unplug it.</s>"}
    listed = run("templates", "list", "--template-dir", tmp_path / "packs")
    assert "support" in listed.output and "de, en" in listed.output


def test_invalid_jinja_is_reported_with_file_and_line(tmp_path):
    broken = GOOD.replace("  {{ answer_header }}", "  {% if %}{{ answer_header }}")
    pack = make_pack(tmp_path, broken)
    problems = check_pack_dir(pack)
    assert len(problems) == 1
    # the prompt source starts on line 5 of template.yaml; the bad tag is its 7th line -> line 11
    assert problems[0].where == f"{pack / 'template.yaml'}:11"
    assert "invalid Jinja" in problems[0].message
    res = run("templates", "check", pack)
    assert res.exit_code == 1 and "template.yaml:11: invalid Jinja in 'prompt'" in res.output
    assert "Traceback" not in res.output


def test_unknown_variable_is_reported_with_its_line(tmp_path):
    pack = make_pack(tmp_path, GOOD.replace("{{ instruction }}", "{{ instruction }} {{ customer_name }}"))
    problems = check_pack_dir(pack)
    assert [p.where for p in problems] == [f"{pack / 'template.yaml'}:7"]
    assert "unknown variable 'customer_name'" in problems[0].message


def test_invalid_yaml_is_reported_with_its_line(tmp_path):
    pack = make_pack(tmp_path, GOOD.replace("type: prompt", "type: [prompt"))
    problems = check_pack_dir(pack)
    assert len(problems) == 1 and "invalid YAML" in problems[0].message
    assert problems[0].where.startswith(f"{pack / 'template.yaml'}:")


def test_language_file_problems_name_the_file_and_key(tmp_path):
    de = DE.replace("answer_header", "answr_header")
    pack = make_pack(tmp_path, langs={"en": EN, "de": de})
    problems = {str(p) for p in check_pack_dir(pack)}
    assert f"{pack / 'de.yaml'}:4: unknown string 'answr_header' (template.yaml lists: intro, question_header," \
           " notes_header, answer_header)" in problems
    assert f"{pack / 'de.yaml'}:1: missing string(s): answer_header" in problems


def test_pack_without_english_is_rejected(tmp_path):
    pack = make_pack(tmp_path, langs={"de": DE})
    assert any("needs en.yaml" in p.message for p in check_pack_dir(pack))


def test_header_left_behind_with_empty_context_is_caught(tmp_path):
    leaky = GOOD.replace("  {% if context %}\n  {{ notes_header }} {{ context }}\n  {% endif %}\n",
                         "  {{ notes_header }} {{ context }}\n")
    pack = make_pack(tmp_path, leaky)
    messages = [p.message for p in check_pack_dir(pack)]
    assert any("'notes_header' is rendered even when the context is empty" in m for m in messages)


def test_missing_source_and_bad_type(tmp_path):
    pack = make_pack(tmp_path, GOOD.replace('completion: "{{ output }}{{ eos_token }}"\n', ""))
    assert "needs a 'completion' source" in check_pack_dir(pack)[0].message
    other = make_pack(tmp_path, GOOD.replace("type: prompt", "type: poem"), name="p2")
    assert check_pack_dir(other)[0].where == f"{other / 'template.yaml'}:2"


def test_broken_user_pack_fails_format_with_one_line(tmp_path):
    make_pack(tmp_path / "packs", GOOD.replace("{{ intro }}", "{{ intro | nosuchfilter }}"))
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"instruction": "a", "output": "b"}) + "\n")
    res = run("format", data, "-o", tmp_path / "o.jsonl", "-t", "support", "--template-dir", tmp_path / "packs")
    assert res.exit_code == 1 and "template.yaml:5" in res.output and "Traceback" not in res.output
    with pytest.raises(ConfigError, match="nosuchfilter"):
        format_record(InstructionRecord(instruction="a", output="b"), "support", template_dir=tmp_path / "packs")


def test_templates_show_renders_an_example_in_the_language(tmp_path):
    res = run("templates", "show", "alpaca", "--lang", "es")
    assert res.exit_code == 0
    assert "### Instrucción:" in res.output and "### Entrada:" in res.output and "</s>" in res.output
    bare = run("templates", "show", "dolly", "--lang", "ja", "--no-context")
    assert "### 指示：" in bare.output and "### 文脈：" not in bare.output
    missing = run("templates", "show", "qa", "--lang", "sw")
    assert "English used" in missing.output and "Read the text below" in missing.output
    unknown = run("templates", "show", "nope")
    assert unknown.exit_code == 1 and "unknown template 'nope'" in unknown.output


def test_builtin_packs_pass_their_own_check():
    from dataforge.templates import BUILTIN_DIR

    assert check_pack_dir(BUILTIN_DIR) == []
