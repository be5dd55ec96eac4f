"""Prompt overrides, budgets, and the errors a user sees before anything is sent."""

from __future__ import annotations

from fake_model import fake_model
from synth_helpers import passages, read_jsonl, write_jsonl

from dataforge.synth.templates import builtin_names


def docs_file(tmp_path, n=4):
    path = tmp_path / "docs.txt"
    path.write_text(passages(n), encoding="utf-8")
    return path


def test_prompt_override_is_used_and_changes_the_request_hashes(serve, synth, tmp_path):
    seen = []

    def recording(req):
        seen.append(req["messages"])
        return fake_model(req)

    srv = serve(recording)
    data = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "Name a planet.", "output": "Mars"}])
    assert synth(srv, "preference", data, "-o", tmp_path / "plain.jsonl").exit_code == 0
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "answer.j2").write_text("Answer like a pirate: {{ instruction }}", encoding="utf-8")
    (prompts / "answer.system.j2").write_text("You are terse.", encoding="utf-8")
    # the pirate answers tie with the judge, so no pair is written: --allow-empty keeps that a success
    result = synth(srv, "preference", data, "-o", tmp_path / "custom.jsonl", "--prompts", prompts, "--allow-empty")
    assert result.exit_code == 0, result.output
    assert [{"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Answer like a pirate: Name a planet."}] in seen
    assert len(srv.log.received) == 6  # 2 answers + 1 judge, twice: nothing of the first run was reused
    assert "answer" in builtin_names()


def test_prompt_errors_are_caught_before_sending(serve, synth, tmp_path):
    srv = serve()
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "qa_generat.j2").write_text("typo", encoding="utf-8")
    result = synth(srv, "qa", docs_file(tmp_path), "-o", tmp_path / "o.jsonl", "--prompts", prompts)
    assert result.exit_code == 1 and "no built-in prompt is called 'qa_generat'" in result.output
    (prompts / "qa_generat.j2").unlink()
    (prompts / "qa_generate.j2").write_text("{{ pasage }}", encoding="utf-8")
    result = synth(srv, "qa", docs_file(tmp_path), "-o", tmp_path / "o.jsonl", "--prompts", prompts)
    assert result.exit_code == 1 and "'pasage' is undefined" in result.output
    assert "variables available to this prompt are: count, passage" in result.output
    assert srv.log.total == 0


def test_token_budget_stops_cleanly_and_a_rerun_continues(serve, synth, tmp_path):
    srv = serve()
    docs = docs_file(tmp_path, 6)
    out = tmp_path / "qa.jsonl"
    result = synth(srv, "qa", docs, "-o", out, "--per-passage", 1, "-c", 1, "--max-tokens", 300)
    assert result.exit_code == 0, result.output
    assert "stopped early: --max-tokens 300 reached" in result.output
    first = read_jsonl(out)
    assert 0 < len(first) < 6
    not_sent = read_jsonl(f"{out}.rejects.jsonl")
    assert len(first) + len(not_sent) == 6
    assert all(r["reason"].startswith("pairs not sent: --max-tokens 300 reached") for r in not_sent)
    result = synth(srv, "qa", docs, "-o", out, "--per-passage", 1)
    assert f"{len(first)} ok ({len(first)} from the journal)" not in result.output  # more were needed
    assert f"({len(first)} from the journal)" in result.output
    assert len(read_jsonl(out)) == 6 and srv.log.total == 6


def test_user_errors_are_one_clear_line(monkeypatch, synth, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    docs = docs_file(tmp_path)
    from click.testing import CliRunner

    from dataforge.cli.main import cli

    def run(*args):
        return CliRunner().invoke(cli, ["-q", "synth", *map(str, args)])

    result = run("qa", docs, "-o", tmp_path / "o.jsonl", "-m", "gpt-4o-mini")
    assert result.exit_code == 1 and "no API key: the environment variable OPENAI_API_KEY is not set" in result.output
    result = run("qa", docs, "-o", docs, "-m", "x", "--base-url", "http://127.0.0.1:9/v1")
    assert result.exit_code == 1 and "the output would overwrite the input" in result.output
    result = run("qa", docs, "-o", tmp_path / "o.jsonl", "--base-url", "http://127.0.0.1:9/v1")
    assert result.exit_code == 1 and "no model given" in result.output
    result = run("preference", docs, "-o", tmp_path / "o.jsonl", "-m", "x", "-k", "1", "--base-url", "http://x/v1")
    assert result.exit_code == 1 and "--k must be at least 2" in result.output
    result = run("qa", docs, "-o", tmp_path / "o.jsonl", "-m", "x", "--max-cost", "1", "--base-url", "http://x/v1")
    assert result.exit_code == 1 and "--max-cost needs prices" in result.output
    assert "Traceback" not in result.output
