"""A reply that sends the prompt's own example or a placeholder back ("...", "<the instruction>") is a
reject with its reason, never a row (issue 16): the example is read from the template actually used."""

from __future__ import annotations

import json

from fake_model import fake_model
from synth_helpers import read_jsonl, write_jsonl

from dataforge.synth.placeholders import placeholder

PASSAGE = ("The lighthouse on the northern cape was built in 1874 from local granite. Its lamp burned "
           "whale oil until 1901, when a kerosene burner replaced it, and the keeper's cottage beside it "
           "now holds a small museum about the shipwrecks of the coast.")


def scripted(answers: dict):
    """The fake model, except for prompts holding one of `answers`' phrases (keyed by content)."""
    def reply(request):
        text = request.get("prompt") or request["messages"][-1]["content"]
        for phrase, answer in answers.items():
            if phrase in text:
                return answer
        return fake_model(request)
    return reply


def reasons(out) -> list[str]:
    return [r["reason"] for r in read_jsonl(f"{out}.rejects.jsonl")]


def test_qa_example_reply_is_rejected_not_written(serve, synth, tmp_path):
    (tmp_path / "doc.md").write_text(f"# Cape\n\n{PASSAGE}\n", encoding="utf-8")
    srv = serve(scripted({"question-answer pairs": '[{"question": "...", "answer": "..."}]'}))
    out = tmp_path / "qa.jsonl"
    res = synth(srv, "qa", tmp_path / "doc.md", "-o", out)
    assert res.exit_code == 1  # nothing written
    assert not out.exists() or out.read_text() == ""
    assert reasons(out) == ["pairs unparseable output: the reply repeats the prompt's example '...' instead of "
                            "filling it in"]


def test_example_comes_from_the_template_in_use(serve, synth, tmp_path):
    # a --prompts override shows another example; replying with it is caught, the built-in "..." is not needed
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "qa_generate.j2").write_text(
        'Write {{ count }} question-answer pairs.\n"""\n{{ passage }}\n"""\nReply like this:\n'
        '[{"question": "Who built it?", "answer": "The town council."}]\n', encoding="utf-8")
    (tmp_path / "doc.md").write_text(f"# Cape\n\n{PASSAGE}\n", encoding="utf-8")
    good = json.dumps([{"question": "When was the lighthouse built?", "answer": "In 1874."}])
    srv = serve(lambda request: ('[{"question": "Who built it?", "answer": "The town council."}]'
                                 if "1874" in request["messages"][-1]["content"] else good))
    out = tmp_path / "qa.jsonl"
    res = synth(srv, "qa", tmp_path / "doc.md", "-o", out, "--prompts", prompts)
    assert res.exit_code == 1
    assert reasons(out) == ["pairs unparseable output: the reply repeats the prompt's example 'Who built it?' "
                            "instead of filling it in"]


def test_good_pairs_still_pass(serve, synth, tmp_path):
    (tmp_path / "doc.md").write_text(f"# Cape\n\n{PASSAGE}\n", encoding="utf-8")
    good = json.dumps([{"question": "What replaced the whale-oil lamp in 1901?", "answer": "A kerosene burner."},
                       {"question": "Which tag breaks a line in HTML?", "answer": "<br>"}])
    srv = serve(scripted({"question-answer pairs": good}))
    out = tmp_path / "qa.jsonl"
    assert synth(srv, "qa", tmp_path / "doc.md", "-o", out).exit_code == 0
    assert [r["output"] for r in read_jsonl(out)] == ["A kerosene burner.", "<br>"]


def test_backtranslate_placeholder_instruction_is_rejected_before_the_judge(serve, synth, tmp_path):
    (tmp_path / "doc.md").write_text(f"# Cape\n\n{PASSAGE}\n", encoding="utf-8")
    seen = []
    model = scripted({"Write the request (the instruction)": "Instruction: <the instruction>"})
    srv = serve(lambda request: seen.append(request["messages"][-1]["content"]) or model(request))
    out = tmp_path / "bt.jsonl"
    res = synth(srv, "backtranslate", tmp_path / "doc.md", "-o", out)
    assert res.exit_code == 1
    assert reasons(out) == ["instruction unparseable output: the reply repeats the prompt's example "
                            "'<the instruction>' instead of filling it in"]
    assert seen and not any("5-point scale" in text for text in seen)  # the judge was never asked


def test_evol_echo_of_the_prompt_is_rejected(serve, synth, tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "Name three rivers of Europe.", "output": "x"}])
    srv = serve(lambda request: "echo: " + request["messages"][-1]["content"]  # an echo server
                if "Act as a prompt" in request["messages"][-1]["content"] else fake_model(request))
    out = tmp_path / "evol.jsonl"
    res = synth(srv, "evol-instruct", data, "-o", out, "--rounds", 1)
    assert res.exit_code == 1
    assert reasons(out) == ["evolve unparseable output: the reply repeats the prompt's own instructions"]


def test_preference_judge_rationale_copied_from_the_prompt_is_rejected(serve, synth, tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "Name three rivers of Europe.", "output": "x"}])
    srv = serve(scripted({"You are judging answers":
                          '{"scores": [9, 2], "rationale": "a short explanation of the scores"}'}))
    out = tmp_path / "pref.jsonl"
    res = synth(srv, "preference", data, "-o", out, "-k", 2)
    assert res.exit_code == 1
    assert reasons(out) == ["judge unparseable output: the reply repeats the prompt's example "
                            "'a short explanation of the scores' instead of filling it in"]


def test_magpie_placeholder_answer_is_rejected(serve, synth, tmp_path):
    srv = serve(lambda request: "Explain how tides form along a rocky coast." if request.get("prompt")
                else "...")
    out = tmp_path / "magpie.jsonl"
    res = synth(srv, "magpie", "--template", "llama3", "-n", 1, "-o", out, "--max-rounds", 1)
    assert res.exit_code == 1
    assert reasons(out) == ["answer unparseable output: the reply holds a placeholder '...' instead of content"]


def test_placeholder_shapes():
    for text in ("...", "…", " ... ", '"..."', "<the instruction>", "[your answer here]", "{{ answer }}", "___"):
        assert placeholder(text), text
    for text in ("<br>", "No.", "42", "[1, 2]", "<a href='x'>", "Use `...` for a slice.", ""):
        assert not placeholder(text), text
