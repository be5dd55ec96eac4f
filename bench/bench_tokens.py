"""Token estimates (dataforge.tokencount) against OpenAI's real tokenizers, per language, on held-out real text.

    .venv/bin/python bench/bench_tokens.py           # evaluate the stored rates (needs bpe-openai + the mirrors)
    .venv/bin/python bench/bench_tokens.py --fit     # refit the rates, write them and the test fixture, evaluate
    .venv/bin/python bench/bench_tokens.py --quick   # evaluate on the stored fixture only (no tokenizer needed)

Text: lingua-py's test sentences (`language-testdata/sentences/<lang>.txt`, real web sentences
from the Leipzig corpora, about 400 per language in 75 languages) and LLaMA-Factory's
`alpaca_en_demo.json` / `alpaca_zh_demo.json` (1,000 rows each; instruction, input and output
counted as separate texts), read from the git mirrors in /work/.mirror (commits below).
Odd lines of each sentence file and the first 500 alpaca rows fit the rates; even lines and
the last 500 rows are held out, and every figure printed is on the held-out part.

Real counts: the `bpe-openai` package (Rust `bpe-openai` crate, which ships the OpenAI
vocabularies inside the wheel, so nothing is downloaded; `encode_ordinary`, no special
tokens). Fitting: non-negative least squares of tokens on the class counts of
dataforge.tokencount (characters and runs per class), rows weighted by 1/sqrt(tokens)
and each language given the same total weight. A class with too little text to fit
gets the mean tokens per character of its code points tokenized one by one.

Printed per language: texts, real tokens, the estimate, their ratio (target: 0.75-1.25
for en zh ja ko ru ar hi), the share of single texts within 25%, and the old estimates
(UTF-8 bytes / 4, used by `report`; characters / 4, used by `format --to openai`).
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MIRROR = Path("/work/.mirror")
LINGUA = (MIRROR / "pemistahl+lingua-py" / "repo", "754ce21122c083a7200763015fdaf7cda8d85453")
LLAMA_FACTORY = (MIRROR / "hiyouga+LLaMA-Factory" / "repo", "ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30")
FIXTURE = ROOT / "tests" / "realdata" / "tokens" / "samples.jsonl"
ENCODINGS = ("o200k_base", "cl100k_base")
TARGET_LANGS = ("en", "zh", "ja", "ko", "ru", "ar", "hi")
FIXTURE_PER_LANG = 12  # held-out sentences kept per target language (a few for the others)
MIN_CHARS_TO_FIT = 200  # a class seen less than this in the fit part gets its one-by-one rate
WORDS = {1: 10_000, 2: 3_000}  # known words kept per script (1 Latin, 2 Cyrillic), most frequent first


def _git_show(repo: tuple[Path, str], path: str) -> str:
    folder, commit = repo
    for rev in (commit, "HEAD"):
        done = subprocess.run(["git", f"--git-dir={folder}", "show", f"{rev}:{path}"], capture_output=True)
        if done.returncode == 0:
            return done.stdout.decode("utf-8")
    raise SystemExit(f"cannot read {path} from {folder}: fetch the mirror first")


def corpus() -> list[dict]:
    """Every text with its language, source and part ("fit" or "test")."""
    rows = []
    listing = subprocess.run(["git", f"--git-dir={LINGUA[0]}", "ls-tree", "--name-only", "HEAD",
                              "language-testdata/sentences/"], capture_output=True, text=True, check=True)
    for path in listing.stdout.split():
        lang = Path(path).stem
        for n, line in enumerate(_git_show(LINGUA, path).splitlines(), 1):
            if line.strip():
                rows.append({"lang": lang, "text": line, "source": f"lingua-py:{path}:{n}",
                             "part": "fit" if n % 2 else "test"})
    for lang in ("en", "zh"):
        path = f"data/alpaca_{lang}_demo.json"
        for i, item in enumerate(json.loads(_git_show(LLAMA_FACTORY, path))):
            for field in ("instruction", "input", "output"):
                if item.get(field):
                    rows.append({"lang": f"alpaca_{lang}", "text": item[field],
                                 "source": f"LLaMA-Factory:{path}:{i}.{field}", "part": "fit" if i < 500 else "test"})
    return rows


def real_counts(texts: list[str], encoding: str) -> np.ndarray:
    import bpe_openai

    enc = bpe_openai.get_encoding(encoding)
    return np.array([len(ids) for ids in enc.encode_ordinary_batch(texts)], np.float64)


def vocabulary_words(encoding: str) -> list[str]:
    """The most frequent Latin and Cyrillic words that are single tokens (with their leading space), by rank."""
    import bpe_openai

    from dataforge.tokencount import _table, _word_script

    table, script_of = _table(), _word_script()
    enc = bpe_openai.get_encoding(encoding)
    picked = {1: [], 2: []}
    for rank in range(enc.n_vocab):
        try:
            text = enc.decode_single_token_bytes(rank).decode("utf-8")
        except Exception:  # noqa: BLE001 - special tokens, ranks with no token, partial UTF-8
            continue
        if len(text) < 3 or text[0] != " ":
            continue
        scripts = {int(script_of[table[ord(ch)]]) for ch in text[1:]}
        if len(scripts) == 1 and (script := scripts.pop()) in picked and len(picked[script]) < WORDS[script]:
            picked[script].append(text[1:])
    return picked[1] + picked[2]


def _one_by_one_rate(index: int, encoding: str) -> float:
    """Mean tokens per character of a class's code points tokenized alone (classes without text to fit)."""
    import bpe_openai

    from dataforge.tokencount import CLASSES

    enc = bpe_openai.get_encoding(encoding)
    points = [cp for first, last in CLASSES[index][1] for cp in range(first, min(last, first + 2000) + 1)
              if not 0xD800 <= cp <= 0xDFFF]
    if not points:  # "other": every code point no class claims; sample the BMP's letters
        from dataforge.tokencount import _table

        table = _table()
        points = [cp for cp in range(0x100, 0x10000, 7) if table[cp] == 0 and chr(cp).isalpha()]
    return float(np.mean([len(enc.encode_ordinary(chr(cp))) for cp in points]))


def fit(rows: list[dict], encoding: str) -> tuple[np.ndarray, dict]:
    from scipy.optimize import nnls

    from dataforge.tokencount import FEATURES, NAMES, K, features

    part = [r for r in rows if r["part"] == "fit"]
    x = features([r["text"] for r in part], encoding)
    y = np.array([r[encoding] for r in part], np.float64)
    per_lang = collections.Counter(r["lang"] for r in part)
    weight = np.array([1.0 / np.sqrt(max(t, 1.0) * per_lang[r["lang"]]) for r, t in zip(part, y)])
    seen = x[:, :K].sum(axis=0)
    fixed = {i: _one_by_one_rate(i, encoding) for i in range(K) if seen[i] < MIN_CHARS_TO_FIT}
    free = [j for j in range(2 * K + 1) if j == 2 * K or j % K not in fixed]  # the last: known words
    target = y - sum(x[:, i] * rate for i, rate in fixed.items())
    solution, _residual = nnls(x[:, free] * weight[:, None], target * weight, maxiter=10_000)
    w = np.zeros(2 * K + 1)
    w[free] = solution
    for i, rate in fixed.items():
        w[i] = rate
    info = {"fixed_one_by_one": sorted(NAMES[i] for i in fixed), "fit_texts": len(part)}
    return w, {**info, "rates": {name: round(float(v), 5) for name, v in zip(FEATURES, w)}}


def evaluate(rows: list[dict], encoding: str) -> dict:
    from dataforge.tokencount import estimate

    held = [r for r in rows if r["part"] == "test"]
    est = estimate([r["text"] for r in held], encoding).astype(np.float64)
    per: dict = collections.defaultdict(lambda: collections.defaultdict(float))
    for r, e in zip(held, est):
        real = r[encoding]
        c = per[r["lang"]]
        c["n"] += 1
        c["real"] += real
        c["est"] += e
        c["within"] += abs(e - real) <= 0.25 * real
        c["bytes4"] += -(-len(r["text"].encode("utf-8")) // 4)
        c["chars4"] += -(-len(r["text"]) // 4)
    return per


def print_table(per: dict, encoding: str) -> list[str]:
    lines = [f"{encoding}: held-out texts, estimate / real tokens (target 0.75-1.25 for {' '.join(TARGET_LANGS)})",
             f"{'lang':<10} {'texts':>5} {'real':>8} {'estimate':>8} {'ratio':>6} {'texts ±25%':>10}"
             f" | {'bytes/4':>7} {'chars/4':>7}"]
    order = [*TARGET_LANGS, "alpaca_en", "alpaca_zh"]
    order += sorted(k for k in per if k not in order)
    misses = []
    for lang in order:
        c = per.get(lang)
        if not c:
            continue
        ratio = c["est"] / c["real"]
        mark = " *" if lang in TARGET_LANGS or lang.startswith("alpaca") else ""
        if not 0.75 <= ratio <= 1.25:
            misses.append(f"{lang} {ratio:.2f}")
        lines.append(f"{lang:<10} {int(c['n']):>5} {int(c['real']):>8,} {int(c['est']):>8,} {ratio:>6.2f}"
                     f" {c['within'] / c['n']:>10.0%} | {c['bytes4'] / c['real']:>7.2f} {c['chars4'] / c['real']:>7.2f}{mark}")
    target = [per[k]["est"] / per[k]["real"] for k in (*TARGET_LANGS, "alpaca_en", "alpaca_zh") if k in per]
    lines.append(f"target languages (*): ratios {min(target):.2f}-{max(target):.2f};"
                 f" all {len(per)} sets: outside 0.75-1.25: {', '.join(misses) or 'none'}")
    return lines


def write_fixture(rows: list[dict]) -> None:
    """A few held-out texts per language with their real counts, for tests/test_token_estimates.py."""
    held = collections.defaultdict(list)
    for r in rows:
        if r["part"] == "test":
            held[r["lang"]].append(r)
    keep = []
    for lang, items in sorted(held.items()):
        want = FIXTURE_PER_LANG if lang in TARGET_LANGS or lang.startswith("alpaca") else 3
        if lang.startswith("alpaca"):  # whole answers (long, mixed text), not the longest: the file stays small
            items = [r for r in items if r["source"].endswith(".output") and len(r["text"]) <= 1200]
        step = max(1, len(items) // want)
        keep += items[::step][:want]
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    with FIXTURE.open("w", encoding="utf-8") as fh:
        for r in keep:
            fh.write(json.dumps({"lang": r["lang"], "text": r["text"], "source": r["source"],
                                 **{e: int(r[e]) for e in ENCODINGS}}, ensure_ascii=False) + "\n")
    print(f"wrote {FIXTURE.relative_to(ROOT)} ({len(keep)} texts)")


def write_words() -> None:
    from dataforge.tokencount import WORDS_FILE

    lists = {e: vocabulary_words(e) for e in ENCODINGS}
    both = [w for w in lists[ENCODINGS[0]] if w in set(lists[ENCODINGS[1]])]
    data = {"about": "Latin and Cyrillic words that are single tokens (after a space) of each encoding:"
                     f" the {WORDS[1]:,} Latin and {WORDS[2]:,} Cyrillic ones of lowest rank (most frequent),"
                     " taken by bench/bench_tokens.py --fit from the vocabularies bpe-openai ships.",
            "both": both, **{e: [w for w in lists[e] if w not in set(both)] for e in ENCODINGS}}
    WORDS_FILE.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {WORDS_FILE.relative_to(ROOT)} ({len(both):,} words in both, "
          + ", ".join(f"{len(data[e]):,} only in {e}" for e in ENCODINGS) + ")")


def write_rates(fitted: dict) -> None:
    from dataforge.tokencount import RATES_FILE

    data = {"about": "Token-count rates per character class (dataforge.tokencount), fitted by"
                     " bench/bench_tokens.py --fit against bpe-openai on held-in real text"
                     " (lingua-py test sentences, 75 languages; LLaMA-Factory alpaca en/zh demos).",
            "sources": {"lingua-py": LINGUA[1], "LLaMA-Factory": LLAMA_FACTORY[1]},
            "encodings": fitted}
    RATES_FILE.parent.mkdir(parents=True, exist_ok=True)
    RATES_FILE.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RATES_FILE.relative_to(ROOT)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", action="store_true", help="refit the rates and rewrite them and the test fixture")
    ap.add_argument("--quick", action="store_true", help="evaluate on the stored fixture only")
    args = ap.parse_args()
    if args.quick:
        rows = [{**json.loads(line), "part": "test"} for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    else:
        rows = corpus()
        texts = [r["text"] for r in rows]
        for encoding in ENCODINGS:
            for r, n in zip(rows, real_counts(texts, encoding)):
                r[encoding] = n
    if args.fit:
        write_words()
        from dataforge import tokencount

        tokencount.known_hashes.cache_clear()
        fitted = {}
        for encoding in ENCODINGS:
            _w, fitted[encoding] = fit(rows, encoding)
        write_rates(fitted)
        tokencount.rates.cache_clear()
        write_fixture(rows)
    what = "the stored fixture" if args.quick else f"{sum(r['part'] == 'test' for r in rows):,} held-out texts"
    print(f"evaluated on {what}\n")
    for encoding in ENCODINGS:
        for line in print_table(evaluate(rows, encoding), encoding):
            print(line)
        print()


if __name__ == "__main__":
    main()
