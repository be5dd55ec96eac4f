"""Benchmark dataforge's LLM layer against a plain AsyncOpenAI + semaphore loop and distilabel.

    .venv/bin/python bench/bench_synth.py            # full run (~22 min on 2 busy cores; 15 of them memory)
    .venv/bin/python bench/bench_synth.py --quick    # small run (~3 min)

Every contender talks to the same loopback chat-completions server
(dataforge.llm.loopback, run in its own process) through the real `openai`
client, and runs in its own process, so one contender's CPU is not another's.
Rates are requests answered / server span (first request received to last
answer sent), the same instrument for everyone; the client-side wall time is
printed too. Scenarios (targets from issue 6):

  throughput  50 ms log-normal latency, 2,000 requests, concurrency 64:
              dataforge >= 95% of the plain loop, >= 3x distilabel
  littles     1 s mean latency, concurrency 64: >= 90% of the Little's-law limit
              (concurrency / realised mean latency)
  faults      5% 429 (Retry-After: 1) and 2% 500: no row lost or duplicated;
              the number of requests sent is reported
  memory      100,000 requests streamed through the journal: RSS stays flat

distilabel runs in a separate virtualenv under bench/_work/ (created on first
use with `pip install "distilabel[openai]" requests`), offline (HF_HUB_OFFLINE
etc.), cache and HF_HOME in a temporary folder, DISTILABEL_LOG_LEVEL=WARNING so
per-request log lines do not count against it. If it cannot be installed or
run, the reason is printed and recorded. Results go to
bench/_work/bench_synth.json; the figures are copied into bench/RESULTS-synth.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "_work"
DL_VENV = WORK / "distilabel-venv"
DL_PY = DL_VENV / "bin" / "python"

DISTILABEL_WORKER = r'''
import json, os, sys, time
url, n, batch, max_tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
from distilabel.models import OpenAILLM
from distilabel.pipeline import Pipeline
from distilabel.steps import LoadDataFromDicts
from distilabel.steps.tasks import TextGeneration
import distilabel
with Pipeline(name="bench-synth", cache_dir=os.environ["DISTILABEL_CACHE_DIR"]) as pipeline:
    load = LoadDataFromDicts(data=[{"instruction": f"Question {i}: summarise item {i}."} for i in range(n)],
                             batch_size=batch)
    gen = TextGeneration(llm=OpenAILLM(model="bench-model", base_url=url, api_key="bench-key", timeout=120,
                                       generation_kwargs={"max_new_tokens": max_tokens}),
                         input_batch_size=batch)
    load >> gen
t0 = time.perf_counter()
distiset = pipeline.run(use_cache=False)
wall = time.perf_counter() - t0
rows = distiset["default"]["train"]
print("RESULT " + json.dumps({"wall": wall, "rows": len(rows), "ok": sum(1 for r in rows if r["generation"]),
                              "version": distilabel.__version__}))
'''


def requests_for(n: int, max_tokens: int = 64):
    from dataforge.llm import ChatRequest

    for i in range(n):
        yield ChatRequest([{"role": "user", "content": f"Question {i}: summarise item {i}."}],
                          params={"max_tokens": max_tokens}, tag=i)


# -- workers (run in their own process) ----------------------------------------------------
def worker_plain(url: str, n: int, concurrency: int) -> dict:
    import openai

    async def main():
        client = openai.AsyncOpenAI(base_url=url, api_key="bench-key")
        sem = asyncio.Semaphore(concurrency)

        async def one(i):
            async with sem:
                out = await client.chat.completions.create(
                    model="bench-model", max_tokens=64,
                    messages=[{"role": "user", "content": f"Question {i}: summarise item {i}."}])
                return out.choices[0].message.content

        t0, c0 = time.perf_counter(), time.process_time()
        answers = await asyncio.gather(*(one(i) for i in range(n)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        await client.close()
        return {"wall": wall, "cpu": cpu, "ok": sum(1 for a in answers if a)}

    return asyncio.run(main())


def worker_dataforge(url: str, n: int, concurrency: int, journal: str, stream: bool) -> dict:
    import psutil

    from dataforge.llm import LLMSession, RunPolicy
    from dataforge.llm.openai_backend import OpenAIBackend
    from dataforge.progress import set_quiet

    set_quiet(True)
    os.environ["BENCH_KEY"] = "bench-key"
    backend = OpenAIBackend("bench-model", base_url=url, api_key_env="BENCH_KEY", concurrency=concurrency)
    proc = psutil.Process()
    rss, seen, tags = [], {"ok": 0, "failed": 0}, set()
    step = max(1, n // 10)

    def on_result(result):
        seen["ok" if result.ok else "failed"] += 1
        done = seen["ok"] + seen["failed"]
        if not stream:
            tags.add(result.tag)
        if done % step == 0:
            rss.append(round(proc.memory_info().rss / 2**20, 1))

    with LLMSession(backend, journal, policy=RunPolicy(concurrency=concurrency), fresh=True, progress=False) as llm:
        t0, c0 = time.perf_counter(), time.process_time()
        llm.run(requests_for(n), on_result=on_result)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        stats = llm.stats
    out = {"wall": wall, "cpu": cpu, "ok": seen["ok"], "failed": seen["failed"], "rss_mb": rss,
           "retries": stats.retries, "attempts": stats.sent}
    if not stream:
        out["unique_tags"] = len(tags)
    return out


# -- the orchestrator ----------------------------------------------------------------------
def run_worker(kind: str, url: str, n: int, concurrency: int, tmp: str, stream: bool = False) -> dict:
    if kind == "distilabel":
        return run_distilabel(url, n, concurrency, tmp)
    cmd = [sys.executable, __file__, "--worker", kind, "--url", url, "-n", str(n), "-c", str(concurrency),
           "--journal", os.path.join(tmp, f"{kind}-{time.monotonic_ns()}.sqlite")] + (["--stream"] if stream else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ensure_distilabel() -> str | None:
    """None when distilabel is ready, else the reason it is not."""
    if not DL_PY.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        print("creating the distilabel venv under bench/_work/ ...", flush=True)
        made = subprocess.run([sys.executable, "-m", "venv", str(DL_VENV)], capture_output=True, text=True)
        if made.returncode != 0:
            return f"python -m venv failed: {made.stderr.strip()[-500:]}"
        pip = subprocess.run([str(DL_PY), "-m", "pip", "install", "-q", "distilabel[openai]", "requests"],
                             capture_output=True, text=True, timeout=1800)
        if pip.returncode != 0:
            return f"pip install distilabel[openai] requests failed: {pip.stderr.strip()[-800:]}"
    check = subprocess.run([str(DL_PY), "-c", "import distilabel, openai; print(distilabel.__version__)"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        return f"distilabel does not import: {check.stderr.strip()[-800:]}"
    return None


def run_distilabel(url: str, n: int, concurrency: int, tmp: str) -> dict:
    script = WORK / "distilabel_worker.py"
    script.write_text(DISTILABEL_WORKER, encoding="utf-8")
    home = tempfile.mkdtemp(prefix="dl-", dir=tmp)
    env = {**os.environ, "HF_HOME": f"{home}/hf", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_CACHE": f"{home}/datasets",
           "DISTILABEL_CACHE_DIR": f"{home}/cache", "DISTILABEL_LOG_LEVEL": "WARNING"}
    t0 = time.perf_counter()
    proc = subprocess.run([str(DL_PY), str(script), url, str(n), str(concurrency), "64"], capture_output=True,
                          text=True, env=env, cwd=home, timeout=3600)
    total = time.perf_counter() - t0
    found = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"distilabel run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(found[-1][7:])
    out["process_wall"] = total
    return out


def measure(server, kind, n, concurrency, tmp, stream=False) -> dict:
    server.reset()
    result = run_worker(kind, server.url, n, concurrency, tmp, stream)
    log = server.log()
    answered = sum(v for k, v in log["statuses"].items() if k.startswith("200"))
    result.update(server_total=log["total"], statuses=log["statuses"], span=log["span"],
                  rate=answered / log["span"] if log["span"] else 0.0, max_in_flight=log["max_in_flight"],
                  duplicates=sum(1 for v in log["completed"].values() if v > 1),
                  mean_latency=log["slept"] / max(1, log["total"]))
    return result


def scenario_throughput(args, tmp, report):
    from dataforge.llm.loopback import Latency, LoopbackServer

    n, rounds = (600, 1) if args.quick else (2000, 3)
    kinds = ["plain", "dataforge"] + (["distilabel"] if report["distilabel"] is None else [])
    runs = {k: [] for k in kinds}
    with LoopbackServer.spawn(latency=Latency.lognormal(0.05), seed=1) as server:
        for r in range(rounds):
            for kind in kinds[r % len(kinds):] + kinds[: r % len(kinds)]:  # rotate the order each round
                try:
                    res = measure(server, kind, n, 64, tmp)
                except RuntimeError as exc:
                    if kind != "distilabel":
                        raise
                    report["distilabel"] = str(exc)[-1500:]
                    kinds.remove("distilabel")
                    continue
                runs[kind].append(res)
                print(f"  throughput {kind:<10} {res['rate']:7.1f} req/s (server span {res['span']:.2f} s,"
                      f" client wall {res['wall']:.2f} s, ok {res['ok']}/{n})", flush=True)
    med = {k: statistics.median(x["rate"] for x in v) for k, v in runs.items() if v}
    out = {"n": n, "concurrency": 64, "latency": "log-normal mean 50 ms, sigma 0.5", "rounds": rounds,
           "median_rate": med, "runs": runs}
    if "plain" in med and "dataforge" in med:
        out["dataforge_vs_plain"] = med["dataforge"] / med["plain"]
        cpu = {k: statistics.median(x["cpu"] / n * 1000 for x in runs[k]) for k in ("plain", "dataforge")}
        out["cpu_ms_per_request"] = cpu
    if "distilabel" in med:
        out["dataforge_vs_distilabel"] = med["dataforge"] / med["distilabel"]
    report["throughput"] = out


def scenario_littles(args, tmp, report):
    from dataforge.llm.loopback import Latency, LoopbackServer

    n = 384 if args.quick else 2000
    with LoopbackServer.spawn(latency=Latency.lognormal(1.0), seed=2) as server:
        res = measure(server, "dataforge", n, 64, tmp)
    limit = 64 / res["mean_latency"]
    client_rate = n / res["wall"]
    report["littles"] = {"n": n, "concurrency": 64, "mean_latency": res["mean_latency"], "limit": limit,
                         "rate": res["rate"], "client_rate": client_rate, "fraction": res["rate"] / limit,
                         "client_fraction": client_rate / limit, "run": res}
    print(f"  littles    dataforge  {res['rate']:7.1f} req/s = {res['rate'] / limit:.1%} of the limit {limit:.1f}"
          f" (client wall: {client_rate:.1f} req/s = {client_rate / limit:.1%})", flush=True)


def scenario_faults(args, tmp, report):
    from dataforge.llm.loopback import Fault, Latency, LoopbackServer

    n = 600 if args.quick else 2000
    faults = {Fault.rate_limit(1.0): 0.05, Fault.server_error(500): 0.02}
    with LoopbackServer.spawn(latency=Latency.lognormal(0.05), faults=faults, seed=3) as server:
        res = measure(server, "dataforge", n, 64, tmp)
    lost = n - res["ok"] - res["failed"]
    report["faults"] = {"n": n, "rows_ok": res["ok"], "rows_failed": res["failed"], "rows_lost": lost,
                        "unique_rows": res["unique_tags"], "requests_sent": res["server_total"],
                        "statuses": res["statuses"], "duplicates": res["duplicates"], "retries": res["retries"],
                        "wall": res["wall"], "rate": res["rate"]}
    print(f"  faults     {res['ok']}/{n} ok, {res['failed']} failed, {lost} lost, {res['duplicates']} duplicated;"
          f" {res['server_total']} requests sent {res['statuses']}", flush=True)


def scenario_memory(args, tmp, report):
    from dataforge.llm.loopback import Latency, LoopbackServer

    n = 10_000 if args.quick else 100_000
    with LoopbackServer.spawn(latency=Latency.constant(0.005), seed=4) as server:
        res = measure(server, "dataforge", n, 64, tmp, stream=True)
    rss = res["rss_mb"]
    report["memory"] = {"n": n, "rss_mb_every_10pct": rss, "growth_mb": rss[-1] - rss[0] if rss else None,
                        "wall": res["wall"], "ok": res["ok"]}
    print(f"  memory     RSS every 10% of {n:,} requests: {rss} MB (growth {rss[-1] - rss[0]:+.1f} MB)", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--no-distilabel", action="store_true")
    parser.add_argument("--scenarios", default="throughput,littles,faults,memory")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("-n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("-c", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("--journal", help=argparse.SUPPRESS)
    parser.add_argument("--stream", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "plain":
        print(json.dumps(worker_plain(args.url, args.n, args.c)))
        return
    if args.worker == "dataforge":
        print(json.dumps(worker_dataforge(args.url, args.n, args.c, args.journal, args.stream)))
        return

    import openai

    report = {"command": " ".join([".venv/bin/python bench/bench_synth.py", *(argv or sys.argv[1:])]),
              "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg(), "python": platform.python_version(),
                          "openai": openai.__version__},
              "distilabel": "skipped (--no-distilabel)" if args.no_distilabel else ensure_distilabel()}
    if report["distilabel"]:
        print(f"distilabel not run: {report['distilabel']}", flush=True)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        for name in args.scenarios.split(","):
            print(f"{name}:", flush=True)
            globals()[f"scenario_{name}"](args, tmp, report)
    report["machine"]["load_after"] = os.getloadavg()
    report["seconds"] = time.time() - started
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "bench_synth.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    summarise(report)


def summarise(report: dict) -> None:
    print("\nsummary")
    t = report.get("throughput")
    if t:
        rates = ", ".join(f"{k} {v:.0f}/s" for k, v in t["median_rate"].items())
        print(f"  throughput (median of {t['rounds']}): {rates}")
        if "dataforge_vs_plain" in t:
            print(f"    dataforge / plain loop = {t['dataforge_vs_plain']:.2f}  (target >= 0.95);"
                  f" CPU ms/request {t['cpu_ms_per_request']}")
        if "dataforge_vs_distilabel" in t:
            print(f"    dataforge / distilabel = {t['dataforge_vs_distilabel']:.2f}  (target >= 3)")
    if report.get("distilabel"):
        print(f"  distilabel: not measured: {report['distilabel'][:300]}")
    lt = report.get("littles")
    if lt:
        print(f"  Little's law: {lt['rate']:.1f} of {lt['limit']:.1f} req/s = {lt['fraction']:.1%}  (target >= 90%)")
    f = report.get("faults")
    if f:
        print(f"  faults: {f['rows_ok']}/{f['n']} rows ok, {f['rows_lost']} lost, {f['duplicates']} duplicated,"
              f" {f['requests_sent']} requests sent")
    m = report.get("memory")
    if m:
        print(f"  memory: {m['n']:,} requests, RSS {m['rss_mb_every_10pct'][0]} -> {m['rss_mb_every_10pct'][-1]} MB")
    print(f"  load average before/after: {report['machine']['load_before']} / {report['machine']['load_after']}")


if __name__ == "__main__":
    main()
