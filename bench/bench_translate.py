"""Benchmark `dataforge translate` against the loopback chat server, in one run.

1. Protection and verification cost per row, measured alone (CPU, one thread):
   masking, restoring + verifying spans, the language check of each translated
   field, and source-language detection.
2. Requests: dataforge with batching (8 rows per request) vs one request per row
   vs the naive way, one request per field (a plain AsyncOpenAI + semaphore loop,
   no protection, no checks), on the same rows at 50 ms log-normal latency.
   Target: batching sends >= 4x fewer requests than one per field.
3. Throughput vs the limit: at 1 s mean latency and concurrency 64 the
   Little's-law limit is 64 requests/s (x rows per request); dataforge's
   achieved rate and its share of the limit.

The server runs in a child process (LoopbackServer.spawn) so it does not share
the client's interpreter. Rows are sample_data/dolly_en.jsonl, cycled and made
unique, so no two requests are the same.

    .venv/bin/python bench/bench_translate.py            # 10,000 rows
    .venv/bin/python bench/bench_translate.py --quick    # 1,000 rows
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dataforge.llm import RunPolicy  # noqa: E402
from dataforge.llm.loopback import Latency, LoopbackServer  # noqa: E402

FILLER = ("el texto traducido dice que la casa es muy grande y tiene un jardín con flores y árboles "
          "junto al río donde los niños juegan cada tarde").split()
TOKEN = re.compile(r"⟦\d+⟧")


def spanish_like(text: str) -> str:
    """Spanish words about as many as the source's, every ⟦n⟧ token kept in order."""
    n = max(3, len(TOKEN.sub("", text).split()))
    body = " ".join((FILLER * (n // len(FILLER) + 1))[:n])
    return (body[0].upper() + body[1:] + "." + "".join(" " + t for t in TOKEN.findall(text))).strip()


def scripted_reply(request: dict) -> str:
    user = request["messages"][-1]["content"]
    if request["messages"][0]["role"] == "system":  # dataforge's JSON-array request
        rows = json.loads(user)
        return json.dumps([{k: (v if k == "id" else spanish_like(v)) for k, v in row.items()} for row in rows],
                          ensure_ascii=False)
    return spanish_like(user.split("\n\n", 1)[-1])  # the naive one-field prompt


def make_rows(n: int) -> list[dict]:
    src = [json.loads(line) for line in (ROOT / "sample_data" / "dolly_en.jsonl").read_text().splitlines()
           if line.strip()]
    rows = []
    for i in range(n):
        row = dict(src[i % len(src)])
        row["id"] = f"b{i}"
        row["instruction"] = f"{row['instruction']} (Variant {i // len(src)} of this task.)"
        rows.append(row)
    return rows


def write_rows(rows: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


# -- 1. cost per row -----------------------------------------------------------------------------
def cost_per_row(rows: list[dict]) -> dict:
    from dataforge.records import InstructionRecord
    from dataforge.translate.assemble import plan_row
    from dataforge.translate.fields import check_fields, looks_like_code
    from dataforge.translate.langcheck import source_language, wrong_language
    from dataforge.translate.protect import mask, restore

    fields = check_fields(None, "instruction")
    records = [InstructionRecord(r["instruction"], r["response"], r.get("context", ""), id=r["id"]) for r in rows]
    texts = [[getattr(rec, f) for f in fields if getattr(rec, f).strip()] for rec in records]
    clock = time.process_time
    t0 = clock()
    masked = [[mask(t) for t in ts] for ts in texts]
    for ts in texts:
        for t in ts:
            looks_like_code(t)
    t1 = clock()
    replies = [[spanish_like(m.text) for m in ms] for ms in masked]
    t2 = clock()
    restored = [[restore(r, m) for r, m in zip(rs, ms)] for rs, ms in zip(replies, masked)]
    t3 = clock()
    wrong = sum(bool(wrong_language(t, "es")) for ts in restored for t in ts)
    t4 = clock()
    for ms in masked:
        source_language([m.text for m in ms])
    t5 = clock()
    t6 = clock()
    for rec in records:
        plan_row(rec, 0, fields=fields, targets=["es"])
    t7 = clock()
    n = len(rows)
    return {"rows": n, "fields": sum(map(len, texts)), "spans": sum(len(m.spans) for ms in masked for m in ms),
            "mask_us": (t1 - t0) / n * 1e6, "restore_us": (t3 - t2) / n * 1e6, "langcheck_us": (t4 - t3) / n * 1e6,
            "source_detect_us": (t5 - t4) / n * 1e6, "plan_us": (t7 - t6) / n * 1e6, "wrong": wrong}


# -- 2/3. end to end against the server --------------------------------------------------------
def run_dataforge(data: Path, out: Path, url: str, *, batch: int, concurrency: int, source_lang=None) -> dict:
    from dataforge.translate import translate

    os.environ["OPENAI_API_KEY"] = "sk-bench"
    policy = RunPolicy(concurrency=concurrency, handle_sigint=False, timeout=60)
    cpu0, t0 = time.process_time(), time.perf_counter()
    s = translate(data, out, to="es", model="scripted", base_url=url, batch_size=batch, policy=policy,
                  fresh=True, progress=False, source_lang=source_lang)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"requests": s.requests, "http": s.http_attempts, "translated": s.translated, "rejected": s.rejected,
            "wall": wall, "cpu": cpu, "rows_s": s.translated / wall, "req_s": s.requests / wall}


def run_naive(rows: list[dict], url: str, *, concurrency: int) -> dict:
    """What a user writes first: one request per non-empty field, no protection, no checks."""
    from openai import AsyncOpenAI

    async def main():
        client = AsyncOpenAI(base_url=url, api_key="sk-bench", max_retries=3)
        sem = asyncio.Semaphore(concurrency)
        out = {}

        async def one(key, text):
            async with sem:
                resp = await client.chat.completions.create(model="scripted", temperature=0, messages=[
                    {"role": "user", "content": f"Translate the following text into Spanish. Reply with the "
                                                f"translation only.\n\n{text}"}])
                out[key] = resp.choices[0].message.content

        jobs = [one((r["id"], f), r[f]) for r in rows for f in ("instruction", "context", "response")
                if r.get(f, "").strip()]
        await asyncio.gather(*jobs)
        await client.close()
        return len(jobs)

    cpu0, t0 = time.process_time(), time.perf_counter()
    n = asyncio.run(main())
    wall = time.perf_counter() - t0
    return {"requests": n, "wall": wall, "cpu": time.process_time() - cpu0, "rows_s": len(rows) / wall,
            "req_s": n / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="1,000 rows")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.05, help="mean latency for part 2 (s)")
    ap.add_argument("--limit-latency", type=float, default=1.0, help="mean latency for part 3 (s)")
    opts = ap.parse_args()
    n = 1_000 if opts.quick else opts.rows
    rows = make_rows(n)
    print(f"# bench_translate: {n:,} rows, concurrency {opts.concurrency}, batch {opts.batch_size}; "
          f"{platform.python_version()} on {os.cpu_count()} CPUs ({platform.machine()})")

    c = cost_per_row(rows[: min(n, 3000)])
    total = c["mask_us"] + c["restore_us"] + c["langcheck_us"]
    print(f"\n## 1. protection and verification, CPU per row ({c['rows']:,} rows, {c['fields']:,} fields,"
          f" {c['spans']:,} protected spans)")
    print(f"mask + code check {c['mask_us']:8.0f} us | restore + verify spans {c['restore_us']:8.0f} us |"
          f" language check of the fields {c['langcheck_us']:8.0f} us")
    print(f"total per row (one target) {total:8.0f} us; source-language detection (rows without lang/--from)"
          f" {c['source_detect_us']:8.0f} us; full row planning {c['plan_us']:8.0f} us;"
          f" scripted rows judged wrong: {c['wrong']}")

    with tempfile.TemporaryDirectory(prefix="bench_translate_") as tmp:
        tmp = Path(tmp)
        data = write_rows(rows, tmp / "in.jsonl")
        srv = LoopbackServer.spawn(scripted_reply, latency=Latency.lognormal(opts.latency))
        try:
            print(f"\n## 2. requests for {n:,} rows into one language, {opts.latency * 1000:.0f} ms log-normal latency")
            batched = run_dataforge(data, tmp / "b.jsonl", srv.url, batch=opts.batch_size,
                                    concurrency=opts.concurrency)
            per_row = run_dataforge(data, tmp / "r.jsonl", srv.url, batch=1, concurrency=opts.concurrency)
            naive = run_naive(rows, srv.url, concurrency=opts.concurrency)
        finally:
            srv.stop()
        for name, r in (("dataforge, batch %d" % opts.batch_size, batched), ("dataforge, one row per request",
                                                                              per_row),
                        ("naive, one request per field", naive)):
            extra = f" translated {r['translated']:,} rejected {r['rejected']:,}" if "translated" in r else ""
            print(f"{name:34s} requests {r['requests']:7,}  wall {r['wall']:7.1f} s  client CPU {r['cpu']:6.1f} s"
                  f"  {r['rows_s']:7.1f} rows/s{extra}")
        print(f"=> one-request-per-field / batched = {naive['requests'] / batched['requests']:.1f}x fewer requests"
              f" (target >= 4x); per row / batched = {per_row['requests'] / batched['requests']:.1f}x")

        lat = opts.limit_latency
        srv = LoopbackServer.spawn(scripted_reply, latency=Latency.lognormal(lat))
        try:
            limit = opts.concurrency / lat
            print(f"\n## 3. throughput vs the limit: {lat:g} s mean latency, concurrency {opts.concurrency}:"
                  f" limit {limit:.0f} requests/s")
            for label, src in (("--from en", "en"), ("source detected per row", None)):
                r = run_dataforge(data, tmp / f"t{label[:2]}.jsonl", srv.url, batch=opts.batch_size,
                                  concurrency=opts.concurrency, source_lang=src)
                print(f"dataforge, batch {opts.batch_size}, {label:24s} {r['req_s']:6.1f} requests/s"
                      f" = {r['req_s'] / limit:5.1%} of the limit; {r['rows_s']:6.1f} rows/s; wall {r['wall']:.1f} s,"
                      f" client CPU {r['cpu']:.1f} s")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
