"""`synth` over several endpoints (--base-url twice, --endpoints FILE) and `-c auto` from the command line."""

from __future__ import annotations

from click.testing import CliRunner
from synth_helpers import CANARY_KEY, passages, read_jsonl

from dataforge.cli.main import cli

N = 6


def _qa(tmp_path, *args):
    src = tmp_path / "passages.txt"
    if not src.exists():
        src.write_text(passages(N), encoding="utf-8")
    out = tmp_path / "qa.jsonl"
    return CliRunner().invoke(cli, ["-q", "synth", "qa", str(src), "-o", str(out), "-m", "fake", "--per-passage", "1",
                                    *map(str, args)], catch_exceptions=False), out


def test_two_base_urls_share_the_work_and_every_row_is_written_once(tmp_path, serve):
    a, b = serve(latency=0.02), serve(latency=0.02)
    result, out = _qa(tmp_path, "--base-url", a.url, "--base-url", b.url)
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    assert len(rows) == N and len({r["context"] for r in rows}) == N
    assert a.log.completed.total() >= 1 and b.log.completed.total() >= 1
    assert a.log.completed.total() + b.log.completed.total() == N  # nothing answered twice


def test_endpoints_file_takes_each_key_from_its_named_variable(tmp_path, serve, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("DF_KEY_A", CANARY_KEY)
    a = serve()
    cfg = tmp_path / "endpoints.yaml"
    cfg.write_text(f"- base_url: {a.url}\n  api_key_env: DF_KEY_A\n  weight: 2\n", encoding="utf-8")
    result, out = _qa(tmp_path, "--endpoints", cfg, "-c", "4")
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(out)) == N
    assert a.log.auth == {f"Bearer {CANARY_KEY}"}
    assert CANARY_KEY not in result.output


def test_a_missing_key_variable_is_one_error_naming_it_and_nothing_is_sent(tmp_path, serve, monkeypatch):
    monkeypatch.delenv("DF_KEY_MISSING", raising=False)
    a, b = serve(), serve()
    cfg = tmp_path / "endpoints.yaml"
    cfg.write_text(f"- base_url: {a.url}\n- base_url: {b.url}\n  api_key_env: DF_KEY_MISSING\n", encoding="utf-8")
    result, out = _qa(tmp_path, "--endpoints", cfg)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "DF_KEY_MISSING" in errors[0], result.output
    assert a.log.total == 0 and b.log.total == 0
    assert not out.exists()


def test_a_key_written_into_the_endpoints_file_is_refused_and_not_echoed(tmp_path, serve):
    a = serve()
    cfg = tmp_path / "endpoints.yaml"
    cfg.write_text(f"- base_url: {a.url}\n  api_key: {CANARY_KEY}\n", encoding="utf-8")
    result, _ = _qa(tmp_path, "--endpoints", cfg)
    assert result.exit_code == 1
    assert "environment variables only" in result.output and CANARY_KEY not in result.output
    assert a.log.total == 0


def test_auto_is_the_default_and_a_bad_value_is_a_usage_error(tmp_path, serve):
    srv = serve(latency=0.01, max_concurrency=3)
    result, out = _qa(tmp_path, "--base-url", srv.url)
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(out)) == N
    assert srv.log.max_in_flight <= 4  # started at 4, not the old fixed 16
    bad, _ = _qa(tmp_path, "--base-url", srv.url, "-c", "lots", "--overwrite")
    assert bad.exit_code == 2 and "'auto' or a whole number" in bad.output
    for value in ("0", "1000000"):  # a million slots were a million tasks: 1.1 GB before the first request
        bad, _ = _qa(tmp_path, "--base-url", srv.url, "-c", value, "--overwrite")
        assert bad.exit_code == 2 and "between 1 and 4096" in bad.output, bad.output


def test_an_endpoints_file_replaces_the_base_url_from_the_environment(tmp_path, serve, monkeypatch):
    # OPENAI_BASE_URL exported for other runs must not receive requests (and the key) the file did not list
    listed, unlisted = serve(), serve()
    monkeypatch.setenv("OPENAI_BASE_URL", unlisted.url)
    cfg = tmp_path / "endpoints.yaml"
    cfg.write_text(f"- base_url: {listed.url}\n", encoding="utf-8")
    result, out = _qa(tmp_path, "--endpoints", cfg)
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(out)) == N
    assert unlisted.log.total == 0 and listed.log.completed.total() == N


def test_a_key_pasted_as_the_variable_name_is_refused_and_never_printed(tmp_path, serve):
    a = serve()
    secret = "sk-proj-AbCdEf1234567890"
    cfg = tmp_path / "endpoints.yaml"
    cfg.write_text(f"- base_url: {a.url}\n  api_key_env: {secret}\n", encoding="utf-8")
    result, out = _qa(tmp_path, "--endpoints", cfg)
    assert result.exit_code == 1
    assert "api_key_env must be the name of an environment variable" in result.output
    assert secret not in result.output and "AbCdEf" not in result.output
    assert a.log.total == 0 and not out.exists()


def test_when_every_server_refuses_the_key_the_hint_names_the_variables_it_came_from(tmp_path, serve, monkeypatch):
    monkeypatch.setenv("DF_KEY_BAD", "sk-wrong-one")
    monkeypatch.setenv("DF_KEY_BAD2", "sk-wrong-two")
    a, b = serve(), serve()  # both want CANARY_KEY
    cfg = tmp_path / "endpoints.yaml"
    cfg.write_text(f"- base_url: {a.url}\n  api_key_env: DF_KEY_BAD\n- base_url: {b.url}\n  api_key_env: DF_KEY_BAD2\n",
                   encoding="utf-8")
    result, out = _qa(tmp_path, "--endpoints", cfg)
    assert result.exit_code == 1
    assert "hint: check the keys in DF_KEY_BAD and DF_KEY_BAD2 (each endpoint's api_key_env)" in result.output, \
        result.output
    assert "sk-wrong" not in result.output
