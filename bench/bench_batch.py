"""Batch API vs synchronous requests for `dataforge synth qa`, side by side on the loopback server.

    .venv/bin/python bench/bench_batch.py            # 300 passages x 2 pairs (~1 min)
    .venv/bin/python bench/bench_batch.py --quick    # 60 passages

The same command runs four ways against one loopback server (dataforge.llm.loopback
with the Batch API of dataforge.llm.loopback_batch), answering with the synth tests'
scripted model: `--dry-run` (the estimate), synchronous (`-c 32`), `--batch`, and
`--batch` with 5% of the lines failing and 3% left out of an expired batch (those are
sent synchronously). For each: chat-completion HTTP requests, batch lines, batches,
tokens in/out (as the server counted them: the loopback counts words, so the dry run's
token estimate, made with dataforge.tokencount, is compared with its own order of
magnitude only), estimated cost at gpt-4o-mini's table price, rows written and wall
time. Results go to bench/_work/bench_batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "synth"))

from fake_model import fake_model  # noqa: E402
from synth_helpers import passages  # noqa: E402

from dataforge.llm.loopback import LoopbackServer  # noqa: E402
from dataforge.llm.loopback_batch import BatchScript, batch_store  # noqa: E402

MODEL = "gpt-4o-mini"


def run_cli(srv, docs, out, *extra) -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "OPENAI_API_KEY": "sk-bench", "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_BASE_URL", None)
    cmd = [sys.executable, "-m", "dataforge", "-q", "synth", "qa", str(docs), "-o", str(out), "--per-passage", "2",
           "-m", MODEL, "--base-url", srv.url, "--max-new-tokens", "512", *extra]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    return proc, time.monotonic() - start


def num(text: str) -> float:
    return float(text.replace(",", ""))


def summary(text: str) -> dict:
    found = re.search(r"tokens in ([\d,]+) out ([\d,]+); est\. cost \$([\d.,]+)", text)
    rows = re.search(r"wrote ([\d,]+) rows", text)
    return {"tokens_in": int(num(found.group(1))), "tokens_out": int(num(found.group(2))),
            "cost": num(found.group(3)), "rows": int(num(rows.group(1)))}


def scenario(name, srv, docs, folder, script, *extra) -> dict:
    srv.reset_log()
    store = batch_store(srv)
    store.script = script
    store.lines.clear()  # each scenario's lines are new to the server (the script acts on first sight)
    created, lines = store.created, 0
    proc, wall = run_cli(srv, docs, folder / f"{name}.jsonl", *extra)
    if proc.returncode != 0:
        raise SystemExit(f"{name}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    result = {"name": name, "http_chat_requests": srv.log.total, "batches": store.created - created,
              "batch_lines": sum(store.lines.values()) - lines, "wall_s": round(wall, 2), **summary(proc.stdout)}
    print(f"{name:28s} chat HTTP {result['http_chat_requests']:5d}  batch lines {result['batch_lines']:5d}"
          f"  batches {result['batches']}  tokens in {result['tokens_in']:7,d} out {result['tokens_out']:7,d}"
          f"  est. ${result['cost']:.4f}  rows {result['rows']}  {wall:5.1f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    opts = parser.parse_args()
    n = 60 if opts.quick else 300
    load = os.getloadavg()
    srv = LoopbackServer(fake_model).start()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        docs = folder / "docs.txt"
        docs.write_text(passages(n), encoding="utf-8")
        proc, _ = run_cli(srv, docs, folder / "dry.jsonl", "--dry-run")
        print(proc.stdout)
        results = [
            scenario("synchronous -c 32", srv, docs, folder, BatchScript(), "-c", "32"),
            scenario("--batch", srv, docs, folder, BatchScript(), "--batch"),
            scenario("--batch, 5% failed + 3% expired", srv, docs, folder,
                     BatchScript(outcome="expired", expire=tuple(f"(item {i})." for i in range(0, n, 33)),
                                 fail=tuple(f"(item {i})." for i in range(1, n, 20))), "--batch"),
        ]
    srv.stop()
    sync, batch = results[0], results[1]
    print(f"cost batch / synchronous = {batch['cost'] / sync['cost']:.3f}; tokens equal:"
          f" {sync['tokens_in'] == batch['tokens_in'] and sync['tokens_out'] == batch['tokens_out']}")
    out = ROOT / "bench" / "_work" / "bench_batch.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"passages": n, "load_start": load, "load_end": os.getloadavg(),
                               "dry_run": proc.stdout, "results": results}, indent=1))
    print(f"load average at start {load[0]:.1f}, at end {os.getloadavg()[0]:.1f}; wrote {out}")


if __name__ == "__main__":
    main()
