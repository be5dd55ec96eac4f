"""Language detection benchmark: the shared detector (dataforge.langid) next to plain langdetect, on real text.

    .venv/bin/python bench/bench_langid.py            # accuracy on every sentence + format timing on 5,000 rows
    .venv/bin/python bench/bench_langid.py --quick    # the same, format timing on 1,000 rows

Accuracy: tests/realdata/langid/sentences.jsonl -- 30 real sentences in each of 50
languages (lingua-py's test data, taken from the Leipzig Wortschatz corpora) and the
first 40 instructions of LLaMA-Factory's alpaca_zh_demo and alpaca_en_demo (sources in
the README there). Plain langdetect is run the way a user would (`detect_langs`, seed 0,
zh-cn/zh-tw read as zh). For each language: right, wrong and not decided ("unknown" or
"too short": the detector declined) -- a decline is counted as not right. A "script
violation" is a language that cannot be written in the script carrying the text
(Korean for a text without Hangul, Japanese without kana, Estonian for Georgian).

Speed of `format --lang auto` against `--lang en`: the alpaca_en and alpaca_zh excerpts
repeated to N rows, formatted with the alpaca template, best of 3. The detector's
answer cache is turned off for the in-process timing, so every repeated row costs what a
new one would; the command-line timing (a fresh `python -m dataforge` each) keeps it on.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "realdata" / "langid"


def _plain(text: str) -> str:
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    try:
        lang = detect_langs(text)[0].lang
    except LangDetectException:
        return "unknown"
    return {"zh-cn": "zh", "zh-tw": "zh"}.get(lang, lang)


def _writable(text: str, lang: str) -> bool:
    """Can `lang` be written in the script carrying `text`? Korean needs Hangul, Japanese kana, Chinese Han."""
    from dataforge.langid import SCRIPTS, script_counts
    from dataforge.langid.scripts import CJK, dominant

    counts = script_counts(text)
    key, _n = dominant(counts)
    if not key:
        return True
    if key in CJK:
        return {"zh": counts["H"], "ja": counts["J"], "ko": counts["G"]}.get(lang, 0) > 0
    return lang in SCRIPTS[key].langs


def accuracy() -> dict:
    from dataforge.langid import identify

    rows = [json.loads(line) for line in (DATA / "sentences.jsonl").read_text(encoding="utf-8").splitlines()]
    identify("warm up the profiles"), _plain("warm up the profiles")
    per: dict = collections.defaultdict(collections.Counter)
    seconds = {"ours": 0.0, "plain": 0.0}
    for r in rows:
        t0 = time.process_time()
        guess = identify(r["text"])
        t1 = time.process_time()
        plain = _plain(r["text"])
        t2 = time.process_time()
        seconds["ours"] += t1 - t0
        seconds["plain"] += t2 - t1
        c = per[r["lang"]]
        for long in ("all", "20+") if len(r["text"]) >= 20 else ("all",):
            c[f"n {long}"] += 1
            c[f"ours right {long}"] += guess.lang == r["lang"]
            c[f"ours declined {long}"] += guess.status != "ok"
            c[f"ours sure right {long}"] += guess.sure and guess.lang == r["lang"]
            c[f"ours sure {long}"] += guess.sure
            c[f"plain right {long}"] += plain == r["lang"]
        c["ours violations"] += guess.status == "ok" and not _writable(r["text"], guess.lang)
        c["plain violations"] += plain != "unknown" and not _writable(r["text"], plain)
    total = collections.Counter()
    for c in per.values():
        total.update(c)
    return {"per": per, "total": total, "seconds": seconds, "texts": len(rows)}


def _pct(a: int, b: int) -> str:
    return f"{a / b:6.1%}" if b else "   -  "


def print_accuracy(res: dict) -> None:
    per, tot = res["per"], res["total"]
    print(f"{'lang':<5} {'n':>3} | {'ours':>6} {'declined':>8} {'wrong':>5} | {'langdetect':>10} | violations ours/plain")
    for lang in sorted(per):
        c = per[lang]
        n = c["n all"]
        wrong = n - c["ours right all"] - c["ours declined all"]
        print(f"{lang:<5} {n:>3} | {_pct(c['ours right all'], n)} {c['ours declined all']:>8} {wrong:>5} |"
              f" {_pct(c['plain right all'], n):>10} | {c['ours violations']}/{c['plain violations']}")
    for scope in ("all", "20+"):
        n = tot[f"n {scope}"]
        print(f"\n{scope:>3} texts ({n:,}): ours {_pct(tot[f'ours right {scope}'], n)} right,"
              f" {tot[f'ours declined {scope}']} declined, "
              f"{n - tot[f'ours right {scope}'] - tot[f'ours declined {scope}']} wrong;"
              f" plain langdetect {_pct(tot[f'plain right {scope}'], n)} right;"
              f" ours 'sure' on {tot[f'ours sure {scope}']:,}, of them {_pct(tot[f'ours sure right {scope}'], tot[f'ours sure {scope}'])} right")
    print(f"script violations: ours {tot['ours violations']}, plain langdetect {tot['plain violations']}")
    s = res["seconds"]
    print(f"CPU per text: ours {s['ours'] / res['texts'] * 1e3:.2f} ms, plain langdetect"
          f" {s['plain'] / res['texts'] * 1e3:.2f} ms")


def _dataset(folder: Path, name: str, rows: int) -> Path:
    base = json.loads((DATA / f"alpaca_{name}_demo_40.json").read_text(encoding="utf-8"))
    data = [base[i % len(base)] for i in range(rows)]
    path = folder / f"{name}_{rows}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def format_timing(rows: int) -> list[str]:
    from dataforge.formatting import format_dataset
    from dataforge.langid import detector
    from dataforge.progress import set_quiet

    set_quiet(True)
    cached = detector._identify
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("en", "zh"):
            src = _dataset(folder, name, rows)
            best, mix = {}, {}
            detector._identify = cached.__wrapped__  # no answer cache: a repeated row costs a new one's time
            try:
                for lang in ("en", "auto") * 3:
                    t0 = time.process_time()
                    s = format_dataset(src, folder / "out.jsonl", template="alpaca", lang=lang, style="text")
                    took = time.process_time() - t0
                    best[lang] = min(best.get(lang, took), took)
                    mix[lang] = next(x for x in s.lines() if x.startswith("wrapper languages"))
            finally:
                detector._identify = cached
            cli = {}
            for lang in ("en", "auto") * 2:
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-m", "dataforge", "format", str(src), "-o", str(folder / "o.jsonl"),
                                "-t", "alpaca", "--lang", lang, "--style", "text"], check=True, capture_output=True,
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
                took = time.perf_counter() - t0
                cli[lang] = min(cli.get(lang, took), took)
            lines.append(f"alpaca_{name} x{rows:,} rows: in-process CPU --lang en {best['en']:.3f} s,"
                         f" --lang auto {best['auto']:.3f} s ({best['auto'] / best['en']:.2f}x);"
                         f" command line wall --lang en {cli['en']:.2f} s, --lang auto {cli['auto']:.2f} s"
                         f" ({cli['auto'] / cli['en']:.2f}x)")
            lines.append(f"    --lang auto {mix['auto']}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="format timing on 1,000 rows instead of 5,000")
    ap.add_argument("--rows", type=int, help="rows for the format timing")
    args = ap.parse_args()
    print_accuracy(accuracy())
    print()
    for line in format_timing(args.rows or (1000 if args.quick else 5000)):
        print(line)


if __name__ == "__main__":
    main()
