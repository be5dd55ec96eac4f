"""Safety of templates, YAML and recipes: hostile templates and YAML end in one error line, never a hang
or a crash; recipes delete only what they wrote.

Each test runs the real CLI in a subprocess (with a timeout: a hang fails the test) and asserts the file
system afterwards: the input's hash and the neighbouring folder's listing, temp files, exit code, error line.
Memory stays bounded because the render stops at the limit: the reason names the limit that was hit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safety_helpers import run_cli, snapshot, temp_leftovers

TIMEOUT = 90  # seconds; each of these finishes in a few seconds when the limits work

HOSTILE = {  # expression -> the limit it must hit
    "repeat": ("{{ 'a' * 10**10 }}", "DATAFORGE_TEMPLATE_MAX_OUTPUT"),
    "printf": ("{{ '%0999999999d' % 1 }}", "DATAFORGE_TEMPLATE_MAX_OUTPUT"),
    "format": ("{{ '{:>999999999}'.format(1) }}", "DATAFORGE_TEMPLATE_MAX_OUTPUT"),
    "nested_range": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                     "DATAFORGE_TEMPLATE_MAX_LOOP"),
    "lipsum": ("{{ lipsum(10**6) }}", "DATAFORGE_TEMPLATE_MAX_OUTPUT"),
    "doubling": ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                 "{% endfor %}{{ ns.s }}", "DATAFORGE_TEMPLATE_MAX_OUTPUT"),
}


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _pack(folder: Path, prompt: str, name: str = "hostile") -> Path:
    """A prompt pack whose prompt source is `prompt` (no wrapper strings)."""
    pack = folder / name
    pack.mkdir(parents=True)
    (pack / "template.yaml").write_text(
        "type: prompt\nprompt: |\n  " + prompt.replace("\n", "\n  ") + "\n"
        "completion: \"{{ output }}{{ eos_token }}\"\n", encoding="utf-8")
    return folder


def _fingerprint(path: Path):
    try:
        from dataforge.recipes.outputs import fingerprint
    except ImportError:  # before recipes recorded fingerprints
        return {}
    return fingerprint(path)


def _no_rows(path: Path) -> bool:
    return not path.exists() or not path.read_text().strip()


def _state(work: Path) -> dict:
    return json.loads((work / ".dataforge-recipe-state.json").read_text())


# ----- 1. templates: packs, --template-dir, templates check, synth --prompts --------------------------------
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_pack_rejects_the_row_with_the_limit_and_keeps_the_run(tmp_path, case):
    expr, limit = HOSTILE[case]
    packs = _pack(tmp_path / "packs", "{% if instruction == 'boom' %}" + expr + "{% endif %}{{ instruction }}")
    data = _jsonl(tmp_path / "in.jsonl", [{"instruction": "boom", "output": "x"},
                                          {"instruction": "fine", "output": "y"}])
    before, listing = snapshot(data.parent)[data.name], set(snapshot(tmp_path))
    res = run_cli("format", data, "-o", tmp_path / "out.jsonl", "-t", "hostile", "--template-dir", packs,
                  "--lang", "en", cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 0, res.err
    assert [json.loads(x)["id"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] != []
    rejects = [json.loads(x) for x in (tmp_path / "out.jsonl.rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 1 and rejects[0]["row"]["instruction"] == "boom"
    assert limit in rejects[0]["reason"] and "over the template limit" in rejects[0]["reason"]
    assert snapshot(data.parent)[data.name] == before
    assert set(snapshot(tmp_path)) - listing == {"out.jsonl", "out.jsonl.rejects.jsonl"}
    assert temp_leftovers(tmp_path) == []


def test_every_row_over_a_limit_is_one_error_line(tmp_path):
    packs = _pack(tmp_path / "packs", HOSTILE["nested_range"][0])
    data = _jsonl(tmp_path / "in.jsonl", [{"instruction": "a", "output": "b"}])
    listing = set(snapshot(tmp_path))
    res = run_cli("format", data, "-o", tmp_path / "out.jsonl", "-t", "hostile", "--template-dir", packs,
                  "--lang", "en", cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1
    assert "wrote none" in res.error_line and "DATAFORGE_TEMPLATE_MAX_LOOP" in res.error_line
    assert "Traceback" not in res.err
    assert _no_rows(tmp_path / "out.jsonl")
    assert set(snapshot(tmp_path)) - listing <= {"out.jsonl", "out.jsonl.rejects.jsonl"}
    assert temp_leftovers(tmp_path) == []


def test_templates_check_reports_the_limit_instead_of_hanging(tmp_path):
    packs = _pack(tmp_path / "packs", HOSTILE["nested_range"][0] + HOSTILE["repeat"][0])
    before = snapshot(tmp_path)
    res = run_cli("templates", "check", packs, cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1 and res.error_line == f"error: 1 problem(s) in {packs}"
    assert "rendering the example hit a limit" in res.out and "DATAFORGE_TEMPLATE_MAX_LOOP" in res.out
    assert snapshot(tmp_path) == before


def test_a_limit_can_be_raised_with_its_environment_variable(tmp_path):
    packs = _pack(tmp_path / "packs", "{{ range(150000)|length }}")
    data = _jsonl(tmp_path / "in.jsonl", [{"instruction": "a", "output": "b"}])
    res = run_cli("format", data, "-o", tmp_path / "low.jsonl", "-t", "hostile", "--template-dir", packs,
                  "--lang", "en", cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1 and "DATAFORGE_TEMPLATE_MAX_RANGE=100,000" in res.error_line
    res = run_cli("format", data, "-o", tmp_path / "high.jsonl", "-t", "hostile", "--template-dir", packs,
                  "--lang", "en", cwd=tmp_path, timeout=TIMEOUT, env={"DATAFORGE_TEMPLATE_MAX_RANGE": "200000"})
    assert res.code == 0, res.err
    assert json.loads((tmp_path / "high.jsonl").read_text())["text"].startswith("150000")


def test_synth_prompts_template_over_a_limit_stops_before_any_request(tmp_path):
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "qa_generate.j2").write_text(HOSTILE["repeat"][0], encoding="utf-8")
    docs = tmp_path / "docs.txt"
    docs.write_text("Report 1: The committee met on Tuesday to review the harbour plan and agreed that the"
                    " northern pier needs repairs before the winter storms arrive this year.\n", encoding="utf-8")
    before, listing = snapshot(tmp_path), set(snapshot(tmp_path))
    res = run_cli("synth", "qa", docs, "-o", tmp_path / "qa.jsonl", "--prompts", prompts,
                  "--base-url", "http://127.0.0.1:9/v1", "-m", "fake", cwd=tmp_path, timeout=TIMEOUT,
                  env={"OPENAI_API_KEY": "sk-test-templates"})
    assert res.code == 1
    assert res.error_line.startswith(f"error: {prompts / 'qa_generate.j2'}: '*' repetition")
    assert "DATAFORGE_TEMPLATE_MAX_OUTPUT" in res.error_line
    assert not (tmp_path / "qa.jsonl").exists()
    assert {k: v for k, v in snapshot(tmp_path).items() if k in before} == before
    assert set(snapshot(tmp_path)) - listing <= {"qa.jsonl.journal.sqlite"}  # the resumable journal, kept
    assert temp_leftovers(tmp_path) == []


# ----- 2. a model folder's chat template (-t chat:DIR) ---------------------------------------------------------
def _model_with_template(tmp_path: Path, tiny_tokenizer_dir: Path, template: str) -> Path:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_tokenizer_dir))
    tok.chat_template = template
    out = tmp_path / "model"
    tok.save_pretrained(str(out))
    return out


def test_model_chat_template_runs_in_the_bounded_sandbox(tmp_path, tiny_tokenizer_dir):
    model = _model_with_template(tmp_path, tiny_tokenizer_dir, HOSTILE["nested_range"][0])
    data = _jsonl(tmp_path / "in.jsonl", [{"instruction": "a", "output": "b"}])
    before, listing = snapshot(tmp_path), set(snapshot(tmp_path))
    res = run_cli("format", data, "-o", tmp_path / "out.jsonl", "-t", f"chat:{model}", "--lang", "en",
                  cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1 and "over the template limit DATAFORGE_TEMPLATE_MAX_LOOP" in res.error_line
    reason = json.loads((tmp_path / "out.jsonl.rejects.jsonl").read_text())["reason"]
    assert "more than 1,000,000 loop iterations (the tokenizer's chat template)" in reason
    assert _no_rows(tmp_path / "out.jsonl")
    assert {k: v for k, v in snapshot(tmp_path).items() if k in before} == before
    assert set(snapshot(tmp_path)) - listing <= {"out.jsonl", "out.jsonl.rejects.jsonl"}
    assert temp_leftovers(tmp_path) == []


def test_model_chat_template_undefined_name_rejects_instead_of_rendering_nothing(tmp_path, tiny_tokenizer_dir):
    template = ("{{ sytem_prompt }}{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
                "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    model = _model_with_template(tmp_path, tiny_tokenizer_dir, template)
    data = _jsonl(tmp_path / "in.jsonl", [{"instruction": "a", "output": "b"}])
    res = run_cli("format", data, "-o", tmp_path / "out.jsonl", "-t", f"chat:{model}", "--lang", "en",
                  cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1 and "'sytem_prompt' is undefined in the tokenizer's chat template" in res.error_line
    assert _no_rows(tmp_path / "out.jsonl")


def test_model_chat_template_renders_as_transformers_does(tmp_path, tiny_tokenizer_dir):
    """The sandboxed render matches apply_chat_template for a well-behaved template (missing keys allowed)."""
    from transformers import AutoTokenizer

    from dataforge.templates.chat import render_chat

    template = ("{{ bos_token }}{% for m in messages %}{% if m.tool_calls %}TOOLS{% endif %}<|im_start|>"
                "{{ m.role }}\n{{ m.content | trim }}<|im_end|>\n{% endfor %}"
                "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    tok = AutoTokenizer.from_pretrained(str(_model_with_template(tmp_path, tiny_tokenizer_dir, template)))
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": " hi "},
            {"role": "assistant", "content": "hello"}]
    for gen in (True, False):
        assert render_chat(tok, msgs, gen) == tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)


# ----- 3. format --tokenizer: a batch whose every row is rejected ------------------------------------------------
def test_tokenizer_batch_with_every_row_rejected_does_not_lose_the_run(tmp_path, tiny_tokenizer_dir):
    rows = [{"instruction": f"inject <|im_end|> {i}", "output": "x"} for i in range(1024)]  # the whole first batch
    rows.append({"instruction": "a fine question", "output": "a fine answer"})
    data = _jsonl(tmp_path / "in.jsonl", rows)
    before, listing = snapshot(tmp_path), set(snapshot(tmp_path))
    res = run_cli("format", data, "-o", tmp_path / "out.jsonl", "--tokenizer", tiny_tokenizer_dir, "--lang", "en",
                  cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 0, res.err
    assert "Traceback" not in res.err and "IndexError" not in res.err
    assert "read 1,025 rows, wrote 1" in res.out and "rejected 1,024" in res.out
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1
    assert {k: v for k, v in snapshot(tmp_path).items() if k in before} == before
    assert set(snapshot(tmp_path)) - listing == {"out.jsonl", "out.jsonl.rejects.jsonl"}
    assert temp_leftovers(tmp_path) == []


# ----- 4. YAML: alias bombs and recursive anchors ----------------------------------------------------------------
BOMB = "".join(f"{a}: &{a} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
               for p, a in zip([""] + list("abcdefgh"), "abcdefghi"))


@pytest.mark.parametrize("check", [True, False], ids=["check", "run"])
def test_recipe_alias_bomb_is_one_error_line(tmp_path, check):
    recipe = tmp_path / "bomb.yaml"
    recipe.write_text(f"name: bomb\nworkdir: {tmp_path / 'work'}\n{BOMB}stages:\n  dedup:\n    data: *i\n")
    before = snapshot(tmp_path)
    res = run_cli("run", recipe, *(["--check"] if check else []), cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1
    assert res.error_line.startswith(f"error: {recipe}: its aliases (*name) expand to")
    assert "over the limit of 10,000 (an alias bomb?)" in res.error_line
    assert snapshot(tmp_path) == before  # no workdir made


def test_recipe_recursive_anchor_is_one_error_line(tmp_path):
    recipe = tmp_path / "loop.yaml"
    recipe.write_text("name: loop\nstages: &s\n  dedup:\n    data: *s\n")
    before = snapshot(tmp_path)
    res = run_cli("run", recipe, "--check", cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1 and "Traceback" not in res.err
    assert res.error_line == (f"error: {recipe}:2: an alias (*name) refers to the anchor (&name) that contains"
                              " it: a recursive structure")
    assert snapshot(tmp_path) == before


def test_template_pack_alias_bomb_is_a_problem_line(tmp_path):
    pack = tmp_path / "packs" / "bomb"
    pack.mkdir(parents=True)
    (pack / "template.yaml").write_text(BOMB + "type: prompt\nprompt: '{{ instruction }}'\n"
                                        "completion: '{{ output }}'\n", encoding="utf-8")
    res = run_cli("templates", "check", tmp_path / "packs", cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1 and "(an alias bomb?)" in res.out


# ----- 5. recipe value types are checked by --check --------------------------------------------------------------
BAD_VALUES = {  # option lines -> the error; each passed --check before and then crashed with a traceback
    "data": ("    data: 5\n", "stages.format.data: expected a text or a list of texts, got a whole number (5)"),
    "template_dir": ("    data: {data}\n    template_dir: 5\n",
                     "stages.format.template_dir: expected a text, got a whole number (5)"),
    "tokenizer": ("    data: {data}\n    tokenizer: [a, b]\n", "stages.format.tokenizer: expected a text, got a list"),
}


@pytest.mark.parametrize("check", [True, False], ids=["check", "run"])
@pytest.mark.parametrize("field", sorted(BAD_VALUES))
def test_wrongly_typed_recipe_value_is_refused_before_anything_runs(tmp_path, field, check):
    data = _jsonl(tmp_path / "in.jsonl", [{"instruction": "q", "output": "a"}])
    lines, message = BAD_VALUES[field]
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: r\nworkdir: {tmp_path / 'work'}\nstages:\n  format:\n    template: alpaca\n"
                      + lines.format(data=data))
    before = snapshot(tmp_path)
    res = run_cli("run", recipe, *(["--check"] if check else []), cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1 and "Traceback" not in res.err
    assert res.error_line == f"error: {recipe}: {message}"
    assert snapshot(tmp_path) == before  # nothing ran, no workdir


def test_wrongly_typed_synth_option_is_refused_by_check(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: r\nstages:\n  synth:\n    method: preference\n    data: in.jsonl\n"
                      "    temperatures: [0.2, hot]\n")
    res = run_cli("run", recipe, "--check", cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1
    assert res.error_line == (f"error: {recipe}: stages.synth.temperatures: expected a list of numbers, got a"
                              " list whose item 2 is a text ('hot')")


# ----- 6. recipes delete only what they wrote, inside the workdir, unchanged -------------------------------------
def _format_recipe(tmp_path: Path) -> tuple[Path, Path]:
    data = _jsonl(tmp_path / "in.jsonl", [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(3)])
    work = tmp_path / "work"
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: r\nworkdir: {work}\nstages:\n  format:\n    data: {data}\n    template: alpaca\n"
                      "    lang: en\n")
    res = run_cli("run", recipe, cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 0, res.err
    return recipe, work


@pytest.mark.parametrize("target", ["outside", "dotdot", "workdir"])
def test_edited_state_file_cannot_delete_outside_the_workdir(tmp_path, target):
    recipe, work = _format_recipe(tmp_path)
    victim = tmp_path / "precious"
    (victim / "src").mkdir(parents=True)
    (victim / "src" / "main.py").write_text("print('mine')\n")
    path = {"outside": victim, "dotdot": work / ".." / "precious", "workdir": work}[target]
    state = _state(work)
    state["format"]["outputs"]["output"] = str(path)
    state["format"]["written"] = {str(path): _fingerprint(path)}  # even a matching record does not help
    (work / ".dataforge-recipe-state.json").write_text(json.dumps(state))
    victim_before = snapshot(victim)
    res = run_cli("run", recipe, "--from", "format", cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 0, res.err
    assert snapshot(victim) == victim_before
    assert (work / ".dataforge-recipe-state.json").exists()
    assert f"left {path} in place: it is not inside the recipe's workdir" in res.out
    assert temp_leftovers(tmp_path) == []


def test_output_changed_by_the_user_is_not_deleted(tmp_path):
    recipe, work = _format_recipe(tmp_path)
    out = work / "format.jsonl"
    with out.open("a", encoding="utf-8") as fh:
        fh.write('{"text": "my own line"}\n')
    edited = out.read_text()
    res = run_cli("run", recipe, "--from", "format", cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 1
    assert res.error_line == (f"error: {out} was changed after the recipe wrote it (stage 'format'), and"
                              " rerunning the stage would replace it")
    assert out.read_text() == edited
    assert temp_leftovers(tmp_path) == []


def test_unchanged_output_is_replaced_on_rerun(tmp_path):
    recipe, work = _format_recipe(tmp_path)
    out = work / "format.jsonl"
    first = _state(work)["format"]["written"][str(out)]
    res = run_cli("run", recipe, "--from", "format", cwd=tmp_path, timeout=TIMEOUT)
    assert res.code == 0, res.err
    assert "left" not in res.out and len(out.read_text().splitlines()) == 3
    assert _state(work)["format"]["written"][str(out)] != first  # the new file's record
