"""`-c auto` against a sweep of fixed `-c` values, on a server with a capacity limit (issue 16).

    .venv/bin/python bench/bench_concurrency.py                 # K = 8, 32, 128 (~22 min on 2 busy cores)
    .venv/bin/python bench/bench_concurrency.py --k 8 --rtts 20 # a quick look

For each capacity K a loopback chat-completions server runs in its own process
(`LoopbackServer.spawn(..., max_concurrency=K)`): every answer takes exactly
`--latency` seconds (0.5 s for K <= 32, 1 s for K = 128), and a request arriving while K are in flight is answered
429 at once (no Retry-After, like a provider's concurrency limit). The same
requests (K x `--rtts`, i.e. that many round trips at the ideal window) are then
sent by `LLMSession` (journal on, default retry policy) with `-c auto` and with
each fixed `-c` of the sweep (K/2, 3K/4, K, 3K/2, 2K), one after the other in
this run. Rate = requests / client wall time (ramp-up included). Printed per
K: each contender's rate, its 429s as a share of the requests the server
received, and auto / best fixed. Target: auto within 10% of the best fixed
`-c`, with 429s under 2%. Results also go to bench/_work/bench_concurrency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / "_work"


def _requests(n: int, k: int):
    from dataforge.llm import ChatRequest

    return [ChatRequest([{"role": "user", "content": f"capacity {k} request {i}"}], params={"max_tokens": 16})
            for i in range(n)]


def _run(srv, n: int, k: int, concurrency: str) -> dict:
    from dataforge.llm import LLMSession
    from dataforge.llm.openai_backend import OpenAIBackend
    from dataforge.llm.policy import RunPolicy, parse_concurrency

    size, adaptive = parse_concurrency(concurrency)
    srv.reset()
    backend = OpenAIBackend("m", base_url=srv.url, api_key_env="BENCH_NO_KEY", concurrency=size)
    with tempfile.TemporaryDirectory() as tmp:
        policy = RunPolicy(concurrency=size, adaptive=adaptive, handle_sigint=False)
        session = LLMSession(backend, Path(tmp) / "j.sqlite", policy=policy, progress=False)
        started = time.monotonic()
        results = session.run(_requests(n, k))
        wall = time.monotonic() - started
        window = getattr(session.backend, "window_text", lambda: "")()
        session.close()
    log = srv.log()
    throttled = log["statuses"].get("429", 0)
    return {"c": concurrency, "ok": sum(r.ok for r in results), "wall": wall, "rate": n / wall,
            "received": log["total"], "429": throttled, "share_429": throttled / max(1, log["total"]),
            "max_in_flight": log["max_in_flight"], "final_window": window}


def bench_k(k: int, latency: float, rtts: int, sweep: list[float]) -> dict:
    from dataforge.llm.loopback import LoopbackServer

    n = k * rtts
    fixed = sorted({max(1, round(k * f)) for f in sweep})
    rows = []
    with LoopbackServer.spawn(latency=latency, max_concurrency=k) as srv:
        for c in ["auto"] + [str(c) for c in fixed]:
            row = _run(srv, n, k, c)
            rows.append(row)
            print(f"  K={k:<4} -c {c:<5} {row['rate']:8.1f} req/s  wall {row['wall']:6.1f} s  "
                  f"429s {row['429']:5d} ({row['share_429']:.1%})  max in flight {row['max_in_flight']:4d}"
                  f"  {row['final_window']}", flush=True)
    auto = rows[0]
    best = max(rows[1:], key=lambda r: r["rate"])
    ratio = auto["rate"] / best["rate"]
    ideal = k / latency
    print(f"K={k}: auto {auto['rate']:.1f} req/s = {ratio:.3f} x best fixed (-c {best['c']}, {best['rate']:.1f});"
          f" ideal {ideal:.0f} req/s; auto 429s {auto['share_429']:.2%}"
          f"  -> {'met' if ratio >= 0.9 and auto['share_429'] < 0.02 else 'NOT met'}", flush=True)
    return {"k": k, "latency": latency, "requests": n, "rows": rows, "ratio": ratio, "best": best["c"],
            "ideal": ideal}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, action="append", help="capacities (default 8, 32, 128)")
    parser.add_argument("--latency", type=float, help="seconds per answer (fixed; default 0.5 s for K <= 32,"
                        " 1 s above, so the client's 2 busy cores are not the limit at K = 128)")
    parser.add_argument("--rtts", type=int, default=60, help="requests = K x this")
    parser.add_argument("--sweep", default="0.5,0.75,1,1.5,2", help="fixed -c values as fractions of K")
    opts = parser.parse_args(argv)
    from dataforge.progress import set_quiet

    set_quiet(True)
    os.environ.pop("BENCH_NO_KEY", None)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    sweep = [float(x) for x in opts.sweep.split(",")]
    out = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": load,
           "results": [bench_k(k, opts.latency or (0.5 if k <= 32 else 1.0), opts.rtts, sweep)
                       for k in (opts.k or [8, 32, 128])]}
    out["load_end"] = os.getloadavg()
    print(f"load average at end: {out['load_end'][0]:.2f} {out['load_end'][1]:.2f} {out['load_end'][2]:.2f}")
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "bench_concurrency.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
