"""`synth --batch` (OpenAI's Batch API on the loopback server) and `--dry-run` / `--max-cost` preflight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from synth_helpers import CANARY_KEY, ROOT, passages, read_jsonl, write_jsonl

from dataforge.llm.batch import split
from dataforge.llm.cost import parse_price, resolve_prices, table_prices
from dataforge.llm.loopback_batch import BatchScript, batch_store

N = 6


def docs_file(tmp_path, n=N):
    path = tmp_path / "docs.txt"
    path.write_text(passages(n), encoding="utf-8")
    return path


def qa(synth, srv, tmp_path, *extra, out="qa.jsonl"):
    return synth(srv, "qa", docs_file(tmp_path), "-o", tmp_path / out, "--per-passage", "1", *extra)


def rows_and_rejects(tmp_path, out="qa.jsonl"):
    rejects = tmp_path / f"{out}.rejects.jsonl"
    return read_jsonl(tmp_path / out), read_jsonl(rejects) if rejects.exists() else []


def passage_of(row) -> str:
    return row["context"].split(":")[0]  # "Report 3"


# -- batch ---------------------------------------------------------------------------------------------
def test_batch_answers_every_row_through_one_batch_and_no_synchronous_request(tmp_path, serve, synth):
    srv = serve()
    result = qa(synth, srv, tmp_path, "--batch")
    assert result.exit_code == 0, result.output
    rows, rejects = rows_and_rejects(tmp_path)
    store = batch_store(srv)
    assert len(rows) == N and rejects == []
    assert store.created == 1 and srv.log.total == 0  # nothing went synchronously
    assert f"{N} answered through the Batch API" in result.output
    # the lineage names the same journal hashes the batch lines carried as custom_id
    assert {r["meta"]["requests"][0] for r in rows} == set(store.lines)


def test_batch_lines_that_failed_are_sent_synchronously_and_rows_in_equal_rows_out(tmp_path, serve, synth):
    srv = serve()
    batch_store(srv).script = BatchScript(fail=("Report 2:", "Report 4:"))
    result = qa(synth, srv, tmp_path, "--batch")
    assert result.exit_code == 0, result.output
    rows, rejects = rows_and_rejects(tmp_path)
    assert len(rows) + len(rejects) == N and len(rows) == N
    assert srv.log.total == 2  # exactly the two failed lines, once each
    assert sorted(passage_of(r) for r in rows) == [f"Report {i}" for i in range(N)]


def test_expired_batch_partial_answers_kept_missing_rows_sent_synchronously(tmp_path, serve, synth):
    srv = serve()
    batch_store(srv).script = BatchScript(outcome="expired", expire=("Report 1:", "Report 5:"))
    result = qa(synth, srv, tmp_path, "--batch")
    assert result.exit_code == 0, result.output
    rows, _ = rows_and_rejects(tmp_path)
    assert len(rows) == N and srv.log.total == 2
    assert f"{N - 2} answered through the Batch API" in result.output


def test_batch_retry_puts_missing_rows_in_a_follow_up_batch_not_synchronous(tmp_path, serve, synth):
    srv = serve()
    batch_store(srv).script = BatchScript(outcome="expired", expire=("Report 1:",), fail=("Report 3:",))
    result = qa(synth, srv, tmp_path, "--batch-retry")
    assert result.exit_code == 0, result.output
    rows, _ = rows_and_rejects(tmp_path)
    store = batch_store(srv)
    assert len(rows) == N and srv.log.total == 0
    assert store.created == 2 and max(store.lines.values()) == 2 and sum(store.lines.values()) == N + 2


def test_cancelled_batch_is_an_error_keeps_answers_and_rerun_sends_only_the_rest(tmp_path, serve, synth):
    srv = serve()
    store = batch_store(srv)
    store.script = BatchScript(outcome="cancelled", expire=("Report 0:", "Report 1:"))
    result = qa(synth, srv, tmp_path, "--batch")
    assert result.exit_code == 1
    assert "error: batch batch_1 was cancelled" in result.output and f"4 of {N} requests" in result.output
    assert not (tmp_path / "qa.jsonl").exists()
    store.script = BatchScript()
    again = qa(synth, srv, tmp_path, "--batch")
    assert again.exit_code == 0, again.output
    rows, _ = rows_and_rejects(tmp_path)
    assert len(rows) == N and store.created == 2
    assert sum(store.lines.values()) == N + 2  # the second batch held only the two unanswered requests
    assert "4 from the journal" in again.output


def test_batch_failed_at_the_server_is_an_error_and_a_rerun_makes_a_new_batch(tmp_path, serve, synth):
    srv = serve()
    store = batch_store(srv)
    store.script = BatchScript(outcome="failed")
    result = qa(synth, srv, tmp_path, "--batch")
    assert result.exit_code == 1 and "error: batch batch_1 failed at the server: scripted failure" in result.output
    assert not (tmp_path / "qa.jsonl").exists()
    store.script = BatchScript()
    again = qa(synth, srv, tmp_path, "--batch")
    assert again.exit_code == 0, again.output
    assert store.created == 2 and len(rows_and_rejects(tmp_path)[0]) == N


def test_a_server_without_the_batch_api_is_one_clear_error(tmp_path, serve, synth):
    srv = serve()
    batch_store(srv).script = BatchScript(outcome="absent")
    result = qa(synth, srv, tmp_path, "--batch")
    errors = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert result.exit_code == 1 and len(errors) == 1 and "has no Batch API (HTTP 404" in errors[0]
    assert "Traceback" not in result.output and srv.log.total == 0


def test_a_recorded_batch_the_server_does_not_know_is_dropped_and_the_rerun_makes_a_new_one(tmp_path, serve,
                                                                                             synth):
    from dataforge.llm.batch import Ledger

    srv = serve()
    store = batch_store(srv)
    first = qa(synth, srv, tmp_path, "--batch")
    assert first.exit_code == 0 and store.created == 1
    journal = tmp_path / "qa.jsonl.journal.sqlite"
    ledger = Ledger(journal)
    keys = [k for (k,) in ledger.db.execute("SELECT key FROM batch_keys")]
    ledger.db.execute("DELETE FROM requests")  # as if the answers had not been kept...
    ledger.add("batch_404", keys)  # ...and a batch this server never saw were still running
    ledger.close()
    lost = qa(synth, srv, tmp_path, "--batch")
    assert lost.exit_code == 1 and "batch batch_404, recorded in the journal, is unknown to the server" in lost.output
    again = qa(synth, srv, tmp_path, "--batch")
    assert again.exit_code == 0, again.output
    assert store.created == 2


def test_a_recorded_batch_is_found_again_until_closed_or_forgotten_by_fresh(tmp_path):
    from dataforge.llm.batch import Ledger

    path = tmp_path / "o.jsonl.journal.sqlite"
    first = Ledger(path)
    first.add("batch_9", ["k1", "k2"])
    first.close()
    again = Ledger(path)  # a rerun
    assert again.open_for({"k1", "k3"}) == {"batch_9": {"k1"}}
    again.close()
    assert Ledger(path, fresh=True).open_for({"k1"}) == {}
    closed = Ledger(tmp_path / "other.sqlite")
    closed.add("batch_1", ["k1"])
    closed.close_batch("batch_1", "completed")
    assert closed.open_for({"k1"}) == {}


def test_rejected_batch_answer_is_asked_again_synchronously_by_the_same_checks(tmp_path, serve, synth):
    from fake_model import fake_model

    from dataforge.llm.faults import Reply

    def model(request, attempt=0):
        text = request["messages"][-1]["content"]
        if "Report 3:" in text and attempt == 0:
            return Reply("no pairs here, sorry")  # unparseable: the QA parser refuses it
        if "Report 4:" in text and request["max_tokens"] == 1024:
            return Reply("cut", finish_reason="length")
        return fake_model(request)

    srv = serve(model)
    result = qa(synth, srv, tmp_path, "--batch")
    assert result.exit_code == 0, result.output
    rows, rejects = rows_and_rejects(tmp_path)
    assert len(rows) == N and rejects == []
    assert srv.log.total == 2  # one synchronous re-ask each (the length one with max_tokens doubled)
    doubled = [k for k in srv.log.received if k not in batch_store(srv).lines]
    assert len(doubled) == 1


def test_batch_is_split_at_the_request_and_byte_limits():
    lines = [b"x" * 10 for _ in range(7)]
    assert [len(f) for f in split(lines, max_requests=3)] == [3, 3, 1]
    assert [len(f) for f in split(lines, max_requests=100, max_bytes=34)] == [3, 3, 1]  # 11 bytes a line
    assert split([], max_requests=3) == []


def launch(srv, docs, out, *extra):
    env = {**os.environ, "OPENAI_API_KEY": CANARY_KEY, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_BASE_URL", None)
    cmd = [sys.executable, "-m", "dataforge", "-q", "synth", "qa", str(docs), "-o", str(out), "--per-passage", "1",
           "-m", "fake", "--base-url", srv.url, *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def start_and_stop(srv, store, docs, out, how):
    polled = sum(b.get("polled", 0) for b in store.batches.values())
    proc = launch(srv, docs, out, "--batch")
    deadline = time.monotonic() + 30
    while sum(b.get("polled", 0) for b in store.batches.values()) < polled + 2:  # this run is waiting on it
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(how)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err


def test_a_run_killed_or_interrupted_while_its_batch_runs_reattaches_instead_of_creating_another(
        tmp_path, serve):
    srv = serve()
    store = batch_store(srv)
    store.script = BatchScript(outcome="hold")  # stays in_progress until the test lets it finish
    docs, out = docs_file(tmp_path), tmp_path / "qa.jsonl"
    code, _ = start_and_stop(srv, store, docs, out, signal.SIGKILL)
    assert code == -signal.SIGKILL and not out.exists()
    code, err = start_and_stop(srv, store, docs, out, signal.SIGINT)  # the rerun is waiting on the same batch
    assert code == 130 and "run the same command again to pick up its answers" in err
    assert not out.exists() and store.created == 1
    store.script = BatchScript()
    again = launch(srv, docs, out, "--batch")
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert store.created == 1 and list(store.batches) == ["batch_1"]
    assert len(read_jsonl(out)) == N and srv.log.total == 0


# -- dry run and preflight ------------------------------------------------------------------------------
@pytest.mark.parametrize("method,extra", [
    ("qa", ["--per-passage", "1"]), ("backtranslate", []), ("self-instruct", ["-n", "4"]),
    ("evol-instruct", []), ("preference", [])])
def test_dry_run_sends_nothing_writes_nothing_and_prices_the_first_stage(tmp_path, serve, synth, method, extra):
    srv = serve()
    if method in ("qa", "backtranslate"):
        data = docs_file(tmp_path)
    else:
        data = write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": f"Explain topic number {i} in depth please."}
                                                       for i in range(5)])
    out = tmp_path / "o.jsonl"
    before = sorted(p.name for p in tmp_path.iterdir())
    result = synth(srv, method, data, "-o", out, *extra, "--dry-run", "--price", "1/2")
    assert result.exit_code == 0, result.output
    assert srv.log.total == 0 and batch_store(srv).created == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output, rejects or journal
    assert "dry run: nothing was sent" in result.output
    assert "synchronous ~$" in result.output and "Batch API (--batch) ~$" in result.output
    if method in ("self-instruct", "evol-instruct", "backtranslate", "preference"):
        assert "first stage only" in result.output
    else:
        assert "first stage only" not in result.output


def test_dry_run_counts_and_cost_match_what_the_run_sends(tmp_path, serve, synth):
    srv = serve()
    result = qa(synth, srv, tmp_path, "--dry-run", "--price", "2/4", "--max-new-tokens", "100")
    assert f"requests:      {N} to send" in result.output
    assert "output tokens: ~600 (at most: max_tokens 100 per request)" in result.output
    line = next(x for x in result.output.splitlines() if "synchronous" in x)
    sync = float(line.split("synchronous ~$")[1].split(",")[0])
    batch = float(line.split("~$")[2])
    assert batch == pytest.approx(sync / 2, abs=1e-4) and sync > 600 * 4 / 1e6
    # after a real run, a dry run knows the answers' lengths and that nothing is left to send
    assert qa(synth, srv, tmp_path, "--max-new-tokens", "100").exit_code == 0
    sent = srv.log.total
    again = qa(synth, srv, tmp_path, "--dry-run", "--price", "2/4", "--max-new-tokens", "100")
    assert f"requests:      0 to send ({N} more answered in the journal" in again.output
    assert "observed:" in again.output and srv.log.total == sent


def test_max_cost_below_the_estimate_refuses_to_start_unless_forced(tmp_path, serve, synth):
    srv = serve()
    result = qa(synth, srv, tmp_path, "--price", "1000/1000", "--max-cost", "0.5")
    assert result.exit_code == 1 and srv.log.total == 0
    errors = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "estimated cost is $" in errors[0] and "above --max-cost 0.5" in errors[0]
    assert not (tmp_path / "qa.jsonl").exists()
    forced = qa(synth, srv, tmp_path, "--price", "1000/1000", "--max-cost", "0.5", "--force", "-c", "1")
    assert srv.log.total >= 1 and "--max-cost 0.5 reached" in forced.output


def test_max_cost_preflight_prices_a_batch_run_at_the_batch_price(tmp_path, serve, synth):
    srv = serve()
    dry = qa(synth, srv, tmp_path, "--price", "1000/1000", "--dry-run")
    sync = float(dry.output.split("synchronous ~$")[1].split(",")[0])
    limit = f"{sync * 0.75:.4f}"  # above the batch estimate (half), below the synchronous one
    refused = qa(synth, srv, tmp_path, "--price", "1000/1000", "--max-cost", limit)
    assert refused.exit_code == 1 and "estimated cost" in refused.output
    started = qa(synth, srv, tmp_path, "--price", "1000/1000", "--max-cost", limit, "--batch")
    assert started.exit_code == 0, started.output
    assert batch_store(srv).created == 1 and len(rows_and_rejects(tmp_path)[0]) == N


def test_price_table_and_flags():
    assert table_prices("gpt-4o-mini").input == 0.15
    assert table_prices("gpt-4o-mini-2024-07-18") == table_prices("gpt-4o-mini")
    assert table_prices("openai/gpt-4o").output == 10.0
    assert table_prices("llama3.1") is None
    assert parse_price("0.15/0.60").output == 0.6
    assert resolve_prices("gpt-4o", "1/2", None, 5).output == 5  # --price-out over --price
    assert resolve_prices("gpt-4o", None, None, None) == table_prices("gpt-4o")
    from dataforge.errors import ConfigError

    with pytest.raises(ConfigError, match="is not IN/OUT"):
        parse_price("0.15")


# -- batch and a budget (issue 16 trial) ------------------------------------------------------------------
def test_batch_answers_are_paid_for_so_a_budget_never_discards_them(tmp_path, serve, synth):
    from fake_model import fake_model

    from dataforge.llm.faults import Reply

    def model(request, attempt=0):  # each answer reports far more tokens than the estimate
        return Reply(fake_model(request), completion_tokens=5000)

    srv = serve(model)
    store = batch_store(srv)
    result = qa(synth, srv, tmp_path, "--batch", "--max-new-tokens", "100", "--max-tokens", "12000")
    assert result.exit_code == 0, result.output
    rows, rejects = rows_and_rejects(tmp_path)
    assert len(rows) == N and rejects == [] and srv.log.total == 0  # all kept, none sent again
    again = qa(synth, srv, tmp_path, "--batch", "--max-new-tokens", "100", "--max-tokens", "12000")
    assert again.exit_code == 0, again.output
    assert store.created == 1 and f"{N} from the journal" in again.output


def test_batch_holds_only_what_the_budget_covers_and_a_rerun_sends_only_the_rest(tmp_path, serve, synth):
    srv = serve()
    store = batch_store(srv)
    dry = qa(synth, srv, tmp_path, "--dry-run", "--price", "1/1", "--max-new-tokens", "100")
    tokens_in = int(dry.output.split("input tokens:  ~")[1].split()[0].replace(",", ""))
    half = (tokens_in + 100 * N) // 2  # about half the requests by the estimate
    result = qa(synth, srv, tmp_path, "--batch", "--max-new-tokens", "100", "--max-tokens", str(half))
    rows, rejects = rows_and_rejects(tmp_path)
    sent = sum(store.lines.values())
    assert 0 < sent < N and len(rows) == sent and srv.log.total == 0, result.output
    assert "covers" in result.output and "by the estimate" in result.output
    assert all("not sent: budget" in r["reason"] for r in rejects) and len(rejects) == N - sent
    again = qa(synth, srv, tmp_path, "--batch", "--max-new-tokens", "100", "--overwrite")
    assert again.exit_code == 0, again.output
    assert store.created == 2 and sum(store.lines.values()) == N  # answered requests were not resubmitted
    assert len(rows_and_rejects(tmp_path)[0]) == N and srv.log.total == 0


# -- prices (issue 16 trial) ------------------------------------------------------------------------------
def test_half_a_price_keeps_the_tables_other_half_or_names_the_missing_one():
    from dataforge.llm.cost import PriceError

    assert resolve_prices("gpt-4o-mini", None, 5, None) == (type(table_prices("gpt-4o-mini"))(5.0, 0.6))
    assert resolve_prices("gpt-4o-mini", None, None, 2).input == 0.15
    with pytest.raises(PriceError, match="--price-in is given but not --price-out.*output price is unknown"):
        resolve_prices("llama3.1", None, 1, None)
    with pytest.raises(PriceError, match="the input price -1 is negative"):
        resolve_prices("gpt-4o", "-1/2")
    with pytest.raises(PriceError, match="--price-out -0.5 is negative"):
        resolve_prices("gpt-4o", None, None, -0.5)
    with pytest.raises(PriceError, match="the output price x is not a number"):
        parse_price("1/x")


@pytest.mark.parametrize("flags,says", [
    (["--price-in", "1"], "is not in the price table"),
    (["--price", "-1/2"], "is negative"),
    (["--price-in", "-1", "--price-out", "2"], "is negative"),
])
def test_bad_prices_are_usage_errors_before_anything_is_sent(tmp_path, serve, synth, flags, says):
    srv = serve()
    result = qa(synth, srv, tmp_path, "--max-cost", "1", *flags)
    assert result.exit_code == 2 and says in result.output
    assert srv.log.total == 0 and not list(tmp_path.glob("qa.jsonl*"))


def test_dry_run_with_half_a_price_shows_the_tables_other_half(tmp_path, serve):
    from click.testing import CliRunner

    from dataforge.cli.main import cli

    srv = serve()
    args = ["-q", "synth", "qa", str(docs_file(tmp_path)), "-o", str(tmp_path / "o.jsonl"), "--base-url", srv.url,
            "-m", "gpt-4o-mini", "--dry-run", "--price-in", "5"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "cost at $5/$0.6 per 1M tokens (gpt-4o-mini)" in result.output  # not $5/$0


# -- refused runs and a server that is down (issue 16 trial) ----------------------------------------------
@pytest.mark.parametrize("flags,script", [
    (["--price", "1000/1000", "--max-cost", "0.5"], None),  # refused by the cost preflight
    (["--batch"], "absent"),  # a server without the Batch API
])
def test_a_refused_run_leaves_no_journal(tmp_path, serve, synth, flags, script):
    srv = serve()
    if script:
        batch_store(srv).script = BatchScript(outcome=script)
    result = qa(synth, srv, tmp_path, *flags)
    assert result.exit_code == 1 and srv.log.total == 0
    assert not list(tmp_path.glob("qa.jsonl*")), sorted(p.name for p in tmp_path.iterdir())


def test_an_existing_empty_journal_is_not_removed_by_a_refused_run(tmp_path, serve, synth):
    from dataforge.llm.journal import Journal

    srv = serve()
    Journal(tmp_path / "qa.jsonl.journal.sqlite").close()  # made by an earlier run: not ours to delete
    assert not (tmp_path / "qa.jsonl.journal.sqlite").exists()  # (an empty one we made is removed...)
    (tmp_path / "qa.jsonl.journal.sqlite").write_bytes(b"")  # ...an empty file someone else made is kept
    result = qa(synth, srv, tmp_path, "--price", "1000/1000", "--max-cost", "0.5")
    assert result.exit_code == 1 and (tmp_path / "qa.jsonl.journal.sqlite").exists()


def test_batch_api_calls_to_a_down_server_stop_by_the_breaker_rule_not_the_whole_retry_budget(monkeypatch):
    import asyncio
    from types import SimpleNamespace

    import httpx
    import openai

    from dataforge.llm import batch as batch_mod
    from dataforge.llm import breaker as breaker_mod
    from dataforge.llm.breaker import ServerUnusable

    clock = [0.0]  # a fake clock: the test takes no time and no luck

    async def sleep(seconds):
        clock[0] += seconds

    monkeypatch.setattr(breaker_mod, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(batch_mod, "asyncio", SimpleNamespace(sleep=sleep))
    calls = []

    async def refused(*_, **__):
        calls.append(clock[0])
        raise openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1/files"))

    client = SimpleNamespace(files=SimpleNamespace(create=refused), batches=SimpleNamespace(create=refused))
    backend = SimpleNamespace(_client=client, where="http://127.0.0.1:9/v1", redact=lambda t: t,
                              describe=lambda: "http://127.0.0.1:9/v1", model="m")
    batch_client = batch_mod.BatchClient(backend, batch_mod.Ledger(None), batch_mod.BatchPlan())
    with pytest.raises(ServerUnusable, match="cannot reach the server") as caught:
        asyncio.run(batch_client._call("upload", client.files.create))
    assert 8.0 <= clock[0] <= 10.0 and len(calls) >= 4  # the sync rule: 8 s of failures, probed every 2 s
    assert "no request has succeeded" in caught.value.message


def test_a_batch_an_earlier_run_left_running_is_picked_up_whatever_the_budget(tmp_path, serve, synth):
    from dataforge.llm.batch import Ledger

    srv = serve()
    store = batch_store(srv)
    assert qa(synth, srv, tmp_path, "--batch").exit_code == 0
    ledger = Ledger(tmp_path / "qa.jsonl.journal.sqlite")
    ledger.db.execute("DELETE FROM requests")  # as if the run had been killed while its batch ran
    ledger.db.execute("UPDATE batches SET state='open'")
    ledger.close()
    again = qa(synth, srv, tmp_path, "--batch", "--max-tokens", "1", "--overwrite")  # covers no new request
    assert again.exit_code == 0, again.output
    assert len(rows_and_rejects(tmp_path)[0]) == N and store.created == 1 and srv.log.total == 0
