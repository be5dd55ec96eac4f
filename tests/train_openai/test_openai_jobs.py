"""`dataforge train --backend openai` against a loopback fine-tuning API, through the real openai client."""

from __future__ import annotations

import json
import threading
import time

import pytest
from click.testing import CliRunner
from dataforge_openai_finetune import cancel, finetune
from dataforge_openai_finetune.loopback import JobScript
from oft_helpers import CANARY, FAST, read_jsonl, sums, write_jsonl

from dataforge.cli.main import cli
from dataforge.errors import DataforgeError
from dataforge.train.run import read_run

MODEL = "gpt-4o-mini-2024-07-18"


def train(*args):
    return CliRunner().invoke(cli, ["train", "-b", "openai", "-m", MODEL, *args, *FAST])


def test_success_uploads_checked_chat_jsonl_and_writes_the_model_id(server, sft_file, tmp_path):
    srv = server()
    out = tmp_path / "ft"
    r = train("-d", str(sft_file), "-o", str(out), "--set", "epochs=2", "--set", "suffix=sums",
              "--set", "learning_rate_multiplier=0.5", "--json")
    assert r.exit_code == 0, r.output

    # exactly one upload, for fine-tuning, holding the 12 good rows as chats with the right answers
    assert [u["purpose"] for u in srv.log.uploads] == ["fine-tune"]
    sent = srv.files[srv.log.uploads[0]["id"]]["content"]
    assert sent == (out / "train.jsonl").read_bytes()
    rows = read_jsonl(out / "train.jsonl")
    assert len(rows) == 12
    answers = {r["messages"][0]["content"]: r["messages"][-1]["content"] for r in rows}
    assert answers["What is 7+7?"] == "14" and all(r["messages"][-1]["role"] == "assistant" for r in rows)
    assert "Say nothing." not in answers  # the empty answer went to the rejects file, not to OpenAI
    rejects = read_jsonl(tmp_path / "ft.rejects.jsonl")
    assert len(rejects) == 1 and "empty" in rejects[0]["reason"]

    # the job was created once, with the method and hyperparameters asked for
    (body,) = srv.log.created
    assert body["model"] == MODEL and body["suffix"] == "sums" and body["training_file"] == srv.log.uploads[0]["id"]
    assert body["method"] == {"type": "supervised",
                              "supervised": {"hyperparameters": {"n_epochs": 2, "learning_rate_multiplier": 0.5}}}

    (job,) = srv.jobs.values()
    assert job.status == "succeeded"
    shown = json.loads(r.stdout)
    assert shown["extra"]["fine_tuned_model"] == job.model and job.model.startswith(f"ft:{MODEL}:")
    result = json.loads((out / "result.json").read_text())
    assert result["fine_tuned_model"] == job.model and result["job_id"] == job.id
    assert result["status"] == "succeeded" and result["training_file"] == body["training_file"]
    assert result["result_files"] == job.results and (out / "results.csv").is_file()
    assert result["hyperparameters"]["n_epochs"] == 2
    # metrics: the last step of the results file, and the loss fell (as the server's curve does)
    assert result["metrics"]["step"] == job.total_steps == 24
    assert result["metrics"]["last_logged_loss"] < result["metrics"]["first_logged_loss"]
    assert [m["step"] for m in read_jsonl(out / "metrics.jsonl")] == list(range(1, 25))
    assert result["data"]["counts"]["read"] == 13 == result["data"]["counts"]["train"] + result["data"]["counts"]["rejected"]
    card = (out / "README.md").read_text()
    assert job.model in card and MODEL in card and "supervised" in card
    run = read_run(out)  # the core's record reads this folder too
    assert run.backend == "openai" and run.extra["fine_tuned_model"] == job.model
    assert srv.log.auth == {f"Bearer {CANARY}"}  # the key from the environment reached the server


def test_preference_data_uses_the_dpo_method_and_format(server, pref_file, tmp_path):
    srv = server()
    out = tmp_path / "dpo"
    with open(pref_file, "a") as fh:  # two pairs with nothing to learn from: rejected with the reason, not sent
        fh.write(json.dumps({"prompt": "Same?", "chosen": "Yes.", "rejected": "Yes. "}) + "\n")
        fh.write(json.dumps({"prompt": "Empty?", "chosen": "No.", "rejected": ""}) + "\n")
    r = train("-d", str(pref_file), "-o", str(out), "--set", "beta=0.25")
    assert r.exit_code == 0, r.output
    reasons = sorted(row["reason"] for row in read_jsonl(tmp_path / "dpo.rejects.jsonl"))
    assert len(reasons) == 2 and "chosen and rejected are the same text" in reasons[0]
    assert "empty" in reasons[1]
    (body,) = srv.log.created
    assert body["method"] == {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.25}}}
    rows = read_jsonl(out / "train.jsonl")
    assert len(rows) == 12
    first = next(r for r in rows if r["input"]["messages"][-1]["content"] == "Greet visitor number 3.")
    assert first["preferred_output"] == [{"role": "assistant", "content": "Welcome, visitor 3!"}]
    assert first["non_preferred_output"] == [{"role": "assistant", "content": "Go away."}]
    (job,) = srv.jobs.values()  # the server validated the file as preference data for dpo
    assert job.status == "succeeded" and job.method == "dpo"
    assert json.loads((out / "result.json").read_text())["method"] == "dpo"


def test_supervised_method_on_preference_data_is_refused_before_upload(server, pref_file, tmp_path):
    srv = server()
    r = train("-d", str(pref_file), "-o", str(tmp_path / "x"), "--set", "method=supervised")
    assert r.exit_code == 1
    assert "preference data" in r.output and "method" in r.output
    assert srv.log.requests == []


@pytest.mark.parametrize("outcome, expected", [
    ("failed", "Training data failed moderation: 3 examples contain disallowed content"),
    ("cancelled", "Fine-tuning job cancelled from the dashboard."),
])
def test_failed_or_cancelled_job_is_a_clear_error_with_the_servers_reason(server, sft_file, tmp_path, outcome,
                                                                           expected):
    srv = server(JobScript(outcome=outcome, stop_at_step=4, error_code="moderation_failed",
                           error_message="Training data failed moderation: 3 examples contain disallowed content"))
    out = tmp_path / "ft"
    r = train("-d", str(sft_file), "-o", str(out))
    assert r.exit_code == 1
    (job,) = srv.jobs.values()
    assert f"error: OpenAI fine-tuning job {job.id} {outcome}: {expected}" in r.output
    assert "Traceback" not in r.output and "hint:" in r.output
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == outcome and expected in result["error"] and result["fine_tuned_model"] is None
    assert not (out / "README.md").exists()  # no model card for a model that does not exist
    assert [m["step"] for m in read_jsonl(out / "metrics.jsonl")] == [1, 2, 3, 4]


def test_the_loopback_checks_the_file_format_per_method(server, tmp_path):
    # the loopback fails a job whose file does not fit its method (as OpenAI does), so the success tests above
    # also check the export: here the supervised file passes as supervised and would fail as dpo
    srv = server()
    data = write_jsonl(tmp_path / "d.jsonl", sums(12))
    from dataforge_openai_finetune.loopback import file_problem

    r = train("-d", str(data), "-o", str(tmp_path / "ok"))
    assert r.exit_code == 0, r.output
    assert file_problem(srv.files[srv.log.uploads[0]["id"]]["content"], "supervised") is None
    assert "preference example" in file_problem(srv.files[srv.log.uploads[0]["id"]]["content"], "dpo")


def test_cancel_stops_a_running_job(server, sft_file, tmp_path):
    srv = server(JobScript(outcome="running", steps_per_tick=2))
    out = tmp_path / "ft"
    errors = []

    def run():
        try:
            finetune(MODEL, str(sft_file), out, sets=["poll_interval=0.01"])
        except DataforgeError as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 10
    while not any(j.status == "running" for j in srv.jobs.values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cancel(out) == "cancelled"
    worker.join(10)
    assert not worker.is_alive()
    (job,) = srv.jobs.values()
    assert srv.log.cancels == [job.id]
    assert errors and f"job {job.id} cancelled: Fine-tuning job cancelled by user request" in errors[0].message
    assert json.loads((out / "result.json").read_text())["status"] == "cancelled"


def test_events_are_followed_across_pages_without_gaps_or_repeats(server, tmp_path):
    # 60 examples x 3 epochs = 180 steps, 150 per poll: one poll sees > 100 new events (two pages)
    srv = server(JobScript(steps_per_tick=150, result_file=False))
    out = tmp_path / "ft"
    run = finetune(MODEL, str(write_jsonl(tmp_path / "d.jsonl", sums(60))), out, sets=["poll_interval=0.01"])
    assert [m["step"] for m in read_jsonl(out / "metrics.jsonl")] == list(range(1, 181))
    events = read_jsonl(out / "events.jsonl")
    assert len({e["id"] for e in events}) == len(events) == len(next(iter(srv.jobs.values())).events)
    assert any("after=" in r for r in srv.log.requests)  # the second page was asked for
    assert run.metrics["step"] == 180 and run.global_step == 180  # from the events (no result file here)


def test_transient_server_errors_while_following_are_retried(server, sft_file, tmp_path):
    srv = server(faults={"GET /v1/fine_tuning/jobs/": [500, 503]})
    run = finetune(MODEL, str(sft_file), tmp_path / "ft", sets=["poll_interval=0.01"])
    assert run.extra["status"] == "succeeded"
    assert sum(r.startswith("GET /v1/fine_tuning/jobs/") for r in srv.log.requests) > 2


def test_eval_split_uploads_a_validation_file(server, tmp_path):
    srv = server()
    out = tmp_path / "ft"
    finetune(MODEL, str(write_jsonl(tmp_path / "d.jsonl", sums(40))), out, sets=["poll_interval=0.01",
                                                                                 "eval_split=0.25"])
    assert len(srv.log.uploads) == 2
    (body,) = srv.log.created
    assert body["validation_file"] == srv.log.uploads[1]["id"]
    train_rows, valid_rows = read_jsonl(out / "train.jsonl"), read_jsonl(out / "validation.jsonl")
    assert len(train_rows) + len(valid_rows) == 40 and 3 <= len(valid_rows) <= 20
    prompts = {r["messages"][0]["content"] for r in train_rows}
    assert not prompts & {r["messages"][0]["content"] for r in valid_rows}  # no example in both
