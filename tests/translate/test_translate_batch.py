"""`translate --batch` through the loopback Batch API, and `translate --dry-run`."""

from __future__ import annotations

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
