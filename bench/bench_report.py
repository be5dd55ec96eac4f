"""Report benchmark: `dataforge report` on a large multilingual dataset, next to a plain polars read.

    .venv/bin/python bench/bench_report.py            # 1,000,000 rows
    .venv/bin/python bench/bench_report.py --quick    # 50,000 rows
    .venv/bin/python bench/bench_report.py --rows 200000 --repeat 2

Generates a Dolly-shaped JSONL in bench/_work/ (reused when present): eight languages
mixed (en de fr es it pt nl ru, one language per row), context on ~40% of rows, and a few
planted problems so every code path runs (1% exact duplicates, 1% near-duplicates with one
word changed, 0.5% refusals, 0.2% empty outputs, 0.3% outputs in another language).

Each task runs in its own child process, so its peak memory is its own:
  (a) polars: pl.read_ndjson(file)                          (the peer: just reading)
  (b) dataforge report file -o report.html --json report.json  (everything)
Peak memory is sampled over the whole process tree (the language-detection workers
included) with psutil. Prints wall time, peak memory, the ratio report/polars from
the same run, the language-detection rate, the report's own stage timings, and takes a
screenshot of the HTML with headless Chromium (when installed) into bench/_work/.
Targets: report <= 60 s and <= 4 GB peak for 1,000,000 rows on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "_work"
CATEGORIES = ["open_qa", "closed_qa", "general_qa", "classification", "information_extraction",
              "brainstorming", "summarization", "creative_writing"]
VOCAB = {
    "en": "the of and to in is was for on that with as by at from his an were are which this be or had not but "
          "first one their its new after who they have her she two been other when there all during into school "
          "time may years more most only over city some world would where later up such used many can state",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden "
          "aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur "
          "oder aber vor zur bis mehr durch man sein wurde sei Jahr Stadt Zeit immer schon heute",
    "fr": "le la de et les des en un une du est que qui dans pour pas sur au par plus ne se ce il elle avec "
          "sont mais comme tout nous leur bien où sans aussi deux faire entre après fait peut ont été cette "
          "ville temps toujours encore même pendant depuis monde années",
    "es": "el la de que y en los del se las por un para con no una su al es lo como más pero sus le ya fue "
          "este ha sí porque esta son entre cuando muy sin sobre también me hasta hay donde quien desde todo "
          "nos durante todos uno les ciudad tiempo mundo años",
    "it": "il di che e la per un in non una sono mi si ho lo ma ti ha le cosa con io ci questo bene da se "
          "anche del della nel come più sei era loro fatto tutto quando dove ancora sempre città tempo mondo "
          "anni molto dopo prima questa degli",
    "pt": "o de a que e do da em um para com não uma os no se na por mais as dos como mas foi ao ele das tem "
          "seu sua ou ser quando muito nos já está também só pelo pela até isso ela entre depois sem mesmo "
          "cidade tempo mundo anos sempre",
    "nl": "de het een en van in is op te dat die voor zijn met niet aan er maar om ook als dan bij nog uit "
          "door over naar tot wel wordt werd heeft hebben was worden kan deze geen meer jaar stad tijd altijd "
          "wereld jaren na veel",
    "ru": "и в не на я что он с как а то все она так его но да ты к у же вы за бы по только ее мне было "
          "вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас "
          "город время мир годы",
}
REFUSAL = "As an AI language model, I cannot help with that request."

CHILD = r"""
import json, sys, time
task, src, out = sys.argv[1:4]
extra = sys.argv[4:]
start = time.perf_counter()
if task == "polars":
    import polars as pl
    rows = pl.read_ndjson(src).height
else:
    from click.testing import CliRunner
    from dataforge.cli.main import cli
    res = CliRunner().invoke(cli, ["-q", "report", src, "-o", out, "--json", out + ".json", *extra],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = json.load(open(out + ".json"))["rows"]["usable"]
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows}))
"""


def _pool(rng: random.Random, words: list[str], n: int, lo: int, hi: int) -> list[str]:
    return [" ".join(rng.choices(words, k=rng.randint(lo, hi))).capitalize() + "." for _ in range(n)]


def generate(path: Path, rows: int) -> None:
    """Rows composed from per-language sentence pools with numpy indices (fast for millions)."""
    import numpy as np
    import polars as pl

    rng, nrng = random.Random(7), np.random.default_rng(7)
    langs = list(VOCAB)
    pools = {lang: _pool(rng, VOCAB[lang].split(), 60_000, 5, 20) for lang in langs}
    lang_of = nrng.integers(0, len(langs), rows)
    parts = []
    for li, lang in enumerate(langs):
        idx = np.flatnonzero(lang_of == li)
        pool = pl.Series(pools[lang])
        n = len(idx)
        cols = {f"p{i}": pool.gather(nrng.integers(0, len(pool), n)) for i in range(11)}
        k = pl.Series(nrng.integers(1, 7, n))  # sentences in the response
        has_ctx = pl.Series(nrng.random(n) < 0.4)
        frame = pl.DataFrame(cols).with_columns(k=k, has_ctx=has_ctx, pos=pl.Series(idx))
        parts.append(frame.select(
            "pos",
            pl.concat_str(["p0", "p1"], separator=" ").alias("instruction"),
            pl.when("has_ctx").then(pl.concat_str(["p2", "p3", "p4"], separator=" ")).otherwise(pl.lit(""))
            .alias("context"),
            pl.concat_str([pl.when(pl.col("k") > i).then(pl.col(f"p{5 + i}")) for i in range(6)],
                          separator=" ", ignore_nulls=True).alias("response"),
            pl.Series(CATEGORIES).gather(nrng.integers(0, len(CATEGORIES), n)).alias("category"),
        ))
    df = pl.concat(parts).sort("pos").drop("pos")
    df = _plant(df, nrng, pools)
    tmp = path.with_name(path.name + ".part")
    df.write_ndjson(tmp)
    os.replace(tmp, path)


def _plant(df, nrng, pools):
    import numpy as np
    import polars as pl

    n = df.height
    out = df["response"].to_numpy().copy()
    ins = df["instruction"].to_numpy()
    ctx = df["context"].to_numpy()
    # 1% exact duplicates and 1% near-duplicates (one word replaced) of earlier rows
    for share, near in ((0.01, False), (0.01, True)):
        dst = nrng.choice(np.arange(n // 2, n), int(n * share), replace=False)
        src = nrng.integers(0, n // 2, len(dst))
        ins[dst], ctx[dst], out[dst] = ins[src], ctx[src], out[src]
        if near:
            out[dst] = [o.replace(" ", " zebra ", 1) if o else "zebra" for o in out[dst]]
    refuse = nrng.choice(n, int(n * 0.005), replace=False)
    out[refuse] = REFUSAL
    empty = nrng.choice(n, int(n * 0.002), replace=False)
    out[empty] = ""
    other = nrng.choice(n, int(n * 0.003), replace=False)
    de = pl.Series(pools["de"])
    out[other] = [" ".join(de.sample(4, seed=int(i)).to_list()) for i in other]
    return df.with_columns(pl.Series("instruction", ins), pl.Series("context", ctx), pl.Series("response", out))


def run(task: str, src: Path, out: Path, extra: list[str] = ()) -> dict:
    """Run a task in a child; sample the RSS of its whole process tree every 50 ms.

    CPU seconds (user + system, all threads, the language workers included) come from
    wait4: on a shared machine they show the work done, whatever the wall clock says.
    """
    import psutil

    log = WORK / f"{task}.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, task, str(src), str(out), *extra], stdout=fh,
                                stderr=subprocess.STDOUT, cwd=ROOT)
    ps, peak, usage, status = psutil.Process(proc.pid), 0, None, 0
    while usage is None:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            usage = rusage
            break
        try:
            tree = [ps] + ps.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    if proc.returncode != 0:
        raise SystemExit(f"{task} failed:\n{text[-3000:]}")
    result = json.loads(text.strip().splitlines()[-1])
    result["peak_mb"] = max(peak, usage.ru_maxrss * 1024) / 2**20
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


def langdetect_rate(data: Path, n: int = 600) -> float:
    """Texts per CPU-second of the report's detector on this data's outputs (after a warm-up)."""
    from dataforge.quality.langpool import detect_batch

    with open(data, encoding="utf-8") as fh:
        texts = [json.loads(next(fh))["response"] for _ in range(n + 20)]
    detect_batch(texts[:20])  # loads the language profiles
    start = time.process_time()
    detect_batch(texts[20:])
    return n / (time.process_time() - start)


def screenshot(html: Path, png: Path) -> bool:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        return False
    profile = WORK / "chromium-profile"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--hide-scrollbars", "--virtual-time-budget=8000",
           "--window-size=1280,2400", f"--screenshot={png}", html.as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120)
    return png.exists()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="50,000 rows")
    ap.add_argument("--repeat", type=int, default=1, help="keep the best of N runs (shared machines)")
    ap.add_argument("--tokenizer", help="also pass --tokenizer (exact token counts) to the report")
    args = ap.parse_args()
    rows = 50_000 if args.quick else args.rows
    WORK.mkdir(parents=True, exist_ok=True)
    data = WORK / f"report_{rows}.jsonl"
    if not data.exists():
        t = time.perf_counter()
        generate(data, rows)
        print(f"generated {data} ({data.stat().st_size / 2**20:,.0f} MB) in {time.perf_counter() - t:.1f} s")
    html = WORK / f"report_{rows}.html"
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for task in ("polars", "report"):
            r = run(task, data, html, ["--tokenizer", args.tokenizer] if args.tokenizer and task == "report" else [])
            if task not in best or r["seconds"] < best[task]["seconds"]:
                best[task] = r
    report = json.loads(Path(str(html) + ".json").read_text())
    lang, timings = report["languages"], report["timings"]
    p, d = best["polars"], best["report"]
    print(f"\nrows: {rows:,}  file: {data.stat().st_size / 2**20:,.0f} MB  cores: {os.cpu_count()}")
    try:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    print(f"load average now: {load} (other work on the machine slows the wall clock, not the CPU seconds)")
    print(f"{'task':<24}{'wall s':>10}{'CPU s':>10}{'peak MB':>10}")
    print(f"{'polars read_ndjson':<24}{p['seconds']:>10.1f}{p['cpu_seconds']:>10.1f}{p['peak_mb']:>10,.0f}")
    print(f"{'dataforge report':<24}{d['seconds']:>10.1f}{d['cpu_seconds']:>10.1f}{d['peak_mb']:>10,.0f}")
    print(f"ratio report / polars read: {d['seconds'] / p['seconds']:.1f}x wall time, "
          f"{d['cpu_seconds'] / p['cpu_seconds']:.1f}x CPU time, {d['peak_mb'] / p['peak_mb']:.1f}x memory")
    print(f"report stages (s): {timings}")
    print(f"language detection: {lang['texts']:,} texts in {lang['seconds']} s = {lang['texts_per_second']} texts/s"
          f" with {lang['workers']} worker process(es); {lang['method']}")
    print(f"targets: time <= 60 s: {'met' if d['seconds'] <= 60 else 'MISSED'};"
          f" peak <= 4096 MB: {'met' if d['peak_mb'] <= 4096 else 'MISSED'}")
    print(f"langdetect alone, in this process: {langdetect_rate(data):.0f} texts per CPU-second")
    png = WORK / f"report_{rows}.png"
    if screenshot(html, png):
        print(f"screenshot: {png}")
    print("top findings:", [f["title"] for f in report["findings"][:6]])


if __name__ == "__main__":
    main()
