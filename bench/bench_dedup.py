"""Near-duplicate benchmark: dataforge vs datasketch MinHashLSH vs datatrove's 4-stage MinHash.

    .venv/bin/python bench/bench_dedup.py            # 100,000 rows, all three tools
    .venv/bin/python bench/bench_dedup.py --quick    # 10,000 rows
    .venv/bin/python bench/bench_dedup.py --million  # + dataforge alone on 1,000,000 rows (memory)
    .venv/bin/python bench/bench_dedup.py --threshold 0.7 --tools dataforge,datasketch   # issue 15's run

Data: real text available offline (docstrings of the installed Python packages
and the standard library, package READMEs, /usr/share/doc), cut into
paragraphs of 20-200 words, made unique (no two sources with word-5-gram
Jaccard >= 0.5). Then, in random order:
- positive pairs: a source and a copy edited (word substitutions, deletions,
  insertions) down to a target similarity in [0.8, 1.0);
- negative pairs: the same, down to [0.4, 0.8): they must both stay;
- exact families: a source and 1-2 copies differing only in case, spacing,
  and end punctuation;
- singletons.
Similarity (ground truth) = Jaccard of the word 5-gram sets of `\\w+` tokens of
the lower-cased text, measured on the generated text, not the target.

Score of "row should be removed": per family of k rows, k-1 removals are right
(whichever member is kept); extra removals are false positives, missing ones
false negatives. Each tool runs in its own process; wall time includes
start-up; peak memory is the largest summed PSS of the process tree (shared
pages of forked workers counted once), plus the largest single-process RSS.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "_work" / "dedup"
WORDS = re.compile(r"\w+")
THRESHOLD = 0.8


# ---- corpus ---------------------------------------------------------------------------------

def _texts_from_files():
    """Paragraphs of docstrings, READMEs and docs installed on this machine."""
    site = sorted(glob.glob(str(ROOT / ".venv/lib/python3*/site-packages")))
    stdlib = os.path.dirname(os.__file__)
    triple = re.compile(r'"""(.*?)"""', re.S)
    for base in [stdlib] + site:
        for dirpath, _, files in sorted(os.walk(base)):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                if name.endswith(".py"):
                    with open(path, encoding="utf-8", errors="ignore") as fh:
                        yield from triple.findall(fh.read())
                elif name == "METADATA" or name.endswith((".md", ".rst", ".txt")):
                    with open(path, encoding="utf-8", errors="ignore") as fh:
                        yield fh.read()
    for path in sorted(glob.glob("/usr/share/doc/**/*", recursive=True)):
        if path.endswith((".txt", ".md", ".rst", "README", "copyright")):
            with open(path, encoding="utf-8", errors="ignore") as fh:
                yield fh.read()
        elif path.endswith(".gz") and os.path.isfile(path):
            with gzip.open(path, "rt", encoding="utf-8", errors="ignore") as fh:
                yield fh.read()


def grams(text: str, n: int = 5) -> set:
    import xxhash  # stable across runs, unlike hash()

    toks = WORDS.findall(text.lower())
    return {xxhash.xxh3_64_intdigest(" ".join(toks[i:i + n]).encode())
            for i in range(max(1, len(toks) - n + 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def sketch(g: set, k: int = 12) -> list:
    """The k smallest shingle hashes: texts with Jaccard >= 0.5 share some of them almost surely."""
    return sorted(g)[:k]


def build_corpus(cache: Path, want: int) -> list[str]:
    """Unique paragraphs; no two share word-5-gram Jaccard >= 0.5 (candidates from a bottom-k index)."""
    if cache.exists():
        corpus = json.loads(cache.read_text())
        if len(corpus) >= want:
            return corpus
    seen, index, corpus, sets = set(), {}, [], []
    for doc in _texts_from_files():
        for para in re.split(r"\n\s*\n", doc):
            text = " ".join(para.split())
            n = len(text.split())
            if not 20 <= n <= 200 or sum(c.isalpha() for c in text) < 0.7 * len(text):
                continue
            key = " ".join(WORDS.findall(text.lower()))
            if key in seen:
                continue
            seen.add(key)
            g = grams(text)
            sample = sketch(g)
            cands = {c for h in sample for c in index.get(h, ())}
            if any(jaccard(g, sets[c]) >= 0.5 for c in cands):
                continue
            for h in sample:
                index.setdefault(h, []).append(len(corpus))
            corpus.append(text)
            sets.append(g)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(corpus))
    return corpus


# ---- dataset --------------------------------------------------------------------------------

def edit_to(text: str, low: float, high: float, vocab: list[str], rng: random.Random) -> tuple[str, float]:
    """Edit words until similarity falls to a target in [low, high); never below `low`."""
    target = rng.uniform(low, high)
    toks, base = text.split(), grams(text)
    sim = 1.0
    for _ in range(400):
        cand = list(toks)
        op, i = rng.random(), rng.randrange(len(cand))
        if op < 0.6:
            cand[i] = rng.choice(vocab)
        elif op < 0.8 and len(cand) > 8:
            del cand[i]
        else:
            cand.insert(i, rng.choice(vocab))
        s = jaccard(base, grams(" ".join(cand)))
        if s < low:
            continue
        toks, sim = cand, s
        if sim <= target:
            break
    return " ".join(toks), sim


def exact_copy(text: str, rng: random.Random) -> str:
    toks = text.split()
    toks = [t.upper() if rng.random() < 0.2 else t for t in toks]
    return "  ".join(toks) + rng.choice(["", " !", ".", " ..."])


def build_dataset(path: Path, rows: int, corpus: list[str], seed: int = 0, mix=(0.10, 0.05, 0.05)) -> dict:
    """Write Dolly rows to `path`; return the ground truth (families, similarities)."""
    rng = random.Random(seed)
    vocab = sorted({w for t in corpus[:5000] for w in t.split() if w.isalpha()})
    pos_pairs, neg_pairs, exact_fams = (int(rows * f) for f in mix)
    exact_rows = exact_fams * 5 // 2  # 1 or 2 copies each, 2.5 rows on average
    singles = rows - 2 * pos_pairs - 2 * neg_pairs - exact_rows
    # Edited pairs come from paragraphs of 50+ words, where one edited word moves the similarity
    # by a few hundredths; in a 20-word paragraph it would drop it below 0.6 at once.
    long = [t for t in corpus if len(t.split()) >= 50]
    short = [t for t in corpus if len(t.split()) < 50]
    rng.shuffle(long)
    rng.shuffle(short)
    while len(long) < pos_pairs + neg_pairs:  # (1M rows) more long texts: join two paragraphs
        long.append(f"{rng.choice(corpus)} {rng.choice(corpus)}")
    rest = long[pos_pairs + neg_pairs:] + short
    rng.shuffle(rest)
    if len(rest) < exact_fams + singles:  # not enough unique paragraphs: join two (real text, new combinations)
        rest += [f"{rng.choice(corpus)} {rng.choice(corpus)}" for _ in range(exact_fams + singles - len(rest))]
    it = iter(long[:pos_pairs + neg_pairs] + rest)
    families = []
    for _ in range(pos_pairs):
        s = next(it)
        v, sim = edit_to(s, THRESHOLD, 1.0, vocab, rng)
        families.append(("pos", [s, v], sim))
    for _ in range(neg_pairs):
        s = next(it)
        v, sim = edit_to(s, 0.4, THRESHOLD, vocab, rng)
        families.append(("neg", [s, v], sim))
    copies_left = exact_rows - exact_fams
    for k in range(exact_fams):
        s = next(it)
        copies = 2 if copies_left > exact_fams - k else 1
        copies_left -= copies
        families.append(("exact", [s] + [exact_copy(s, rng) for _ in range(copies)], 1.0))
    families += [("single", [next(it)], None) for _ in range(singles)]
    slots = [(f, m) for f, fam in enumerate(families) for m in range(len(fam[1]))]
    rng.shuffle(slots)
    truth = {"families": [], "row_family": {}}
    for fam in families:
        truth["families"].append({"kind": fam[0], "similarity": fam[2], "size": len(fam[1])})
    with open(path, "w", encoding="utf-8") as fh:
        for i, (f, m) in enumerate(slots):
            rid = f"r{i:07d}"
            truth["row_family"][rid] = f
            fh.write(json.dumps({"id": rid, "instruction": families[f][1][m], "context": "",
                                 "response": "ok", "category": "bench"}) + "\n")
    return truth


def cross_family_pairs(path: Path, truth: dict, at: float = THRESHOLD) -> int:
    """Sanity check of the ground truth: pairs of rows of different families with similarity >= `at`."""
    index, sets, fam, found = {}, [], [], 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            g = grams(row["instruction"])
            f = truth["row_family"][row["id"]]
            sample = sketch(g)
            cands = {c for h in sample for c in index.get(h, ()) if fam[c] != f}
            found += sum(jaccard(g, sets[c]) >= at for c in cands)
            for h in sample:
                index.setdefault(h, []).append(len(sets))
            sets.append(g)
            fam.append(f)
    return found


def score(truth: dict, removed: set) -> dict:
    fams = truth["families"]
    hit = [0] * len(fams)
    for rid in removed:
        hit[truth["row_family"][rid]] += 1
    tp = fp = fn = 0
    by_bin: dict[str, list[int]] = {}
    for f, fam in enumerate(fams):
        if fam["kind"] == "neg":  # two separate rows: neither should go
            want = 0
        else:
            want = fam["size"] - 1
        tp += min(hit[f], want)
        fp += max(0, hit[f] - want)
        fn += max(0, want - hit[f])
        if fam["kind"] in ("pos", "neg"):
            lo = int(fam["similarity"] * 20) / 20
            key = f"{fam['kind']} {lo:.2f}-{lo + 0.05:.2f}"
            cell = by_bin.setdefault(key, [0, 0])
            cell[0] += min(hit[f], 1)
            cell[1] += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1,
            "removed_share_by_similarity": {k: round(v[0] / v[1], 3) for k, v in sorted(by_bin.items())}}


# ---- tools (each runs in its own process: `--run TOOL`) ------------------------------------

def run_dataforge(data: Path, work: Path, workers: int) -> set:
    out = work / "out.jsonl"
    cmd = [sys.executable, "-m", "dataforge", "-q", "dedup", str(data), "-o", str(out),
           "--threshold", str(THRESHOLD), "--workers", str(workers)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(str(out) + ".rejects.jsonl", encoding="utf-8") as fh:
        return {json.loads(line)["id"] for line in fh}


def run_datasketch(data: Path, work: Path, workers: int) -> set:
    from datasketch import MinHash, MinHashLSH

    lsh, removed = MinHashLSH(threshold=THRESHOLD, num_perm=128), set()
    with open(data, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            toks = WORDS.findall(row["instruction"].lower())
            shingles = [" ".join(toks[i:i + 5]).encode() for i in range(max(1, len(toks) - 4))]
            m = MinHash(num_perm=128)
            m.update_batch(shingles)
            if lsh.query(m):
                removed.add(row["id"])
            else:
                lsh.insert(row["id"], m)
    return removed


def _xxhash64_encoded(data):
    # huggingface/datatrove#508/#519: xxhash 4 refuses str; datatrove 0.10.1's wrapper passes str.
    import xxhash

    return xxhash.xxh64_intdigest(data.encode("utf-8") if isinstance(data, str) else data)


def run_datatrove(data: Path, work: Path, workers: int) -> set:
    import datatrove.utils.hashes.xxhash as dt_xxhash
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig
    from datatrove.utils.typeshelper import Languages

    dt_xxhash.xxhash64 = _xxhash64_encoded
    # The configuration of datatrove's README / examples/minhash_deduplication.py
    config = MinhashConfig(hash_config=HashConfig(precision=64), num_buckets=14, hashes_per_bucket=8)
    src = str(data.parent)

    def reader():
        return JsonlReader(src, glob_pattern=data.name, text_key="instruction", id_key="id")

    w = str(work)
    stage1 = LocalPipelineExecutor([reader(), MinhashDedupSignature(f"{w}/signatures", config=config,
                                                                    language=Languages.english)],
                                   tasks=workers, workers=workers, logging_dir=f"{w}/logs/s1")
    stage2 = LocalPipelineExecutor([MinhashDedupBuckets(f"{w}/signatures", f"{w}/buckets", config=config)],
                                   tasks=config.num_buckets, workers=workers, logging_dir=f"{w}/logs/s2",
                                   depends=stage1)
    stage3 = LocalPipelineExecutor([MinhashDedupCluster(f"{w}/buckets", f"{w}/remove_ids", config=config)],
                                   tasks=1, logging_dir=f"{w}/logs/s3", depends=stage2)
    stage4 = LocalPipelineExecutor([reader(), MinhashDedupFilter(f"{w}/remove_ids",
                                                                 exclusion_writer=JsonlWriter(f"{w}/removed")),
                                    JsonlWriter(f"{w}/output")],
                                   tasks=workers, workers=workers, logging_dir=f"{w}/logs/s4", depends=stage3)
    stage4.run()
    removed = set()
    for path in glob.glob(f"{w}/removed/*"):
        with gzip.open(path, "rt") if path.endswith(".gz") else open(path) as fh:
            removed.update(json.loads(line)["id"] for line in fh)
    return removed


def run_exact(data: Path, work: Path, workers: int) -> dict:
    """Exact dedup of the whole row, normalised: dataforge next to polars (lower case, strip, unique)."""
    import polars as pl

    from dataforge.dedup import dedup
    from dataforge.progress import set_quiet

    set_quiet(True)
    t = time.perf_counter()
    df = pl.read_ndjson(data)
    polars_read_s = time.perf_counter() - t
    text = [c for c, dt in df.schema.items() if dt == pl.String and c != "id"]
    kept = (df.with_columns(pl.col(c).str.to_lowercase().str.strip_chars().alias(f"_k{c}") for c in text)
            .unique(subset=[f"_k{c}" for c in text], keep="first", maintain_order=True)
            .drop([f"_k{c}" for c in text]))
    polars_s = time.perf_counter() - t
    kept.write_ndjson(work / "polars_exact.jsonl")
    polars_write_s = time.perf_counter() - t
    del df, kept
    t = time.perf_counter()
    s = dedup([data], work / "exact.jsonl", exact=True, near=False)
    return {"polars_read_s": polars_read_s, "polars_s": polars_s, "polars_write_s": polars_write_s,
            "dataforge_exact_s": time.perf_counter() - t, "removed": s.exact_duplicates,
            "polars_removed": pl.read_ndjson(data).height - pl.read_ndjson(work / "polars_exact.jsonl").height}


TOOLS = {"dataforge": run_dataforge, "datasketch": run_datasketch, "datatrove": run_datatrove, "exact": run_exact}


def measured(tool: str, data: Path, work: Path, workers: int) -> dict:
    """Run one tool in a child process: wall time, peak memory (summed PSS of its process tree; largest RSS)."""
    import shutil

    import psutil

    shutil.rmtree(work, ignore_errors=True)  # a fresh run: no completion markers from an earlier one
    work.mkdir(parents=True, exist_ok=True)
    result = work / "result.json"
    cmd = [sys.executable, __file__, "--run", tool, "--data", str(data), "--work", str(work),
           "--workers", str(workers), "--threshold", str(THRESHOLD)]
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    log = open(work / "log.txt", "w")  # noqa: SIM115 - datatrove's task logs and stats tables go here
    proc = psutil.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    peak_pss = peak_rss = 0
    cpu_seen: dict[int, float] = {}
    while proc.poll() is None:
        pss = rss = 0
        try:
            for p in [proc] + proc.children(recursive=True):
                try:  # PSS: pages shared between forked processes count once, split between them
                    times = p.cpu_times()
                    cpu_seen[p.pid] = max(cpu_seen.get(p.pid, 0.0), times.user + times.system)
                    info = p.memory_full_info()
                    pss += getattr(info, "pss", info.rss)
                    rss = max(rss, info.rss)
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(0.1)
    wall = time.perf_counter() - t
    proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the whole tree: the child as reaped, or the polled sum over every process seen (worker
    # processes started through a forkserver are not reaped by the tool, so rusage misses them)
    cpu = max((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), sum(cpu_seen.values()))
    log.close()
    if proc.returncode != 0:
        raise SystemExit(f"{tool} failed with exit code {proc.returncode}; see {work / 'log.txt'}")
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak_pss / 2**20, "peak_process_rss_mb": peak_rss / 2**20,
            **json.loads(result.read_text())}


def main() -> None:
    global THRESHOLD
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="10,000 rows")
    ap.add_argument("--million", action="store_true", help="also dataforge alone on 1,000,000 rows")
    ap.add_argument("--tools", default="dataforge,datasketch,datatrove")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--threshold", type=float, default=THRESHOLD,
                    help="similarity threshold of every tool, and the line between planted positive and negative pairs")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    THRESHOLD = args.threshold  # the child processes get it through --threshold too
    if args.run:  # child process: run one tool, write its result
        work = Path(args.work)
        out = TOOLS[args.run](Path(args.data), work, args.workers)
        result = out if isinstance(out, dict) else {"removed": sorted(out)}
        (work / "result.json").write_text(json.dumps(result))
        return

    rows = 10_000 if args.quick else args.rows
    corpus = build_corpus(WORK / "corpus.json", want=int(rows * 0.8))
    tag = "" if THRESHOLD == 0.8 else f"_t{THRESHOLD:g}"  # the planted pairs depend on the threshold
    data = WORK / f"data_{rows}{tag}.jsonl"
    truth_path = WORK / f"truth_{rows}{tag}.json"
    if not (data.exists() and truth_path.exists()):
        truth = build_dataset(data, rows, corpus)
        truth["cross_family_pairs"] = cross_family_pairs(data, truth, at=THRESHOLD)
        truth_path.write_text(json.dumps(truth))
    truth = json.loads(truth_path.read_text())
    kinds = [f["kind"] for f in truth["families"]]
    print(f"data: {data} ({rows:,} rows; {len(corpus):,} unique source paragraphs;"
          f" {kinds.count('pos'):,} positive pairs, {kinds.count('neg'):,} negative pairs,"
          f" {kinds.count('exact'):,} exact families; {truth['cross_family_pairs']} pairs of rows in different"
          f" families with similarity >= {THRESHOLD}) workers={args.workers}")
    report = {"rows": rows, "workers": args.workers, "tools": {}}
    for tool in filter(None, args.tools.split(",")):  # --tools '': the exact dedup run alone
        res = measured(tool, data, WORK / f"run_{tool}_{rows}{tag}", args.workers)
        sc = score(truth, set(res.pop("removed")))
        report["tools"][tool] = {**res, **sc}
        print(f"{tool:>10}: F1 {sc['f1']:.4f}  precision {sc['precision']:.4f}  recall {sc['recall']:.4f}"
              f"  (tp {sc['tp']:,} fp {sc['fp']:,} fn {sc['fn']:,})  wall {res['wall_s']:.1f}s  CPU {res['cpu_s']:.1f}s"
              f"  peak memory {res['peak_rss_mb']:.0f} MB (largest process {res['peak_process_rss_mb']:.0f} MB)")
    base = report["tools"].get("dataforge")
    for tool, r in report["tools"].items():
        if base and tool != "dataforge":
            print(f"  {tool} / dataforge: wall time {r['wall_s'] / base['wall_s']:.2f}x,"
                  f" CPU time {r['cpu_s'] / base['cpu_s']:.2f}x (steadier on a shared machine),"
                  f" peak memory {r['peak_rss_mb'] / base['peak_rss_mb']:.2f}x  (> 1: dataforge is faster / smaller)")
    # Recall (pos) and false removals (neg) per similarity level, the tools side by side.
    names = list(report["tools"])
    bins = sorted({b for r in report["tools"].values() for b in r["removed_share_by_similarity"]},
                  key=lambda b: (b.split()[1], b))
    print("  share of pairs with one row removed, by similarity (want 1 for pos, 0 for neg):")
    print("  " + f"{'similarity':<16}" + "".join(f"{n:>12}" for n in names))
    for b in bins:
        print("  " + f"{b:<16}" + "".join(f"{report['tools'][n]['removed_share_by_similarity'].get(b, float('nan')):>12.3f}"
                                          for n in names))
    ex = measured("exact", data, WORK / f"run_exact_{rows}{tag}", args.workers)
    report["exact"] = ex
    print(f"exact dedup (whole row normalised): dataforge {ex['dataforge_exact_s']:.2f}s (removed {ex['removed']:,})"
          f" vs polars lower/strip + unique {ex['polars_s']:.2f}s (removed {ex['polars_removed']:,}):"
          f" {ex['polars_s'] / ex['dataforge_exact_s']:.0%} of polars' throughput (target >= 60%);"
          f" polars with writing its output {ex['polars_write_s']:.2f}s:"
          f" {ex['polars_write_s'] / ex['dataforge_exact_s']:.0%}; polars read_ndjson alone {ex['polars_read_s']:.2f}s")
    if args.million:
        big = WORK / "data_1000000.jsonl"
        if not big.exists():
            build_dataset(big, 1_000_000, corpus, seed=1)
        res = measured("dataforge", big, WORK / "run_dataforge_1000000", args.workers)
        report["million"] = {"wall_s": res["wall_s"], "peak_rss_mb": res["peak_rss_mb"],
                             "peak_process_rss_mb": res["peak_process_rss_mb"], "removed": len(res["removed"])}
        print(f"1,000,000 rows: dataforge wall {res['wall_s']:.0f}s, peak memory {res['peak_rss_mb']:.0f} MB"
              f" (largest process {res['peak_process_rss_mb']:.0f} MB), removed {len(res['removed']):,}")
    (WORK / f"report_{rows}{tag}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
