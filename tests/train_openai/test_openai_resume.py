"""`--resume` reattaches to the job recorded in the output folder: no second upload, no second job."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from dataforge_openai_finetune import finetune
from dataforge_openai_finetune.loopback import JobScript
from oft_helpers import FAST, sums, write_jsonl

from dataforge.cli.main import cli
from dataforge.errors import ConfigError, DataforgeError

MODEL = "gpt-4o-mini-2024-07-18"


def train(*args):
    return CliRunner().invoke(cli, ["train", "-b", "openai", "-m", MODEL, *args, *FAST])


def test_resume_reattaches_to_the_running_job(server, sft_file, tmp_path):
    srv = server(JobScript(steps_per_tick=1))  # 36 steps: far more polls than max_wait allows
    out = tmp_path / "ft"
    r = train("-d", str(sft_file), "-o", str(out), "--set", "max_wait=0.05")
    assert r.exit_code == 1
    (job,) = srv.jobs.values()
    assert f"job {job.id} is still" in r.output and "keeps running on the server" in r.output
    assert "--resume" in r.output and job.status not in ("succeeded", "failed", "cancelled")
    assert json.loads((out / "openai_job.json").read_text())["job_id"] == job.id

    r = train("-d", str(sft_file), "-o", str(out), "--resume", "--json")
    assert r.exit_code == 0, r.output
    assert len(srv.log.uploads) == 1 and len(srv.log.created) == 1 and len(srv.jobs) == 1
    assert job.status == "succeeded"
    shown = json.loads(r.stdout)
    assert shown["extra"]["job_id"] == job.id and shown["extra"]["fine_tuned_model"] == job.model
    assert json.loads((out / "result.json").read_text())["fine_tuned_model"] == job.model
    # the events seen before the interruption are not lost: every step is in the metrics
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, job.total_steps + 1))


def test_resume_after_a_failed_job_creation_reuses_the_upload(server, sft_file, tmp_path):
    # the upload succeeds, then job creation fails three times (the client's retries included)
    srv = server(faults={"POST /v1/fine_tuning/jobs": [500, 500, 500]})
    out = tmp_path / "ft"
    with pytest.raises(DataforgeError, match="creating the fine-tuning job: HTTP 500") as exc:
        finetune(MODEL, str(sft_file), out, sets=["poll_interval=0.01"])
    assert "--resume" in exc.value.hint
    assert len(srv.log.uploads) == 1 and not srv.jobs
    run = finetune(MODEL, str(sft_file), out, sets=["poll_interval=0.01"], resume=True)
    assert len(srv.log.uploads) == 1 and len(srv.jobs) == 1  # the recorded file was used, not uploaded again
    (job,) = srv.jobs.values()
    assert job.body["training_file"] == srv.log.uploads[0]["id"] and run.extra["fine_tuned_model"] == job.model


def test_resume_refuses_other_data_and_a_folder_without_a_job(server, sft_file, tmp_path):
    srv = server()
    out = tmp_path / "ft"
    with pytest.raises(ConfigError, match="holds no OpenAI fine-tuning job"):
        finetune(MODEL, str(sft_file), out, resume=True)
    finetune(MODEL, str(sft_file), out, sets=["poll_interval=0.01"])
    other = write_jsonl(tmp_path / "other.jsonl", sums(20))
    with pytest.raises(ConfigError, match="different data"):
        finetune(MODEL, str(other), out, resume=True)
    with pytest.raises(ConfigError, match="another model"):
        finetune("gpt-4.1-mini-2025-04-14", str(sft_file), out, resume=True)
    assert len(srv.log.uploads) == 1 and len(srv.jobs) == 1


def test_a_second_run_into_the_same_folder_is_told_to_resume(server, sft_file, tmp_path):
    srv = server()
    out = tmp_path / "ft"
    assert train("-d", str(sft_file), "-o", str(out)).exit_code == 0
    (job,) = srv.jobs.values()
    r = train("-d", str(sft_file), "-o", str(out))
    assert r.exit_code == 1
    assert f"already holds the OpenAI job {job.id}" in r.output and "--resume" in r.output
    assert len(srv.jobs) == 1 and len(srv.log.uploads) == 1


@pytest.mark.parametrize("cancel_on_interrupt", [False, True])
def test_ctrl_c_leaves_the_job_running_or_cancels_it_when_asked(server, sft_file, tmp_path, cancel_on_interrupt):
    srv = server(JobScript(steps_per_tick=2))
    out = tmp_path / "ft"

    def interrupt(event):  # Ctrl-C arrives while following, after the first training step
        if event["type"] == "metrics":
            raise KeyboardInterrupt

    with pytest.raises(DataforgeError) as exc:
        finetune(MODEL, str(sft_file), out, on_event=interrupt,
                 sets=["poll_interval=0.01", f"cancel_on_interrupt={str(cancel_on_interrupt).lower()}"])
    (job,) = srv.jobs.values()
    if cancel_on_interrupt:
        assert "asked the server to cancel" in exc.value.message and srv.log.cancels == [job.id]
        assert job.status == "cancelled"
        return
    assert "keeps running on the server" in exc.value.message and "--resume" in exc.value.hint
    assert srv.log.cancels == [] and job.status == "running"
    run = finetune(MODEL, str(sft_file), out, resume=True, sets=["poll_interval=0.01"])
    assert run.resumed_from == job.id and run.extra["fine_tuned_model"] == job.model and len(srv.jobs) == 1
