"""The dry run's memory estimate against the measured peak, for every built-in local backend, on CPU.

Each run is a fresh process (`--child`): it imports every library, prepares the data, then measures

- the resident set just before the weights load (the *baseline*: Python, torch, transformers, TRL, PEFT,
  bitsandbytes, the prepared rows),
- the peak while the weights load (VmHWM from /proc/self/status, reset through /proc/self/clear_refs), and
- the peak from there to the end of training,

so *measured* = max(load peak, training peak) - baseline: the memory the run itself needs, which is what the
estimate predicts (the libraries' own footprint depends on the installation, not on the model; it is printed
too). The estimate comes from `dataforge train --dry-run` with the same options. Every row of the data has the
same length, so every batch is as long as the estimate assumes.

    .venv/bin/python bench/bench_train_memory.py             # ~40M-parameter model, every backend
    .venv/bin/python bench/bench_train_memory.py --quick     # smaller model
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "_work" / "train_memory"
MIB = 1024**2

# (label, backend, --set options, data kind). Defaults of each backend otherwise (qlora: gradient checkpointing).
RUNS = [
    ("full", "full", [], "sft"),
    ("freeze (2 layers)", "freeze", ["layers=2"], "sft"),
    ("lora r=16", "lora", [], "sft"),
    ("lora r=16, checkpointing", "lora", ["gradient_checkpointing=true"], "sft"),
    ("lora r=16, bf16 base", "lora", ["dtype=bfloat16"], "sft"),
    ("qlora r=16", "qlora", [], "sft"),
    ("qlora r=16, fp32 compute", "qlora", ["compute_dtype=float32"], "sft"),
    ("dpo (lora)", "dpo", [], "pref"),
    ("dpo (all weights)", "dpo", ["adapter=none"], "pref"),
    ("reward (all weights)", "reward", ["eval_split=0"], "pref"),
]


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux >= 4.0)
        return True
    except OSError:
        return False


def child(spec: dict) -> None:
    """One training run in this process; prints MEASURED {...}."""
    import bitsandbytes  # noqa: F401  every library loads before the baseline is read
    import datasets  # noqa: F401
    import peft  # noqa: F401
    import torch
    import transformers  # noqa: F401
    import trl  # noqa: F401
    from dataforge_hf_trainers import loading
    from peft import get_peft_model, prepare_model_for_kbit_training  # noqa: F401  (lazy modules: load them now)
    from transformers import Trainer, TrainerCallback  # noqa: F401
    from trl import DPOTrainer, RewardTrainer, SFTTrainer  # noqa: F401

    from dataforge.progress import set_quiet
    from dataforge.train import train

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    set_quiet(True)
    seen: dict = {"resets": True}
    load = loading.load_model

    def measured_load(*args, **kwargs):
        seen["baseline"] = _status("VmRSS")
        seen["resets"] &= _reset_peak()
        model = load(*args, **kwargs)
        seen["load_peak"] = _status("VmHWM")
        seen["after_load"] = _status("VmRSS")
        seen["resets"] &= _reset_peak()
        return model

    class Peak(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            seen["begin_rss"], seen["begin_peak"] = _status("VmRSS"), _status("VmHWM")

        def on_step_end(self, args, state, control, **kw):
            seen["train_peak"] = max(seen.get("train_peak", 0), _status("VmHWM"))

        def on_train_end(self, args, state, control, **kw):
            seen["train_peak"] = max(seen.get("train_peak", 0), _status("VmHWM"))

    loading.load_model = measured_load
    t0 = time.time()
    train(spec["backend"], spec["model"], spec["data"], spec["out"], sets=spec["sets"], callbacks=[Peak()])
    seen["seconds"] = time.time() - t0
    seen["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print("MEASURED " + json.dumps(seen), flush=True)


def build_model(path: Path, hidden: int, layers: int, inter: int, heads: int, vocab: int) -> Path:
    """A random Llama (untied head, a real-model-like vocabulary) with the tiny tokenizer; unused ids are fine."""
    if (path / "config.json").is_file():
        return path
    import torch
    import transformers

    from dataforge.tiny import build_tiny_tokenizer, sample_texts

    tok = build_tiny_tokenizer(path, sample_texts(ROOT / "sample_data"))
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=inter,
                                      num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                                      max_position_embeddings=2048, bos_token_id=tok.bos_token_id,
                                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                                      tie_word_embeddings=False)
    transformers.LlamaForCausalLM(config).save_pretrained(str(path))
    return path


def write_data(folder: Path, length_words: int) -> dict:
    """Rows that all render to (about) the same number of tokens, so every batch has the length estimated."""
    import random

    rnd = random.Random(0)
    words = ("alpha beta gamma delta river stone cloud light paper garden window silver music orange "
             "winter summer bridge forest").split()
    text = lambda n: " ".join(rnd.choice(words) for _ in range(n))  # noqa: E731
    folder.mkdir(parents=True, exist_ok=True)
    sft = folder / "sft.jsonl"
    pref = folder / "pref.jsonl"
    with open(sft, "w") as fh:
        for _ in range(64):
            fh.write(json.dumps({"instruction": text(length_words // 2), "output": text(length_words // 2)}) + "\n")
    with open(pref, "w") as fh:
        for _ in range(64):
            fh.write(json.dumps({"instruction": text(length_words // 2), "chosen": text(length_words // 2),
                                 "rejected": text(length_words // 2)}) + "\n")
    return {"sft": sft, "pref": pref}


def run_one(label, backend, sets, data, model, common) -> dict:
    from dataforge.progress import set_quiet
    from dataforge.train import train

    set_quiet(True)
    out = WORK / "out" / label.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "").replace("=", "")
    if out.exists():
        import shutil

        shutil.rmtree(out)
    report = train(backend, model, data, out, sets=common + sets, dry_run=True)
    spec = {"backend": backend, "model": str(model), "data": str(data), "out": str(out), "sets": common + sets}
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("BENCH_THREADS", "2")}
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                          cwd=ROOT, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"{label}: the training process failed")
    seen = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("MEASURED "))[9:])
    peak = max(seen["load_peak"], seen.get("train_peak", 0))
    return {"label": label, "backend": backend, "sets": sets, "predicted": report.total_bytes,
            "rows": [(name, size, note) for name, size, note in report.memory], "baseline": seen["baseline"],
            "load": seen["load_peak"] - seen["baseline"], "train": seen.get("train_peak", 0) - seen["baseline"],
            "measured": peak - seen["baseline"], "ru_maxrss": seen["ru_maxrss"], "seconds": seen["seconds"],
            "resets": seen["resets"], "begin": seen.get("begin_peak", 0) - seen["baseline"],
            "begin_rss": seen.get("begin_rss", 0) - seen["baseline"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="a ~10M-parameter model")
    ap.add_argument("--only", help="comma-separated backends to run (e.g. lora,qlora)")
    args = ap.parse_args()
    if args.child:
        child(json.loads(args.child))
        return 0
    sys.path.insert(0, str(ROOT))
    WORK.mkdir(parents=True, exist_ok=True)
    shape = (256, 4, 688, 4, 8000) if args.quick else (512, 8, 1376, 8, 16000)
    model = build_model(WORK / ("model_quick" if args.quick else "model"), *shape)
    data = write_data(WORK / "data", 120)
    common = ["max_steps=3", "batch_size=2", "max_length=512", "save_steps=100000", "logging_steps=1"]
    load = os.getloadavg()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load average {load[0]:.1f} at start")
    print(f"model: hidden {shape[0]}, {shape[1]} layers, intermediate {shape[2]}, vocab {shape[4]}; "
          f"{' '.join(common)}\n")
    results = []
    only = set(args.only.split(",")) if args.only else None
    print(f"{'run':28s} {'estimate':>9s} {'measured':>9s} {'ratio':>6s}   {'load':>7s} {'train':>7s}  "
          f"{'baseline':>8s} {'peak RSS':>8s}")
    for label, backend, sets, kind in RUNS:
        if only and backend not in only:
            continue
        r = run_one(label, backend, sets, data[kind], model, common)
        results.append(r)
        print(f"{label:28s} {r['predicted'] / MIB:7.0f}Mi {r['measured'] / MIB:7.0f}Mi "
              f"{r['predicted'] / r['measured']:6.2f}   {r['load'] / MIB:5.0f}Mi {r['train'] / MIB:5.0f}Mi  "
              f"{r['baseline'] / MIB:6.0f}Mi {r['ru_maxrss'] / MIB:6.0f}Mi", flush=True)
    load_end = os.getloadavg()
    worst = max(abs(r["predicted"] / r["measured"] - 1) for r in results)
    print(f"\nworst |estimate/measured - 1|: {worst:.0%} (target <= 25%); load average {load_end[0]:.1f} at the end")
    params = next((row for row in results[0]["rows"] if row[0] == "weights at 16-bit"), None) if results else None
    (WORK / "results.json").write_text(json.dumps({"model_shape": shape, "common": common, "params": params,
                                                   "load": [load[0], load_end[0]], "results": results}, indent=2))
    print(f"raw results: {WORK / 'results.json'}")
    return 0 if worst <= 0.25 else 1


if __name__ == "__main__":
    sys.exit(main())
