"""`make_sample_data.py --check`: the written files agree with PLANTED.json and nothing else is wrong.

Checks: every line parses (except the planted bad ones), field shapes, counts, that each planted
problem is really there, that there are no unplanned duplicates / near duplicates / eval leaks,
that every ```python block runs, and that the multilingual `lang` labels match the text.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

from make_sample_data import SAMPLE_DATA, jaccard, row_text, shingles

DOLLY_CATS = {"open_qa", "closed_qa", "information_extraction", "summarization", "brainstorming",
              "classification", "creative_writing", "general_qa"}
problems: list[str] = []
DIR = SAMPLE_DATA  # the folder being checked (check() sets it)


def fail(msg: str) -> None:
    problems.append(msg)


def load(name: str) -> list[dict]:
    rows = []
    for n, line in enumerate((DIR / name).read_text(encoding="utf-8").splitlines(), 1):
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            fail(f"{name}:{n}: does not parse: {exc}")
    return rows


def need(name: str, rows: list[dict], keys: list[str], optional_empty: tuple[str, ...] = ("context",)) -> None:
    for r in rows:
        if list(r) != keys:
            fail(f"{name}: {r.get('id')}: keys {list(r)} != {keys}")
        for k in keys:
            if not isinstance(r.get(k), str) or (k not in optional_empty and not r[k].strip()):
                fail(f"{name}: {r.get('id')}: field {k} is not non-empty text")


def norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def run_python_blocks(name: str, rows: list[dict], fields: tuple[str, ...]) -> int:
    n = 0
    for r in rows:
        for f in fields:
            for block in re.findall(r"```python\n(.*?)```", r.get(f, ""), re.S):
                n += 1
                res = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, timeout=30)
                if res.returncode:
                    fail(f"{name}: {r.get('id', r['instruction'][:40])}: python block fails: {res.stderr[-300:]}")
    return n


def check_dolly(planted: dict, eval_rows: list[dict]) -> None:
    rows = load("dolly_en.jsonl")
    need("dolly", rows, ["id", "instruction", "context", "response", "category"])
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids) or not 400 <= len(rows) <= 500:
        fail(f"dolly: {len(rows)} rows, {len(set(ids))} distinct ids")
    if {r["category"] for r in rows} != DOLLY_CATS:
        fail(f"dolly: categories {sorted({r['category'] for r in rows})}")
    by_id = {r["id"]: r for r in rows}
    key = lambda r: (r["instruction"], r["context"], r["response"])  # noqa: E731
    exact = {tuple(p) for p in planted["exact_duplicates"]}
    near = {tuple(p) for p in planted["near_duplicates"]}
    for a, b in exact:
        if key(by_id[a]) != key(by_id[b]) or ids.index(a) > ids.index(b):
            fail(f"dolly: planted exact duplicate {a},{b} is not an exact duplicate (kept first)")
    sh5 = {i: shingles(row_text(r), 5) for i, r in by_id.items()}
    sh3 = {i: shingles(row_text(r), 3) for i, r in by_id.items()}
    for a, b in near:
        j = jaccard(sh5[a], sh5[b])
        if key(by_id[a]) == key(by_id[b]) or j < 0.8:
            fail(f"dolly: planted near duplicate {a},{b}: identical or too far apart (J5={j:.2f})")
    groups: dict = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r["id"])
    found_exact = {(g[0], x) for g in groups.values() for x in g[1:]}
    if found_exact != exact:
        fail(f"dolly: exact duplicates found {sorted(found_exact ^ exact)} differ from the manifest")
    for a, b in itertools.combinations(ids, 2):
        if (a, b) in exact or (a, b) in near:
            continue
        j = jaccard(sh3[a], sh3[b])
        if j >= 0.5:
            fail(f"dolly: unplanned near duplicate {a},{b} (J3={j:.2f})")
    leaks = {tuple(p) for p in planted["eval_leaks"]}
    ev = {r["id"]: r for r in eval_rows}
    for d in rows:
        dn = norm(d["instruction"])
        for e in eval_rows:
            j = jaccard(shingles(d["instruction"], 1), shingles(e["instruction"], 1))
            hit = dn == norm(e["instruction"]) or j >= 0.6
            if hit and (d["id"], e["id"]) not in leaks:
                fail(f"dolly: unplanned eval leak {d['id']} ~ {e['id']} (J1={j:.2f})")
    for d, e in leaks:
        j = jaccard(shingles(by_id[d]["instruction"], 1), shingles(ev[e]["instruction"], 1))
        if j < 0.6:
            fail(f"dolly: planted eval leak {d},{e} too different (J1={j:.2f})")
    n = run_python_blocks("dolly", rows, ("response",))
    print(f"dolly_en.jsonl: {len(rows)} rows, {len(exact)} exact + {len(near)} near duplicates, "
          f"{len(leaks)} eval leaks, {n} python blocks run")


def check_bad_rows(planted: dict) -> None:
    raw = (DIR / "bad_rows.jsonl").read_bytes()
    lines = raw.split(b"\n")[:-1]
    bad = set(planted["bad_lines"])
    if sorted(bad | set(planted["good_lines"])) != list(range(1, len(lines) + 1)):
        fail("bad_rows: bad_lines + good_lines do not cover every line")
    if not raw.startswith(b"\xef\xbb\xbf") or b"\r\n" not in raw:
        fail("bad_rows: no BOM at the start or no CRLF line")
    try:
        from dataforge.io import RejectSink, read_dataset
    except ImportError:
        print("bad_rows.jsonl: dataforge not importable, reader cross-check skipped")
        return
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        sink_path = Path(tmp) / "rejects.jsonl"
        with RejectSink(sink_path) as sink:
            good = list(read_dataset(str(DIR / "bad_rows.jsonl"), rejects=sink))
        rejected = sorted(json.loads(x)["line"] for x in sink_path.read_text().splitlines())
    if rejected != sorted(bad):
        fail(f"bad_rows: dataforge rejected lines {rejected}, manifest says {sorted(bad)}")
    print(f"bad_rows.jsonl: {len(lines)} lines, dataforge keeps {len(good)} and rejects lines {rejected}")


def check_multilingual(planted: dict) -> None:
    rows = load("multilingual.jsonl")
    need("multilingual", rows, ["id", "instruction", "context", "output", "lang", "category"])
    langs = {r["lang"] for r in rows}
    if len(langs - {"en"}) < 5 or not 40 <= len(rows) <= 60:
        fail(f"multilingual: {len(rows)} rows, languages {sorted(langs)}")
    mism = set(planted["language_mismatch"])
    try:
        from langdetect import DetectorFactory, detect
    except ImportError:
        return
    DetectorFactory.seed = 0
    code = lambda t: detect(t).split("-")[0]  # noqa: E731  (zh-cn -> zh)
    wrong = []
    for r in rows:
        out_lang, in_lang = code(r["output"]), code(r["instruction"] + " " + r["context"])
        if r["id"] in mism:
            if out_lang == r["lang"] or in_lang != r["lang"]:
                fail(f"multilingual: planted mismatch {r['id']} not detected ({in_lang}/{out_lang})")
        elif out_lang != r["lang"] and len(r["output"]) >= 60:
            fail(f"multilingual: {r['id']} labelled {r['lang']}, output detected as {out_lang}")
        elif out_lang != r["lang"]:
            wrong.append(f"{r['id']}({r['lang']}->{out_lang})")
    print(f"multilingual.jsonl: {len(rows)} rows, languages {sorted(langs)}, {len(mism)} planted mismatches; "
          f"short outputs langdetect misreads (not planted): {', '.join(wrong) or 'none'}")


def check_preference(planted: dict) -> None:
    rows = load("preference.jsonl")
    need("preference", rows, ["id", "instruction", "context", "chosen", "rejected", "lang"],
         optional_empty=("context", "chosen", "rejected"))
    by = {r["id"]: r for r in rows}
    for i in planted["identical"]:
        if by[i]["chosen"] != by[i]["rejected"]:
            fail(f"preference: {i} not identical")
    for i in planted["near_identical"]:
        a, b = by[i]["chosen"], by[i]["rejected"]
        if a == b or jaccard(shingles(a, 3), shingles(b, 3)) < 0.6:
            fail(f"preference: {i} not near-identical")
    for i in planted["empty"]:
        if by[i]["chosen"].strip() and by[i]["rejected"].strip():
            fail(f"preference: {i} has no empty side")
    special = set(planted["identical"]) | set(planted["near_identical"]) | set(planted["empty"])
    for r in rows:
        if r["id"] not in special and (not r["chosen"].strip() or not r["rejected"].strip()
                                       or r["chosen"] == r["rejected"]):
            fail(f"preference: unplanned empty or identical pair {r['id']}")
    prompts: dict = {}
    for r in rows:
        prompts.setdefault((r["instruction"], r["context"]), []).append(r["id"])
    dups = sorted(sorted(v) for v in prompts.values() if len(v) > 1)
    if dups != sorted(planted["duplicated_prompts"]):
        fail(f"preference: duplicated prompts {dups} differ from the manifest")
    normal = [r for r in rows if r["id"] not in special]
    longer = sum(len(r["chosen"]) > len(r["rejected"]) for r in normal) / len(normal)
    n = run_python_blocks("preference", rows, ("chosen",))
    print(f"preference.jsonl: {len(rows)} pairs, chosen longer in {longer:.0%} of the normal pairs, "
          f"{n} python blocks run")
    if not 90 <= len(rows) <= 110 or not 0.6 <= longer < 1.0:
        fail(f"preference: {len(rows)} rows, chosen longer in {longer:.0%}")


def check_rest() -> None:
    seeds = load("seed_tasks.jsonl")
    need("seed_tasks", seeds, ["instruction", "context", "output", "category"])
    n = run_python_blocks("seed_tasks", seeds, ("output",))
    ev = load("eval.jsonl")
    need("eval", ev, ["id", "instruction", "context", "output", "lang", "category"])
    text = (DIR / "raw_text.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    paras = [p for p in text.split("\n\n") if p.strip()]
    print(f"seed_tasks.jsonl: {len(seeds)} tasks ({n} python blocks run); eval.jsonl: {len(ev)} rows "
          f"({', '.join(sorted({r['lang'] for r in ev}))}); raw_text.txt: {len(lines)} lines, {len(paras)} paragraphs")
    if not 30 <= len(seeds) <= 40 or not 35 <= len(ev) <= 50 or not 300 <= len(lines) <= 600:
        fail("counts of seed_tasks / eval / raw_text out of range")


def check(folder: Path = SAMPLE_DATA) -> int:
    global DIR
    DIR = folder
    planted = json.loads((DIR / "PLANTED.json").read_text(encoding="utf-8"))
    eval_rows = load("eval.jsonl")
    check_dolly(planted["dolly_en.jsonl"], eval_rows)
    check_bad_rows(planted["bad_rows.jsonl"])
    check_multilingual(planted["multilingual.jsonl"])
    check_preference(planted["preference.jsonl"])
    check_rest()
    for p in problems:
        print("PROBLEM:", p)
    print("OK" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0
