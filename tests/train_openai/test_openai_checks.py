"""What is refused before anything is sent, the dry run, the plugin listing, and the API key staying secret."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from dataforge_openai_finetune.loopback import JobScript
from oft_helpers import CANARY, FAST, files_containing, sums, write_jsonl

from dataforge.cli.main import cli

MODEL = "gpt-4o-mini-2024-07-18"


def train(*args):
    return CliRunner().invoke(cli, ["train", "-b", "openai", "-m", MODEL, *args, *FAST])


def test_plugins_lists_the_openai_backend():
    r = CliRunner().invoke(cli, ["plugins", "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["openai"]["ok"], rows["openai"]["error"]
    assert rows["openai"]["distribution"] == "dataforge-openai-finetune"
    assert rows["openai"]["target"] == "dataforge_openai_finetune.backend:BACKEND"


@pytest.mark.parametrize("good", [9, 12])
def test_fewer_than_ten_usable_examples_are_refused_before_any_upload(server, tmp_path, good):
    srv = server()
    # `good` usable rows plus 3 that OpenAI would refuse (empty answers): 9 + 3 is refused, 12 + 3 is not
    bad = [{"instruction": f"Blank {i}", "context": "", "response": "", "category": "x"} for i in range(3)]
    data = write_jsonl(tmp_path / "d.jsonl", sums(good) + bad)
    r = train("-d", str(data), "-o", str(tmp_path / "ft"))
    if good == 9:
        assert r.exit_code == 1
        assert "9 valid example(s); OpenAI fine-tuning needs at least 10" in r.output
        assert "3 row(s) rejected" in r.output and "nothing was uploaded" in r.output
        assert srv.log.requests == []  # not one request reached the server
        assert not (tmp_path / "ft").exists()
    else:
        assert r.exit_code == 0, r.output
        assert len(srv.log.uploads) == 1
    assert len((tmp_path / "ft.rejects.jsonl").read_text().splitlines()) == 3


def test_dry_run_checks_and_estimates_without_sending_or_writing(server, sft_file, tmp_path):
    srv = server()
    out = tmp_path / "ft"
    r = train("-d", str(sft_file), "-o", str(out), "--dry-run", "--set", "epochs=4",
              "--set", "price_per_1m_tokens=3.0", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["backend"] == "openai" and report["counts"]["train"] == 12 and report["counts"]["rejected"] == 1
    rows = {row[0]: row for row in report["memory"]}
    assert "4 epoch(s)" in rows["training tokens"][2] and rows["estimated cost"][1].startswith("$")
    tokens = int(rows["training tokens"][1].replace(",", ""))
    assert tokens > 0 and tokens % 4 == 0  # tokens per epoch x 4 epochs
    assert report["example"]["messages"][-1]["role"] == "assistant"
    assert srv.log.requests == [] and not out.exists()


@pytest.mark.parametrize("sets, expected", [
    (["packing=true"], "option 'packing' belongs to local training"),
    (["learning_rate=0.0001"], "set learning_rate_multiplier"),
    (["epochs=0"], "option 'epochs': must be a whole number from 1 to 50, or 'auto'"),
    (["method=supervised", "beta=0.1"], "beta applies to the dpo method only"),
    (["api_key=sk-pasted-here"], "unknown option 'api_key'"),
])
def test_wrong_options_fail_fast_with_the_reason(server, sft_file, tmp_path, sets, expected):
    srv = server()
    r = train("-d", str(sft_file), "-o", str(tmp_path / "ft"), *[a for s in sets for a in ("--set", s)])
    assert r.exit_code == 1
    assert expected in r.output and "Traceback" not in r.output
    assert "sk-pasted-here" not in r.output
    assert srv.log.requests == []


def test_a_local_model_folder_or_a_missing_key_is_refused(tmp_path, sft_file, monkeypatch):
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    r = CliRunner().invoke(cli, ["train", "-b", "openai", "-m", str(tmp_path / "models" / "tiny"), "-d", str(sft_file),
                                 "-o", str(tmp_path / "ft")])
    assert r.exit_code == 1 and "is a local folder" in r.output and "hosted model by name" in r.output
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("MY_FT_KEY", raising=False)
    r = train("-d", str(sft_file), "-o", str(tmp_path / "ft"), "--set", "api_key_env=MY_FT_KEY")
    assert r.exit_code == 1 and "MY_FT_KEY is not set" in r.output


def test_the_api_key_is_never_written_or_shown(server, sft_file, pref_file, tmp_path, monkeypatch):
    outputs = []
    srv = server()
    r = train("-d", str(sft_file), "-o", str(tmp_path / "ok"))  # success
    assert r.exit_code == 0, r.output
    outputs.append(r.output)
    server(JobScript(outcome="failed", error_message=f"Something broke for key {CANARY}"))  # a server echoing it
    r = train("-d", str(pref_file), "-o", str(tmp_path / "failed"))
    assert r.exit_code == 1 and "Something broke for key ***" in r.output
    outputs.append(r.output)
    # a wrong key: the server echoes the key it got in its 401 message, as OpenAI does
    srv = server()
    srv.api_key = "sk-the-right-one"
    r = train("-d", str(sft_file), "-o", str(tmp_path / "denied"))
    assert r.exit_code == 1 and "HTTP 401" in r.output and "OPENAI_API_KEY" in r.output
    outputs.append(r.output)
    assert all(CANARY not in text for text in outputs)
    assert files_containing(tmp_path, CANARY) == []
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) > 10  # the scan above looked at the real outputs (jsonl, json, csv, README)
