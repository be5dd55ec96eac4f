"""Benchmark `dataforge train` against a plain TRL script, in one run.

1. Throughput: `dataforge train --backend lora` vs a plain TRL `SFTTrainer`
   script with the same model, data, LoRA settings, batch, steps and seed
   (both on CPU, fp32, no gradient checkpointing). Training tokens/s comes
   from each trainer's own token counter and train_runtime; runs alternate
   and the best of each side is compared. Target: ratio >= 0.95.
2. Packing: the share of non-padding token positions in the batches dataforge
   feeds the model, with packing on (padding-free, best-fit decreasing) and,
   for contrast, off. Target: >= 95% with packing.
3. Peak memory, qlora vs lora, on a ~100M-parameter Llama (peak RSS of the
   training process; on a GPU machine also torch.cuda.max_memory_allocated).

    .venv/bin/python bench/bench_train.py            # full run
    .venv/bin/python bench/bench_train.py --quick    # fewer steps and repeats
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "_work" / "train"
PY = sys.executable
DATA = ROOT / "sample_data" / "dolly_en.jsonl"

# Both sides run this first: it times Trainer.train() (wall and CPU seconds of the process), so the
# comparison covers exactly the training loop, not imports, data preparation or model loading.
TIMER = textwrap.dedent('''
    import time, transformers
    TIMES = {}
    _train = transformers.Trainer.train
    def _timed(self, *a, **k):
        w, c = time.perf_counter(), time.process_time()
        try:
            return _train(self, *a, **k)
        finally:
            TIMES.update(wall=time.perf_counter() - w, cpu=time.process_time() - c,
                         tokens=getattr(self, "_total_train_tokens", 0))
    transformers.Trainer.train = _timed
''')

PLAIN_TRL = TIMER + textwrap.dedent('''
    """A plain TRL LoRA SFT script: what a user writes without dataforge."""
    import json, sys, resource
    import datasets
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer
    from transformers import AutoTokenizer
    model, data, out, steps, batch, max_length = sys.argv[1:7]
    datasets.disable_progress_bars()
    ds = datasets.load_dataset("json", data_files=data, split="train")

    def to_chat(row):
        user = row["instruction"] + ("\\n\\n" + row["context"] if row["context"] else "")
        return {"prompt": [{"role": "user", "content": user}],
                "completion": [{"role": "assistant", "content": row["response"]}]}

    ds = ds.map(to_chat, remove_columns=ds.column_names)
    args = SFTConfig(output_dir=out, max_steps=int(steps), per_device_train_batch_size=int(batch),
                     learning_rate=2e-4, lr_scheduler_type="linear", max_length=int(max_length), logging_steps=10,
                     save_strategy="no", report_to="none", bf16=False, use_cpu=True, gradient_checkpointing=False,
                     seed=42, disable_tqdm=True, dataloader_num_workers=0)
    peft = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
    tok = AutoTokenizer.from_pretrained(model)
    trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok, peft_config=peft)
    result = trainer.train()
    print("RESULT " + json.dumps({"train_runtime": result.metrics["train_runtime"],
                                  "tokens": trainer._total_train_tokens, "rows": len(ds), "timer": TIMES,
                                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
''')

# Runs the CLI in-process so the process's own peak RSS can be read at the end.
CLI_WRAPPER = TIMER + textwrap.dedent('''
    import json, resource, sys
    from dataforge.cli.main import cli
    try:
        cli(sys.argv[1:], standalone_mode=False)
    finally:
        peak = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "timer": TIMES}
        try:
            import torch
            if torch.cuda.is_available():
                peak["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
        except ImportError:
            pass
        print("PEAK " + json.dumps(peak))
''')


def build_model(path: Path, hidden: int, layers: int, heads: int) -> Path:
    if (path / "config.json").is_file():
        return path
    sys.path.insert(0, str(ROOT))
    from dataforge.tiny import build_tiny_model, sample_texts

    tok_dir = WORK / "tokenizer"
    if not (tok_dir / "tokenizer_config.json").is_file():
        from dataforge.tiny import build_tiny_tokenizer

        build_tiny_tokenizer(tok_dir, sample_texts(ROOT / "sample_data"))
    build_tiny_model(path, hidden_size=hidden, layers=layers, heads=heads, tokenizer_dir=tok_dir)
    return path


def _run(cmd: list[str]) -> tuple[str, float]:
    # One intra-op thread per side: on a small shared machine this keeps both sides comparable.
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("BENCH_THREADS", "1")}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"failed: {' '.join(cmd[:6])} ...")
    return proc.stdout, wall


def dataforge_train(model: Path, out: Path, backend: str, sets: list[str], flags=()) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    args = ["-q", "train", "-b", backend, "-m", str(model), "-d", str(DATA), "-o", str(out), "--json", *flags]
    for s in sets:
        args += ["--set", s]
    stdout, wall = _run([PY, "-c", CLI_WRAPPER, *args])
    lines = stdout.splitlines()
    peak = json.loads(next(line for line in lines if line.startswith("PEAK "))[5:])
    body = "\n".join(line for line in lines if not line.startswith("PEAK "))
    result = json.loads(body[body.index("{"):])
    return {"metrics": result.get("metrics", {}), "counts": result["counts"], "wall": wall, **peak}


def plain_trl(model: Path, out: Path, steps: int, batch: int, max_length: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    script = WORK / "plain_trl_sft.py"
    script.write_text(PLAIN_TRL)
    stdout, wall = _run([PY, str(script), str(model), str(DATA), str(out), str(steps), str(batch), str(max_length)])
    result = json.loads(next(line for line in stdout.splitlines() if line.startswith("RESULT "))[7:])
    return {**result, "wall": wall}


def throughput(model: Path, steps: int, repeats: int, batch: int, max_length: int) -> dict:
    sets = [f"max_steps={steps}", "r=8", "alpha=16", "dropout=0.0", f"batch_size={batch}", "learning_rate=2e-4",
            f"max_length={max_length}", "save_steps=100000", "logging_steps=10", "seed=42"]
    df_runs, trl_runs = [], []
    for _ in range(repeats):  # alternate so both sides see the same machine state
        r = dataforge_train(model, WORK / "out_df", "lora", sets)
        df_runs.append(_speed(r["timer"], r["wall"]) | {"rejected": r["counts"]["rejected"]})
        t = plain_trl(model, WORK / "out_trl", steps, batch, max_length)
        trl_runs.append(_speed(t["timer"], t["wall"]))
    best_df = max(df_runs, key=lambda r: r["tps"])
    best_trl = max(trl_runs, key=lambda r: r["tps"])
    med = lambda runs, k: statistics.median(r[k] for r in runs)  # noqa: E731
    return {"dataforge": df_runs, "trl": trl_runs, "ratio": best_df["tps"] / best_trl["tps"],
            "ratio_median": med(df_runs, "tps") / med(trl_runs, "tps"),
            "ratio_cpu": med(df_runs, "tpcs") / med(trl_runs, "tpcs"), "best_df": best_df, "best_trl": best_trl}


def _speed(timer: dict, wall: float) -> dict:
    """Training tokens per wall second and per CPU second of the training loop."""
    return {"tps": timer["tokens"] / timer["wall"], "tpcs": timer["tokens"] / timer["cpu"], "tokens": timer["tokens"],
            "runtime": timer["wall"], "cpu": timer["cpu"], "wall": wall}


def packing(model: Path, steps: int, batch: int, max_length: int) -> dict:
    base = [f"max_steps={steps}", "r=8", f"batch_size={batch}", f"max_length={max_length}", "save_steps=100000"]
    on = dataforge_train(model, WORK / "out_pack", "lora", base + ["packing=true"])
    off = dataforge_train(model, WORK / "out_nopack", "lora", base + ["packing=false"])
    return {"packed": on["metrics"]["nonpad_share"], "unpacked": off["metrics"]["nonpad_share"],
            "packed_tps": on["metrics"]["train_tokens_per_second"],
            "unpacked_tps": off["metrics"]["train_tokens_per_second"]}


def memory(model: Path, steps: int) -> dict:
    base = [f"max_steps={steps}", "r=8", "batch_size=2", "max_length=256", "save_steps=100000",
            "gradient_checkpointing=true"]
    out = {}
    # The same qlora run on a 0.2M-parameter model imports every library and reads the same data:
    # the process's baseline, to subtract from the training runs' peaks.
    tiny = build_model(WORK / "model_tiny", hidden=64, layers=2, heads=4)
    runs = (("baseline (tiny model)", tiny, "qlora", []), ("lora (fp32 base)", model, "lora", []),
            ("lora (bf16 base)", model, "lora", ["dtype=bfloat16"]), ("qlora (nf4 base)", model, "qlora", []))
    for name, path, backend, extra in runs:
        r = dataforge_train(path, WORK / "out_mem", backend, base + extra)
        out[name] = {k: r.get(k) for k in ("peak_rss_mb", "cuda_peak_mb")} | {"wall": r["wall"]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    ap.add_argument("--parts", default="throughput,packing,memory",
                    help="comma-separated subset of: throughput, packing, memory")
    ap.add_argument("--repeats", type=int, help="alternating runs per side for the throughput part")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    WORK.mkdir(parents=True, exist_ok=True)
    steps, repeats = (20, 1) if args.quick else (30, 5)
    repeats = args.repeats or repeats
    small = build_model(WORK / "model_small", hidden=256, layers=4, heads=4)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    print(f"model: {small} (hidden 256, 4 layers); data: {DATA.name}; {steps} steps, batch 4\n")

    t = p = m = {}
    if "throughput" in parts:
        t = throughput(small, steps, repeats, batch=4, max_length=1024)
        for side, runs in (("dataforge", t["dataforge"]), ("plain TRL", t["trl"])):
            for r in runs:
                print(f"  {side:10s} {r['tps']:8.0f} train tokens/s, {r['tpcs']:8.0f} per CPU-s  ({r['tokens']:.0f}"
                      f" tokens in {r['runtime']:.2f} s of training, {r['wall']:.1f} s process wall)")
        print(f"throughput ratio dataforge / TRL over {repeats} runs each: best {t['ratio']:.3f}, "
              f"median {t['ratio_median']:.3f}, "
              f"per CPU-second (median) {t['ratio_cpu']:.3f}  (target >= 0.95); "
              f"rows rejected by dataforge: {t['best_df']['rejected']}\n")
    if "packing" in parts:
        p = packing(small, max(5, steps // 4), batch=4, max_length=1024)
        print(f"non-padding share of batch positions: packing on {p['packed']:.1%} (target >= 95%), "
              f"off {p['unpacked']:.1%}; train tokens/s {p['packed_tps']:.0f} packed vs {p['unpacked_tps']:.0f}\n")
    if "memory" in parts:
        big = build_model(WORK / "model_100m", hidden=768, layers=16, heads=12)
        n = json.loads((big / "config.json").read_text())
        print(f"memory model: {big} (hidden {n['hidden_size']}, {n['num_hidden_layers']} layers)")
        m = memory(big, steps=2 if args.quick else 4)
        floor = m["baseline (tiny model)"]["peak_rss_mb"]  # every library imported, a 0.2M-parameter model
        for name, r in m.items():
            cuda = f", CUDA peak {r['cuda_peak_mb']:.0f} MiB" if r.get("cuda_peak_mb") else ""
            print(f"  {name:20s} peak RSS {r['peak_rss_mb']:7.0f} MiB  (+{r['peak_rss_mb'] - floor:5.0f} over the "
                  f"baseline){cuda}  ({r['wall']:.1f} s wall)")
    path = WORK / "results.json"
    saved = json.loads(path.read_text()) if path.is_file() else {}
    saved.update({k: v for k, v in (("throughput", t), ("packing", p), ("memory", m)) if v})
    path.write_text(json.dumps(saved, indent=2))
    print(f"\nraw results: {WORK / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
