"""Benchmark `dataforge format` against what a user would write by hand, in one run.

1. Template -> JSONL: 1,000,000 Dolly rows through the alpaca template into a
   `text` JSONL, against hand-written loops (an f-string, with orjson and with the
   stdlib json) producing exactly the same texts, and dataforge's reader alone
   (the floor under `format`'s row path). Target: dataforge within 1.5x of the
   orjson loop (issue 15; it was 2x). The
   sides run alternately, best of --repeat; wall and CPU time are both shown
   (CPU time is steadier on a shared machine).
2. With a tokenizer: rows/s of `format_dataset(..., tokenizer=...)` (which
   also checks BOS/EOS/length and builds the loss mask) against
   `datasets.map` with the same f-string and the same tokenizer's batch call.

    .venv/bin/python bench/bench_format.py            # 1,000,000 rows (+ 100,000 tokenized)
    .venv/bin/python bench/bench_format.py --quick    # 100,000 rows (+ 10,000 tokenized)
    .venv/bin/python bench/bench_format.py --no-tokenizer --repeat 3   # the template part only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INTRO = "Below is an instruction that describes a task. Write a response that appropriately completes the request."
INTRO_CTX = ("Below is an instruction that describes a task, paired with an input that provides further context. "
             "Write a response that appropriately completes the request.")
WORDS = ("the model data answer question river city language train token format write short long because "
         "which every people number system example result value simple").split()


def make_input(path: Path, n: int, seed: int = 0) -> None:
    rnd = random.Random(seed)
    with open(path, "wb") as fh:
        for i in range(n):
            sent = lambda k: " ".join(rnd.choice(WORDS) for _ in range(k)).capitalize() + "."  # noqa: E731
            row = {"id": f"r{i}", "instruction": sent(rnd.randint(6, 14)),
                   "context": sent(rnd.randint(10, 30)) if rnd.random() < 0.3 else "",
                   "response": " ".join(sent(rnd.randint(6, 16)) for _ in range(rnd.randint(1, 4))),
                   "category": "open_qa"}
            fh.write(orjson.dumps(row) + b"\n")


def alpaca_text(ins: str, ctx: str, out: str, eos: str = "</s>") -> str:
    if ctx:
        return f"{INTRO_CTX}\n\n### Instruction:\n{ins}\n\n### Input:\n{ctx}\n\n### Response:\n{out}{eos}"
    return f"{INTRO}\n\n### Instruction:\n{ins}\n\n### Response:\n{out}{eos}"


def hand_loop(src: Path, dst: Path) -> int:
    """What a user writes by hand: parse, f-string, dump (buffered like dataforge's writer)."""
    n = 0
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        buf = []
        for line in fin:
            r = orjson.loads(line)
            ctx = r["context"] if r["context"].strip() else ""
            buf.append(orjson.dumps({"id": r["id"], "text": alpaca_text(r["instruction"], ctx, r["response"])}))
            n += 1
            if len(buf) >= 8192:
                fout.write(b"\n".join(buf) + b"\n")
                buf = []
        if buf:
            fout.write(b"\n".join(buf) + b"\n")
    return n


def hand_loop_json(src: Path, dst: Path) -> int:
    """The same loop with the standard library's json, as most hand-written scripts are."""
    n = 0
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for line in fin:
            r = json.loads(line)
            ctx = r["context"] if r["context"].strip() else ""
            fout.write(json.dumps({"id": r["id"], "text": alpaca_text(r["instruction"], ctx, r["response"])},
                                  ensure_ascii=False) + "\n")
            n += 1
    return n


def read_only(src: Path) -> int:
    """dataforge's reader alone (shape detection, records, reject checks): the floor under `format`."""
    from dataforge.io import read_dataset

    return sum(1 for _ in read_dataset(str(src)))


def texts_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for line in fh:
            row = orjson.loads(line)
            h.update(row["id"].encode() + b"\x00" + row["text"].encode() + b"\x01")
    return h.hexdigest()


def timed(fn):
    """(wall seconds, CPU seconds of this process incl. its threads, result)."""
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - t, time.process_time() - c, result


def best_of(repeat: int, *fns):
    """Run the functions alternately `repeat` times; the fastest wall and CPU time of each.

    Alternating means a burst of load from other processes hits both sides alike;
    CPU time is what the work costs whatever else the machine does.
    """
    walls, cpus, results = [[] for _ in fns], [[] for _ in fns], [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            wall, cpu, results[i] = timed(fn)
            walls[i].append(wall)
            cpus[i].append(cpu)
    return [min(w) for w in walls], [min(c) for c in cpus], results


def format_rows(src: Path, dst: Path):
    """`format` with the columnar reader switched off: every batch takes the row path (records, then the
    compiled pack's str.format per row), as for inputs the columnar reader does not take."""
    from dataforge.formatting import format_dataset, frames

    real = frames.columns_available
    frames.columns_available = lambda: False
    try:
        return format_dataset(src, dst, template="alpaca", lang="en", style="text")
    finally:
        frames.columns_available = real


def bench_template(tmp: Path, n: int, repeat: int) -> dict:
    from dataforge.formatting import format_dataset

    src = tmp / "in.jsonl"
    make_input(src, n)
    (t_loop, t_json, t_read, t_df, t_rows), (c_loop, c_json, c_read, c_df, c_rows), (*_, s, s_rows) = best_of(
        repeat, lambda: hand_loop(src, tmp / "loop.jsonl"), lambda: hand_loop_json(src, tmp / "json.jsonl"),
        lambda: read_only(src),
        lambda: format_dataset(src, tmp / "df.jsonl", template="alpaca", lang="en", style="text"),
        lambda: format_rows(src, tmp / "rows.jsonl"))
    assert s.written == n and s.rejected == 0, s.lines()
    assert s_rows.written == n and s_rows.rejected == 0, s_rows.lines()
    digest = texts_digest(tmp / "df.jsonl")
    same = digest == texts_digest(tmp / "loop.jsonl") == texts_digest(tmp / "json.jsonl")
    same = same and (tmp / "df.jsonl").read_bytes() == (tmp / "rows.jsonl").read_bytes()
    return {"rows": n, "loop_s": t_loop, "dataforge_s": t_df, "ratio": t_df / t_loop, "same_text": same,
            "loop_cpu": c_loop, "dataforge_cpu": c_df, "cpu_ratio": c_df / c_loop, "json_s": t_json,
            "json_cpu": c_json, "read_s": t_read, "read_cpu": c_read, "rowpath_s": t_rows, "rowpath_cpu": c_rows}


def bench_tokenizer(tmp: Path, n: int) -> dict:
    import datasets
    from transformers import AutoTokenizer

    from dataforge.formatting import format_dataset
    from dataforge.tiny import build_tiny_tokenizer, sample_texts

    datasets.disable_progress_bars()
    tok_dir = tmp / "tok"
    texts = sample_texts(ROOT / "sample_data")
    build_tiny_tokenizer(tok_dir, texts if len(texts) > 200 else texts + [INTRO, INTRO_CTX] * 200)
    src = tmp / "tok_in.jsonl"
    make_input(src, n, seed=1)

    def hf_map():
        tok = AutoTokenizer.from_pretrained(str(tok_dir))
        ds = datasets.load_dataset("json", data_files=str(src), split="train", cache_dir=str(tmp / "hf_cache"))

        def fn(batch):
            text = [alpaca_text(i, c if c.strip() else "", o, tok.eos_token)
                    for i, c, o in zip(batch["instruction"], batch["context"], batch["response"])]
            return {"text": text, **tok(text)}

        out = ds.map(fn, batched=True, batch_size=1000, remove_columns=ds.column_names)
        out.to_json(str(tmp / "hf.jsonl"))
        return len(out)

    (t_hf, t_df), (c_hf, c_df), (rows, s) = best_of(
        1, hf_map, lambda: format_dataset(src, tmp / "df_tok.jsonl", template="alpaca", lang="en", style="text",
                                          tokenizer=tok_dir, token_ids=True))
    assert rows == n and s.written == n, s.lines()
    return {"rows": n, "datasets_map_s": t_hf, "dataforge_s": t_df, "datasets_rows_s": n / t_hf,
            "dataforge_rows_s": n / t_df, "ratio": t_df / t_hf, "cpu_ratio": c_df / c_hf,
            "datasets_cpu": c_hf, "dataforge_cpu": c_df}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100,000 rows (10,000 tokenized)")
    ap.add_argument("--rows", type=int, help="rows for the template benchmark")
    ap.add_argument("--tok-rows", type=int, help="rows for the tokenizer benchmark")
    ap.add_argument("--repeat", type=int, default=2, help="template runs per side (best is kept)")
    ap.add_argument("--no-tokenizer", action="store_true", help="skip the tokenizer comparison")
    args = ap.parse_args()
    n = args.rows or (100_000 if args.quick else 1_000_000)
    n_tok = args.tok_rows or (10_000 if args.quick else 100_000)
    from dataforge.progress import set_quiet

    set_quiet(True)
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs,"
          f" load average {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory(prefix="bench_format_") as d:
        tmp = Path(d)
        r = bench_template(tmp, n, args.repeat)
        print(f"[template] {r['rows']:,} rows, alpaca -> JSONL text (best of {args.repeat}, run alternately)")
        for label, key in (("f-string loop, orjson", "loop"), ("f-string loop, json (stdlib)", "json"),
                           ("dataforge reader alone", "read"), ("dataforge format", "dataforge"),
                           ("format, row path only", "rowpath")):
            wall, cpu = r[f"{key}_s"], r[f"{key}_cpu"]
            print(f"  {label:<28} {wall:8.2f} s wall {cpu:8.2f} s CPU  {r['rows'] / wall:>10,.0f} rows/s")
        print(f"  ratio format / orjson loop   {r['ratio']:8.2f}x wall {r['cpu_ratio']:6.2f}x CPU  (target <= 1.5x)")
        print(f"  ratio format / json loop     {r['dataforge_s'] / r['json_s']:8.2f}x wall"
              f" {r['dataforge_cpu'] / r['json_cpu']:6.2f}x CPU")
        print(f"  row path / orjson loop       {r['rowpath_s'] / r['loop_s']:8.2f}x wall"
              f" {r['rowpath_cpu'] / r['loop_cpu']:6.2f}x CPU")
        print(f"  identical text (all four outputs): {r['same_text']}; load average {os.getloadavg()[0]:.2f} now")
        if args.no_tokenizer:
            return
        t = bench_tokenizer(tmp, n_tok)
        print(f"[tokenizer] {t['rows']:,} rows, alpaca + tokenize (tiny SentencePiece tokenizer)")
        print(f"  datasets.map + batch tokenizer call  {t['datasets_map_s']:8.2f} s wall {t['datasets_cpu']:8.2f} s CPU"
              f"  {t['datasets_rows_s']:>8,.0f} rows/s")
        print(f"  dataforge format --tokenizer         {t['dataforge_s']:8.2f} s wall {t['dataforge_cpu']:8.2f} s CPU"
              f"  {t['dataforge_rows_s']:>8,.0f} rows/s  (+ BOS/EOS/length checks, loss mask)")
        print(f"  ratio dataforge/datasets.map         {t['ratio']:8.2f}x wall {t['cpu_ratio']:6.2f}x CPU")


if __name__ == "__main__":
    main()
