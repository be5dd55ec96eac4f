"""`translate --batch` through the loopback Batch API, and `translate --dry-run`."""

from __future__ import annotations

import re

from click.testing import CliRunner
from translate_helpers import dolly_rows, read_jsonl, write_jsonl

from dataforge.cli.main import cli
from dataforge.llm.loopback_batch import BatchScript, batch_store


def translate(srv, tmp_path, *extra):
    data = tmp_path / "in.jsonl"
    if not data.exists():
        write_jsonl(data, dolly_rows())
    args = ["-q", "translate", str(data), "-o", str(tmp_path / "out.jsonl"), "--to", "es", "-m", "scripted",
            "--base-url", srv.url, "--batch-size", "2", *extra]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_translate_batch_every_row_in_is_out_or_rejected_failed_lines_sent_synchronously(tmp_path, serve):
    srv = serve()
    rows = dolly_rows()
    batch_store(srv).script = BatchScript(fail=("about the sea",))  # the request carrying row 0 fails in the batch
    result = translate(srv, tmp_path, "--batch")
    assert result.exit_code == 0, result.output
    out = read_jsonl(tmp_path / "out.jsonl")
    rejects_path = tmp_path / "out.jsonl.rejects.jsonl"
    rejects = read_jsonl(rejects_path) if rejects_path.exists() else []
    assert len(out) + len(rejects) == len(rows) and rejects == []
    assert {r["lang"] for r in out} == {"es"}
    store = batch_store(srv)
    assert store.created == 1 and srv.log.total == 1  # only the failed line went synchronously


def test_translate_dry_run_sends_and_writes_nothing(tmp_path, serve):
    srv = serve()
    write_jsonl(tmp_path / "in.jsonl", dolly_rows())
    before = sorted(p.name for p in tmp_path.iterdir())
    result = translate(srv, tmp_path, "--dry-run", "--price", "0.15/0.60")
    assert result.exit_code == 0, result.output
    assert srv.log.total == 0 and batch_store(srv).created == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    requests = (len(dolly_rows()) + 1) // 2  # --batch-size 2
    assert f"requests:      {requests} to send" in result.output and "Batch API (--batch) ~$" in result.output


def test_batch_with_a_local_backend_is_refused_before_any_model_is_loaded(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", dolly_rows())
    model = tmp_path / "no-model-here"  # loading it would fail: the refusal must come first
    for args in (["translate", str(tmp_path / "in.jsonl"), "--to", "es"],
                 ["synth", "qa", str(tmp_path / "in.jsonl")]):
        result = CliRunner().invoke(cli, ["-q", *args, "-o", str(tmp_path / "out.jsonl"), "--backend",
                                          "transformers", "-m", str(model), "--batch"], catch_exceptions=False)
        assert result.exit_code == 2 and "--batch needs --backend openai" in result.output, result.output
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no journal, no output


def test_a_model_folder_without_tokenizer_files_is_an_error_naming_the_folder(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", dolly_rows())
    folder = tmp_path / "marian"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "marian"}', encoding="utf-8")
    result = CliRunner().invoke(cli, ["-q", "translate", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o.jsonl"),
                                      "--to", "es", "--backend", "transformers", "-m", str(folder)],
                                catch_exceptions=False)
    errors = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert result.exit_code == 1 and len(errors) == 1, result.output
    assert str(folder) in errors[0] and "no tokenizer files" in errors[0] and "Traceback" not in result.output


def test_translate_batch_answers_are_kept_when_their_usage_passes_the_budget(tmp_path, serve):
    from translate_scripted import Translator

    from dataforge.llm.faults import Reply

    rows = dolly_rows()
    dry = translate(serve(), tmp_path, "--dry-run", "--price", "1/1")
    tokens = sum(int(n.replace(",", "")) for n in re.findall(r"put tokens: +~([\d,]+)", dry.output))
    translator = Translator()
    srv = serve(lambda request, attempt=0: Reply(translator(request), completion_tokens=tokens))
    result = translate(srv, tmp_path, "--batch", "--max-tokens", str(tokens + 1))  # the estimate fits, usage not
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(tmp_path / "out.jsonl")) == len(rows) and srv.log.total == 0
    assert batch_store(srv).created == 1 and "not sent: " not in result.output
    assert "; 0 row×language pairs not sent, 0 rows not reached" in result.output


def test_translate_batch_summary_counts_the_batch_answers_and_a_dry_run_shows_no_progress_line(tmp_path, serve):
    srv = serve()
    result = translate(srv, tmp_path, "--batch")
    assert result.exit_code == 0, result.output
    requests = (len(dolly_rows()) + 1) // 2  # --batch-size 2
    assert (f"0 sent over the wire, {requests} answered through the Batch API, 0 from the journal"
            in result.output)
    args = ["translate", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "dry.jsonl"), "--to", "es", "-m",
            "scripted", "--base-url", srv.url, "--dry-run", "--price", "1/1"]  # not -q: a bar would show
    dry = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert dry.exit_code == 0 and dry.output.startswith("dry run: nothing was sent"), dry.output
    assert f"/{len(dolly_rows())} rows" not in dry.output  # no "0/10 rows 0%" bar line
