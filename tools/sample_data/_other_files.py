"""Builders for multilingual.jsonl, preference.jsonl, seed_tasks.jsonl and raw_text.txt."""

from __future__ import annotations

import importlib
import inspect
import random
import re
from pathlib import Path

from _content_ctx import PASSAGES
from make_sample_data import _doc_candidates, write_jsonl


def build_multilingual(rng: random.Random) -> tuple[list[dict], dict]:
    from _content_ml import MISMATCH, ML
    rows = [(r, False) for r in ML]
    rows += [(r, True) for r in MISMATCH]
    rng.shuffle(rows)
    out, mismatch = [], []
    for n, ((lang, cat, instr, ctx, output), mis) in enumerate(rows, 1):
        rid = f"ml-{n:03d}"
        out.append({"id": rid, "instruction": instr, "context": ctx, "output": output, "lang": lang,
                    "category": cat})
        if mis:
            mismatch.append(rid)
    return out, {"language_mismatch": mismatch,
                 "language_mismatch_note": "lang is the instruction's language; the output is in another one"}


_VAGUE = ["It's a function in the Python standard library. Check the documentation for details.",
          "I'm not sure, but it probably does something with {m}.",
          "You can look that up yourself.",
          "It is part of Python."]


def build_preference(rng: random.Random) -> tuple[list[dict], dict]:
    from _content_pref import DUP_PROMPTS, EMPTY, IDENTICAL, NEAR_IDENTICAL, PREF
    items: list[tuple[dict, str | None, int | None]] = []  # (row, planted kind, duplicate group)

    def row(instr, chosen, rejected, ctx="", lang="en"):
        return {"instruction": instr, "context": ctx, "chosen": chosen, "rejected": rejected, "lang": lang}

    items += [(row(i, c, r, ctx, lang), None, None) for lang, i, ctx, c, r in PREF]
    # derived: the real documentation summary against a vague answer or another function's summary
    cands = [c for c in _doc_candidates() if c["kind"] == "function"]
    rng.shuffle(cands)
    n_derived = 100 - len(items) - len(IDENTICAL) - len(NEAR_IDENTICAL) - len(EMPTY) - 2 * len(DUP_PROMPTS)
    picked = cands[-n_derived:]  # the tail: dolly's doc rows mostly use the head of a differently shuffled list
    for k, c in enumerate(picked):
        chosen = f"`{c['qual']}` is part of the `{c['module']}` module. Its documentation says: {c['first']}"
        if k % 3 == 2:
            other = picked[(k + 7) % len(picked)]
            rejected = f"`{c['qual']}` is part of the `{c['module']}` module. {other['first']}"
        else:
            rejected = _VAGUE[k % len(_VAGUE)].format(m=c["module"])
        items.append((row(f"What does `{c['qual']}` do in Python?", chosen, rejected), None, None))
    items += [(row(i, a, a), "identical", None) for i, a in IDENTICAL]
    items += [(row(i, c, r), "near_identical", None) for i, c, r in NEAR_IDENTICAL]
    items += [(row(i, c, r, ctx), "empty", None) for i, ctx, c, r in EMPTY]
    for g, (instr, first, second) in enumerate(DUP_PROMPTS):
        items += [(row(instr, *first), "dup", g), (row(instr, *second), "dup", g)]
    rng.shuffle(items)
    planted: dict = {"identical": [], "near_identical": [], "empty": [], "duplicated_prompts": []}
    groups: dict[int, list[str]] = {}
    out = []
    for n, (r, kind, g) in enumerate(items, 1):
        r = {"id": f"pref-{n:03d}", **r}
        out.append(r)
        if kind == "dup":
            groups.setdefault(g, []).append(r["id"])
        elif kind:
            planted[kind].append(r["id"])
    planted["duplicated_prompts"] = sorted(groups.values())
    return out, planted


def build_seed() -> list[dict]:
    from _content_seed import SEEDS
    return [{"instruction": i, "context": c, "output": o, "category": cat} for cat, i, c, o in SEEDS]


def docstring_prose() -> list[str]:
    """Prose paragraphs (no code, no markup) from standard-library module and class docstrings."""
    import pkgutil
    import sysconfig
    import warnings
    skip = ("test", "idlelib", "tkinter", "turtle", "antigravity", "this", "lib2to3", "ensurepip", "pydoc")
    names = sorted(m.name for m in pkgutil.iter_modules([sysconfig.get_paths()["stdlib"]])
                   if not m.name.startswith("_") and not m.name.startswith(skip))
    seen, out = set(), []
    for name in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mod = importlib.import_module(name)
        except Exception:  # platform-specific modules
            continue
        objs = [mod] + [getattr(mod, n) for n in sorted(dir(mod)) if not n.startswith("_")
                        and inspect.isclass(getattr(mod, n, None)) and getattr(mod, n).__module__ == name]
        for obj in objs:
            for para in re.split(r"\n\s*\n", inspect.getdoc(obj) or ""):
                if any(line.startswith((" ", "\t", "-", "*", ">>>")) for line in para.splitlines()):
                    continue
                text = " ".join(para.split())
                upper = sum(ch.isupper() for ch in text) / max(1, len(text))
                if upper > 0.2 or re.search(r"(?i)copyright|licen[cs]e|warrant", text):
                    continue  # licence boilerplate
                if (len(text) < 200 or text in seen or not text[0].isupper() or not text.endswith(".")
                        or re.search(r"[{}\[\]|=<>`]|::|\(\)|__|\w+\.\w+\(|%", text)):
                    continue
                seen.add(text)
                out.append(text)
    return out


def build_raw_text() -> tuple[str, dict]:
    from _content_seed import PROSE
    hand = list(PROSE) + [p for p, _ in PASSAGES]
    derived = docstring_prose()
    text = "\n\n".join(hand + derived) + "\n"
    return text, {"hand_written_paragraphs": len(hand), "docstring_paragraphs": len(derived)}


def build_more(rng: random.Random, planted: dict, out: Path) -> None:
    ml, planted["multilingual.jsonl"] = build_multilingual(rng)
    write_jsonl(out, "multilingual.jsonl", ml)
    pref, planted["preference.jsonl"] = build_preference(rng)
    write_jsonl(out, "preference.jsonl", pref)
    write_jsonl(out, "seed_tasks.jsonl", build_seed())
    text, raw_stats = build_raw_text()
    (out / "raw_text.txt").write_text(text, encoding="utf-8")
    from _readme import build_readme
    (out / "README.md").write_text(build_readme(out, planted, raw_stats), encoding="utf-8")


