"""Build every file in sample_data/ from the hand-written content modules and offline sources.

    python tools/sample_data/make_sample_data.py              # write the files into sample_data/ (deterministic)
    python tools/sample_data/make_sample_data.py --out DIR    # write them into DIR instead (to compare)
    python tools/sample_data/make_sample_data.py --check      # verify sample_data/ against its PLANTED.json

Offline sources: docstrings and signatures of Python standard-library functions (read with
`inspect` from the running interpreter; Python Software Foundation License) and values computed
here (dates, unit conversions, primes). Nothing is downloaded. The output depends on the Python
version only through the docstrings; the committed files were made with the version in README.md.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import inspect
import json
import math
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # this generator and its _content_*.py modules
SAMPLE_DATA = HERE.parents[1] / "sample_data"  # the data it writes (sample data is data: the code lives here)
sys.path.insert(0, str(HERE))

from _content_code import CODE  # noqa: E402
from _content_ctx import PASSAGES  # noqa: E402
from _content_en import BRAINSTORMING, CLASSIFICATION, CREATIVE_WRITING, GENERAL_QA, OPEN_QA  # noqa: E402
from _content_eval import EVAL, LEAKS  # noqa: E402

SEED = 20240501
DOC_MODULES = ["textwrap", "os.path", "string", "itertools", "functools", "json", "math", "statistics",
               "random", "shutil", "re", "heapq", "bisect", "operator", "base64", "glob", "fnmatch",
               "difflib", "html", "urllib.parse", "uuid", "secrets", "zlib", "gzip", "copy", "calendar",
               "tempfile", "keyword", "unicodedata", "binascii", "colorsys", "shlex", "ipaddress",
               "fractions", "contextlib", "pprint", "collections", "dataclasses", "inspect", "warnings",
               "zipfile", "tarfile", "logging", "subprocess", "traceback", "mimetypes", "filecmp",
               "linecache", "reprlib", "asyncio", "concurrent.futures", "csv", "struct", "codecs",
               "email.utils", "http.cookies", "sqlite3", "locale", "typing", "enum", "weakref", "argparse",
               "abc", "threading", "queue", "decimal", "io", "pickle", "urllib.request", "hashlib", "hmac"]
N_DOC_QA, N_DOC_SUMMARY, N_DOC_PARAMS = 200, 25, 22


# ---------------------------------------------------------------- similarity (shared with --check)
def shingles(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def row_text(r: dict) -> str:
    return " ".join((r["instruction"], r.get("context", ""), r.get("response", r.get("output", ""))))


# ---------------------------------------------------------------- derived rows
def _doc_candidates() -> list[dict]:
    """Public functions with a useful docstring, one row per distinct docstring."""
    seen_docs: set[str] = set()
    out = []
    for modname in DOC_MODULES:
        mod = importlib.import_module(modname)
        for name in sorted(getattr(mod, "__all__", None) or dir(mod)):
            if name.startswith("_"):
                continue
            obj = getattr(mod, name, None)
            if not (inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__name__", name) != name or (inspect.isclass(obj) and issubclass(obj, BaseException)):
                continue  # aliases (threading.Lock is _thread.allocate_lock) and exception classes
            doc = inspect.getdoc(obj) or ""
            paras = [p for p in re.split(r"\n\s*\n", doc) if p.strip()]
            if paras and re.match(rf"^{re.escape(name)}\(.*\)", paras[0]):  # a builtin's signature line
                paras = paras[1:]
            if not paras:
                continue
            paras = [re.sub(r"``(.+?)``", r"`\1`", " ".join(p.split())) for p in paras]
            first = paras[0]
            if re.search(r"\w\(.*\)\s*->|\[,|^\w+ = ", first):
                continue  # a usage line, not prose
            if first[-1] not in ".!?)":
                first += "."
            home = (getattr(obj, "__module__", None) or modname).split(".")[0]
            if home not in (modname.split(".")[0], "posixpath", "genericpath") and not home.startswith("_"):
                continue  # re-exported from elsewhere (e.g. typing names in other modules)
            if not (60 <= len(first) <= 500) or first in seen_docs or ">>>" in first:
                continue
            if "deprecated" in doc.lower()[:200] or first.lower().startswith(("alias", "same as", "see ")):
                continue
            seen_docs.add(first)
            try:
                sig = str(inspect.signature(obj))
            except (TypeError, ValueError):
                sig = ""
            if " at 0x" in sig:  # a default whose repr holds a memory address: not reproducible
                sig = ""
            out.append({"qual": f"{modname}.{name}", "module": modname, "sig": sig, "first": first,
                        "kind": "class" if inspect.isclass(obj) else "function", "doc": "\n\n".join(paras)})
    return out


def _first_sentence(text: str) -> str:
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    return m.group(1) if m else text


def doc_rows(rng: random.Random) -> list[dict]:
    cands = _doc_candidates()
    rng.shuffle(cands)
    rows = []
    qa_templates = ["What does `{q}` do in Python?", "Explain the Python {k} `{q}`.",
                    "What is `{q}` used for?", "In Python, what does the standard-library {k} `{q}` do?"]
    for c in cands[:N_DOC_QA]:
        sig = f" Its signature is `{c['qual'].rsplit('.', 1)[1]}{c['sig']}`." if c["sig"] else ""
        resp = f"`{c['qual']}` is part of the `{c['module']}` module. Its documentation says: {c['first']}{sig}"
        rows.append({"instruction": rng.choice(qa_templates).format(q=c["qual"], k=c["kind"]), "context": "",
                     "response": resp, "category": "open_qa", "_src": f"docstring:{c['qual']}"})
    long_docs = [c for c in cands[N_DOC_QA:] if len(c["doc"]) >= 250]
    for c in long_docs[:N_DOC_SUMMARY]:
        rows.append({"instruction": f"Summarize the documentation of `{c['qual']}` in one sentence.",
                     "context": c["doc"], "response": _first_sentence(c["first"]),
                     "category": "summarization", "_src": f"docstring:{c['qual']}"})
    used = {r["_src"] for r in rows}
    param_cands = [c for c in cands if f"docstring:{c['qual']}" not in used and c["kind"] == "function"
                   and _params(c["sig"])]
    for c in param_cands[:N_DOC_PARAMS]:
        ctx = f"def {c['qual'].rsplit('.', 1)[1]}{c['sig']}"
        rows.append({"instruction": "List the parameters of this Python function signature and say which "
                                    "ones have default values.",
                     "context": ctx, "response": _params(c["sig"]), "category": "information_extraction",
                     "_src": f"signature:{c['qual']}"})
    return rows


def _params(sig: str) -> str:
    if not sig:
        return ""
    try:
        params = inspect.signature(eval(f"lambda {sig[1:-1].split(' -> ')[0]}: 0")).parameters  # noqa: S307
    except Exception:  # builtin signatures with '/' or odd defaults: describe from text instead
        return ""
    lines = []
    for p in params.values():
        kind = {p.VAR_POSITIONAL: " (any number of extra positional arguments)",
                p.VAR_KEYWORD: " (any number of extra keyword arguments)",
                p.KEYWORD_ONLY: " (keyword-only)"}.get(p.kind, "")
        default = f", default `{p.default!r}`" if p.default is not p.empty else ", no default"
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            default = ""
        lines.append(f"- `{p.name}`{kind}{default}")
    return "\n".join(lines) if lines else ""


def computed_rows() -> list[dict]:
    """Small facts computed here, so they are correct by construction."""
    rows = []
    for d in (datetime.date(2000, 1, 1), datetime.date(1969, 7, 20), datetime.date(2024, 2, 29)):
        rows.append(("open_qa", f"What day of the week was {d.day} {d:%B} {d.year}?",
                     f"{d.day} {d:%B} {d.year} was a {d:%A}."))
    for a, b in ((datetime.date(2023, 3, 1), datetime.date(2023, 12, 25)),
                 (datetime.date(2024, 1, 15), datetime.date(2024, 6, 30))):
        rows.append(("open_qa", f"How many days are there from {a:%d %B %Y} to {b:%d %B %Y}?",
                     f"There are {(b - a).days} days between {a:%d %B %Y} and {b:%d %B %Y} "
                     f"(counting from the first date up to, but not including, the second)."))
    for c in (37, -40):
        f = c * 9 / 5 + 32
        rows.append(("open_qa", f"Convert {c} degrees Celsius to Fahrenheit.",
                     f"{c} °C is {f:g} °F. Multiply the Celsius value by 9/5 and add 32: "
                     f"{c} × 9/5 + 32 = {f:g}."))
    for n in (91, 97, 221):
        factors = [d for d in range(2, int(math.isqrt(n)) + 1) if n % d == 0]
        if factors:
            ans = f"No. {n} is composite: {n} = {factors[0]} × {n // factors[0]}."
        else:
            ans = f"Yes. {n} is prime: it has no divisor between 2 and {math.isqrt(n)}, its integer square root."
        rows.append(("classification", f"Is {n} a prime number?", ans))
    for n in (42, 255):
        rows.append(("open_qa", f"Write the number {n} in binary and hexadecimal.",
                     f"{n} is {n:b} in binary and {n:X} in hexadecimal (0x{n:x})."))
    for a, b in ((84, 36), (1071, 462)):
        rows.append(("open_qa", f"What is the greatest common divisor of {a} and {b}?",
                     f"The greatest common divisor of {a} and {b} is {math.gcd(a, b)}."))
    for km in (5, 42.195):
        rows.append(("open_qa", f"How many miles is {km:g} kilometres?",
                     f"{km:g} km is about {km / 1.609344:.2f} miles (one mile is exactly 1.609344 km)."))
    return [{"instruction": i, "context": "", "response": r, "category": c, "_src": "computed"}
            for c, i, r in rows]


def handwritten_rows() -> list[dict]:
    rows = []
    for cat, items in (("open_qa", OPEN_QA), ("general_qa", GENERAL_QA), ("brainstorming", BRAINSTORMING),
                       ("classification", CLASSIFICATION), ("creative_writing", CREATIVE_WRITING)):
        rows += [{"instruction": i, "context": "", "response": r, "category": cat, "_src": "hand"}
                 for i, r in items]
    # one question per passage: rows sharing a long passage would look like near duplicates over the
    # full text, and the manifest must list every near duplicate (the other questions are not used)
    for k, (passage, questions) in enumerate(PASSAGES):
        cat, q, a = questions[k % len(questions)]
        rows.append({"instruction": q, "context": passage, "response": a, "category": cat, "_src": "hand-passage"})
    rows += [{"instruction": i, "context": ctx, "response": r, "category": cat, "_src": "hand-code"}
             for cat, i, ctx, r in CODE]
    return rows


# ---------------------------------------------------------------- dolly_en.jsonl with planted problems
SYNONYMS = [("usually", "typically"), ("about", "roughly"), ("large", "big"), ("often", "frequently"),
            ("quickly", "rapidly"), ("main", "principal"), ("also", "additionally"), ("small", "little"),
            ("keep", "hold"), ("every", "each"), ("start", "begin"), ("because", "since")]


def _near_edit(row: dict, kind: str) -> tuple[dict, str]:
    new = dict(row)
    if kind == "word":
        for a, b in SYNONYMS:
            if re.search(rf"\b{a}\b", row["response"]):
                new["response"] = re.sub(rf"\b{a}\b", b, row["response"], count=1)
                return new, f"word changed in response: '{a}' -> '{b}'"
        raise ValueError("no synonym")
    if kind == "punct":
        resp = row["response"]
        if ", " in resp:
            new["response"] = resp.replace(", ", " ", 1)
            return new, "punctuation: first comma in response removed"
        new["response"] = resp.rstrip(".") + "!"
        return new, "punctuation: final full stop replaced with '!'"
    if kind == "case":
        new["instruction"] = row["instruction"].lower()
        return new, "casing: instruction lower-cased"
    raise ValueError(kind)


def build_dolly(rng: random.Random) -> tuple[list[dict], dict, list[str]]:
    base = handwritten_rows() + computed_rows()
    n_hand = len(base)
    # derived rows must not be accidental near-duplicates of anything already present
    kept_sh = [shingles(row_text(r), 3) for r in base]
    for r in doc_rows(rng):
        if not r["response"]:
            continue
        sh = shingles(row_text(r), 3)
        if max(jaccard(sh, k) for k in kept_sh) < 0.5:
            base.append(r)
            kept_sh.append(sh)
    # planted problems: pick disjoint source rows
    order = list(range(len(base)))
    rng.shuffle(order)
    long_hand = [i for i in order if i < n_hand and "```" not in base[i]["response"]
                 and len(base[i]["response"].split()) >= 45]
    near_src = []
    kinds = ["word"] * 5 + ["punct"] * 5 + ["case"] * 5
    for i in long_hand:
        if len(near_src) == len(kinds):
            break
        try:
            _near_edit(base[i], kinds[len(near_src)])
        except ValueError:
            continue
        near_src.append(i)
    exact_src = [i for i in order if i not in near_src][:15]
    rows = [dict(r, _tag=("row", i)) for i, r in enumerate(base)]
    for i in exact_src:
        rows.append(dict(base[i], _tag=("exact", i)))
    edits = {}
    for i, kind in zip(near_src, kinds):
        new, what = _near_edit(base[i], kind)
        edits[i] = what
        rows.append(dict(new, _tag=("near", i)))
    for ei, instr, resp in LEAKS:
        rows.append({"instruction": instr, "context": "", "response": resp, "category": "open_qa",
                     "_src": "hand-leak", "_tag": ("leak", ei)})
    rng.shuffle(rows)
    # the original of each duplicate pair comes first, so "kept" is the earlier id
    pos = {r["_tag"][1]: n for n, r in enumerate(rows) if r["_tag"][0] == "row"}
    for n, r in enumerate(rows):
        kind, i = r["_tag"]
        if kind in ("exact", "near") and n < pos[i]:
            rows[n], rows[pos[i]] = rows[pos[i]], rows[n]
            pos[i] = n
    for n, r in enumerate(rows, 1):
        r["id"] = f"dolly-{n:04d}"
    by_src = {r["_tag"][1]: r["id"] for r in rows if r["_tag"][0] == "row"}
    planted = {"exact_duplicates": [], "near_duplicates": [], "near_duplicate_edits": {}, "eval_leaks": []}
    for r in rows:
        kind, i = r["_tag"]
        if kind == "exact":
            planted["exact_duplicates"].append([by_src[i], r["id"]])
        elif kind == "near":
            planted["near_duplicates"].append([by_src[i], r["id"]])
            planted["near_duplicate_edits"][r["id"]] = edits[i]
        elif kind == "leak":
            planted["eval_leaks"].append([r["id"], f"eval-{i + 1:03d}"])
    for key in ("exact_duplicates", "near_duplicates", "eval_leaks"):
        planted[key].sort()
    out = [{"id": r["id"], "instruction": r["instruction"], "context": r["context"], "response": r["response"],
            "category": r["category"]} for r in rows]
    sources = {r["id"]: r["_src"] for r in rows}
    return out, planted, sources


def build_eval() -> list[dict]:
    return [{"id": f"eval-{n:03d}", "instruction": i, "context": c, "output": o, "lang": lang, "category": cat}
            for n, (lang, cat, i, c, o) in enumerate(EVAL, 1)]


# ---------------------------------------------------------------- bad_rows.jsonl (bytes on purpose)
def build_bad_rows() -> tuple[bytes, dict]:
    def good(n, instr, resp, cat="open_qa", ctx=""):
        return json.dumps({"id": f"bad-{n:02d}", "instruction": instr, "context": ctx, "response": resp,
                           "category": cat}, ensure_ascii=False).encode()
    lines: list[tuple[bytes, str | None]] = [
        (b"\xef\xbb\xbf" + good(1, "What is the boiling point of water at sea level?",
                                "100 degrees Celsius (212 degrees Fahrenheit)."), None),
        (good(2, "Name three primary colours of paint.", "Red, yellow and blue."), None),
        (b'{"id": "bad-03", "instruction": "Name a mammal that can fly.", "context": "", "response": "The bat."',
         "malformed JSON: the closing brace is missing"),
        (b'{"id": "bad-04", "instruction": NaN, "context": "", "response": "Paris.", "category": "open_qa"}',
         "NaN literal in the required field instruction"),
        (b'{"id": "bad-05", "instruction": "What is the capital of Peru?", "context": "", "category": "open_qa"}',
         "missing field response"),
        (b'{"id": "bad-06", "instruction": "", "context": "", "response": "Forty-two.", "category": "open_qa"}',
         "empty instruction"),
        (b'{"id": "bad-07", "instruction": "List two even numbers.", "context": "", "response": ["2", "4"], '
         b'"category": "open_qa"}', "a list where text is expected (response)"),
        (good(8, "How many legs does an insect have?", "Six."), None),
        (good(2, "Translate 'thank you' into French.", "Merci."), None),  # a repeated id: kept as bad-02-2
        (b'{"id": "bad-10", "instruction": "Spell caf\xe9 with an accent.", "context": "", '
         b'"response": "caf\xe9", "category": "open_qa"}', "invalid UTF-8: a Latin-1 byte 0xE9 for 'e acute'"),
        (good(11, "What is the largest planet in the solar system?", "Jupiter.") + b"\r", None),
        (good(12, "Classify the tomato: fruit or vegetable?", "Botanically it is a fruit.", "classification"),
         None),
        (b'["bad-13", "What colour is the sky?", "", "Blue."]', "a JSON array instead of an object"),
        (b'{"id": "bad-14", "instruction": "Name a prime number greater than 10.", "context": "", '
         b'"response": "Eleven.", "category": "open_qa", "source": "extra fields are fine"}', None),
        (good(15, "Summarize: The meeting moved to Friday.", "The meeting is now on Friday.", "summarization",
              ), None),
    ]
    data = b"\n".join(raw for raw, _ in lines) + b"\n"
    manifest = {"bad_lines": [n for n, (_, why) in enumerate(lines, 1) if why],
                "good_lines": [n for n, (_, why) in enumerate(lines, 1) if not why],
                "why": {str(n): why for n, (_, why) in enumerate(lines, 1) if why},
                "notes": {"1": "starts with a UTF-8 BOM (valid row)", "11": "ends with CRLF (valid row)",
                          "9": "repeats the id bad-02 of line 2 with other content (valid row, kept as bad-02-2)",
                          "14": "has an extra column (valid row)"}}
    return data, manifest


# ---------------------------------------------------------------- writing
def write_jsonl(out: Path, name: str, rows: list[dict]) -> None:
    with open(out / name, "w", encoding="utf-8", newline="\n") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def _manifest_json(planted: dict) -> str:
    """Two levels indented, everything deeper on one line, so the manifest reads like a table."""
    files = []
    for fname, sections in planted.items():
        body = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in sections.items())
        files.append(f"  {json.dumps(fname)}: {{\n{body}\n  }}")
    return "{\n" + ",\n".join(files) + "\n}\n"


def build_all(out: Path = SAMPLE_DATA) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    planted: dict = {}
    dolly, planted["dolly_en.jsonl"], _ = build_dolly(rng)
    write_jsonl(out, "dolly_en.jsonl", dolly)
    write_jsonl(out, "eval.jsonl", build_eval())
    data, planted["bad_rows.jsonl"] = build_bad_rows()
    (out / "bad_rows.jsonl").write_bytes(data)
    from _other_files import build_more
    build_more(rng, planted, out)
    (out / "PLANTED.json").write_text(_manifest_json(planted), encoding="utf-8")
    return planted


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLE_DATA, help="folder to write (default: sample_data/)")
    parser.add_argument("--check", action="store_true", help="verify the files in --out instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        from _check import check
        return check(args.out)
    build_all(args.out)
    print("wrote", ", ".join(sorted(p.name for p in args.out.iterdir() if p.suffix in (".jsonl", ".txt", ".json"))),
          "in", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
