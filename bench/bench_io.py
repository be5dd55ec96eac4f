"""I/O benchmark: dataforge convert next to polars reading and writing the same file.

    .venv/bin/python bench/bench_io.py            # 1,000,000 rows
    .venv/bin/python bench/bench_io.py --quick    # 100,000 rows
    .venv/bin/python bench/bench_io.py --rows 5000000

Generates a Dolly-shaped JSONL in bench/_work/ (reused when present), then, each
in its own child process so that peak memory is that task's alone, times:
  (a) polars: pl.read_ndjson(file).write_parquet(out)         (the peer)
  (b) dataforge convert file -> out.parquet                   (native records)
  (c) dataforge convert file -> out.jsonl --to openai          (chat JSONL)
and prints wall time, rows/s, MB/s, CPU seconds (user + system, all threads), peak
RSS, and dataforge's throughput (wall clock) as a share of polars'. The machine
may be shared: --repeat N keeps the best of N runs of each task.
Targets (issue 15): convert -> Parquet >= 80% and -> OpenAI chat JSONL >= 60% of
polars' read-and-write throughput; peak memory < 2 GB at any size (dataforge streams
in batches). DATAFORGE_ROW_PATH=1 in the environment times the per-row path instead of
the columnar one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "_work"
CATEGORIES = ["open_qa", "closed_qa", "general_qa", "classification", "information_extraction",
              "brainstorming", "summarization", "creative_writing"]
WORDS = ("the of and to in is was for on that with as by at from his an were are which this be or "
         "had not but first one their its new after who they have her she two been other when there "
         "all during into school time may years more most only over city some world would where later "
         "up such used many can state about national out known university united then made").split()

# Each task runs in a child: it times itself and reports its own peak RSS (ru_maxrss, KiB on Linux).
CHILD = r"""
import json, resource, sys, time
task, src, out = sys.argv[1:4]
start = time.perf_counter()
if task == "polars":
    import polars as pl
    pl.read_ndjson(src).write_parquet(out)
    rows = None
elif task == "polars-stream":
    import polars as pl
    pl.scan_ndjson(src).sink_parquet(out)
    rows = None
else:
    from dataforge.convert import convert
    from dataforge.progress import set_quiet
    set_quiet("--quiet" in sys.argv)
    s = convert(src, out, to=None if task == "df-parquet" else "openai")
    rows = s.written
    assert s.read == s.written + s.rejected
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "rows": rows, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "peak_rss_mb": usage.ru_maxrss / 1024}))
"""


def sentence(rng: random.Random, lo: int, hi: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(lo, hi))
    return " ".join(words).capitalize() + "."


def generate(path: Path, rows: int) -> None:
    """Dolly-like rows (~870 bytes each, like databricks-dolly-15k): a one-line instruction,
    context on ~40% of rows, a few sentences of response, a category."""
    import orjson

    rng = random.Random(1234)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        batch = []
        for i in range(rows):
            row = {
                "instruction": sentence(rng, 6, 18).rstrip(".") + "?",
                "context": " ".join(sentence(rng, 8, 24) for _ in range(rng.randint(3, 9)))
                if rng.random() < 0.4 else "",
                "response": " ".join(sentence(rng, 6, 20) for _ in range(rng.randint(2, 14))),
                "category": CATEGORIES[i % len(CATEGORIES)],
            }
            batch.append(orjson.dumps(row))
            if len(batch) == 10_000:
                fh.write(b"\n".join(batch) + b"\n")
                batch = []
        if batch:
            fh.write(b"\n".join(batch) + b"\n")
    os.replace(tmp, path)


def run_child(task: str, src: Path, out: Path, quiet: bool, code: Path = ROOT) -> dict:
    args = [sys.executable, "-c", CHILD, task, str(src), str(out)] + (["--quiet"] if quiet else [])
    res = subprocess.run(args, capture_output=True, text=True, cwd=code)
    if res.returncode != 0:
        raise SystemExit(f"{task} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="100,000 rows")
    ap.add_argument("--repeat", type=int, default=1, help="runs per task; the best is reported")
    ap.add_argument("--progress", action="store_true", help="show dataforge's progress bar (as the CLI does)")
    ap.add_argument("--stream-peer", action="store_true", help="also time polars scan_ndjson().sink_parquet()")
    ap.add_argument("--code", type=Path, default=ROOT,
                    help="run dataforge from this checkout (e.g. an older commit, for before/after figures)")
    args = ap.parse_args()
    rows = 100_000 if args.quick else args.rows

    WORK.mkdir(parents=True, exist_ok=True)
    src = WORK / f"dolly_{rows}.jsonl"
    if not src.exists():
        t = time.perf_counter()
        generate(src, rows)
        print(f"generated {src} in {time.perf_counter() - t:.1f}s")
    size_mb = src.stat().st_size / 1e6
    print(f"input: {rows:,} rows, {size_mb:,.0f} MB; python {sys.version.split()[0]}, {os.cpu_count()} CPUs,"
          f" load average {os.getloadavg()[0]:.1f}; dataforge from {args.code}")

    tasks = [("polars", "polars read_ndjson + write_parquet", "pl.parquet")]
    if args.stream_peer:
        tasks.append(("polars-stream", "polars scan_ndjson + sink_parquet", "pls.parquet"))
    tasks += [("df-parquet", "dataforge convert -> .parquet", "df.parquet"),
              ("df-openai", "dataforge convert --to openai -> .jsonl", "df.openai.jsonl")]
    results = {}
    for task, _, suffix in tasks:
        out = WORK / f"out_{rows}.{suffix}"
        best = None
        for _ in range(args.repeat):
            r = run_child(task, src, out, quiet=not args.progress, code=args.code.resolve())
            best = r if best is None or r["seconds"] < best["seconds"] else best
        results[task] = best
        out.unlink(missing_ok=True)
        Path(str(out) + ".rejects.jsonl").unlink(missing_ok=True)

    base = rows / results["polars"]["seconds"]
    print()
    print("| task | wall s | rows/s | MB/s | CPU s | peak RSS | vs polars |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for task, label, _ in tasks:
        r = results[task]
        rate = rows / r["seconds"]
        print(f"| {label} | {r['seconds']:.2f} | {rate:,.0f} | {size_mb / r['seconds']:,.1f} |"
              f" {r['cpu_seconds']:.2f} | {r['peak_rss_mb']:,.0f} MB | {rate / base:.0%} |")
    share = {t: rows / results[t]["seconds"] / base for t in ("df-parquet", "df-openai")}
    peak = max(results[t]["peak_rss_mb"] for t in ("df-parquet", "df-openai"))
    print()
    print(f"targets: -> Parquet >= 80% of polars: {'MET' if share['df-parquet'] >= 0.8 else 'NOT MET'}"
          f" ({share['df-parquet']:.0%}); -> openai >= 60%: {'MET' if share['df-openai'] >= 0.6 else 'NOT MET'}"
          f" ({share['df-openai']:.0%}); peak memory < 2 GB -> {'MET' if peak < 2048 else 'NOT MET'}"
          f" ({peak:,.0f} MB); load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
