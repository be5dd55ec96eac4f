"""Mutation testing per area with mutmut 3: `make mutation [AREA=io] [LABEL=after]`.

Each area mutates a few core modules (AREAS below) and runs the tests that exercise them. The run
happens in a staging folder (bench/_work/mutation/AREA, git-ignored) that holds a snapshot of
dataforge/ and tests/ and a pyproject.toml whose [tool.mutmut] table is the repository's plus this
area's modules and tests, so several areas never share mutmut's state, and edits made to the
checkout while a run goes on do not reach it. mutmut copies that snapshot to mutants/, plants every
mutant behind a trampoline and, per mutated function, runs only the tests that called it.

Tests that run `python -m dataforge` in a subprocess import the installed (unmutated) package, except
when the subprocess starts in mutants/ (pytest's working folder), where it imports the mutated copy,
which fails in mutmut's stats mode: such test files are left out of the areas. mutmut only learns which tests cover a function from calls made in the pytest process
itself anyway, so a function reached only through a subprocess counts as "no tests" (not killed).

Score = killed / planted, per module; a timeout counts as killed (the mutant made the tests hang);
"no tests", "survived" and "suspicious" count as not killed. The per-module table and every survivor
(with its one-line diff) go to bench/RESULTS-mutation.md; one line per area to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work" / "mutation"
RESULTS = ROOT / "bench" / "RESULTS-mutation.md"
SUMMARY = ROOT / "bench" / "RESULTS.md"

# area -> (modules mutated, tests run). The modules are the ones most commands depend on; the tests
# are the files of the mirroring folder that call them in-process (see the module docstring).
AREAS: dict[str, tuple[list[str], list[str]]] = {
    "io": (
        ["dataforge/io/rowmap.py", "dataforge/io/atomic.py"],
        # not test_io_ids_inspect.py or tests/safety/test_outputs.py: their `python -m dataforge` runs start in
        # mutants/ and import the mutated copy, which fails in mutmut's stats mode there
        ["tests/io/test_io_bad_input.py", "tests/io/test_io_shapes.py", "tests/io/test_io_filetypes.py",
         "tests/io/test_io_chat_formats.py", "tests/io/test_atomic_failures.py", "tests/io/test_rowmap_fields.py"],
    ),
    "dedup": (
        ["dataforge/dedup/resolve.py"],
        ["tests/dedup/test_near.py", "tests/dedup/test_exact_keys.py", "tests/dedup/test_same_passage.py",
         "tests/dedup/test_decont_kinds.py", "tests/dedup/test_dedup_cli.py", "tests/dedup/test_threshold_boundaries.py"],
    ),
    "translate": (
        ["dataforge/translate/protect.py"],
        ["tests/translate/test_translate_protect.py", "tests/translate/test_translate_checks.py",
         "tests/translate/test_protect_spans.py"],
    ),
    "formatting": (
        ["dataforge/formatting/tokens.py"],
        ["tests/formatting/test_format_tokens.py", "tests/formatting/test_token_boundaries.py"],
    ),
    "templates": (
        ["dataforge/templates/limits.py"],
        ["tests/templates/test_sandbox_limits.py", "tests/templates/test_limit_boundaries.py"],
    ),
    "llm": (
        ["dataforge/llm/journal.py", "dataforge/llm/limits.py", "dataforge/llm/breaker.py"],
        ["tests/llm/test_journal_limits.py", "tests/llm/test_breaker_secrets.py", "tests/llm/test_runner.py",
         "tests/llm/test_journal_states.py", "tests/llm/test_retry_and_breaker_values.py",
         # 2-4 s each and covering nearly every function: kept out so a run fits in minutes on 2 shared cores
         "--deselect", "tests/llm/test_runner.py::test_no_row_lost_or_duplicated_under_every_fault",
         "--deselect", "tests/llm/test_runner.py::test_sliding_window_does_not_wait_for_the_slowest",
         "--deselect", "tests/llm/test_breaker_secrets.py::test_a_run_against_a_dead_address_raises_serverunusable_quickly"],
    ),
    "train": (
        ["dataforge/train/data.py", "dataforge/train/memory.py"],
        ["tests/train/test_data.py", "tests/train/test_prompt_mask.py", "tests/train/test_memory.py",
         "tests/train/test_memory_values.py"],
    ),
    "quality": (
        ["dataforge/quality/repetition.py", "dataforge/quality/lengths.py"],
        ["tests/quality/test_units.py", "tests/quality/test_signal_values.py"],
    ),
    "eval": (
        ["dataforge/eval/metrics.py"],
        ["tests/eval/test_metrics.py", "tests/eval/test_metric_values.py"],
    ),
}

# The test files written to kill the survivors of the first runs (issue 17); --without-kill-tests leaves them
# out (empty), which is how the "before" scores were measured.
KILL_TESTS = {
    "tests/io/test_atomic_failures.py", "tests/io/test_rowmap_fields.py", "tests/dedup/test_threshold_boundaries.py",
    "tests/translate/test_protect_spans.py", "tests/formatting/test_token_boundaries.py",
    "tests/templates/test_limit_boundaries.py", "tests/llm/test_journal_states.py",
    "tests/llm/test_retry_and_breaker_values.py", "tests/train/test_prompt_mask.py",
    "tests/quality/test_signal_values.py", "tests/eval/test_metric_values.py", "tests/train/test_memory_values.py",
}

KILLED = {"killed", "timeout", "segfault", "caught by type check"}


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def stage(area: str, without_kill_tests: bool = False) -> Path:
    """A fresh snapshot of the code and tests with this area's mutmut config."""
    modules, tests = AREAS[area]
    here = WORK / area
    if here.exists():
        shutil.rmtree(here)
    here.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "dataforge", here / "dataforge", ignore=ignore)
    shutil.copytree(ROOT / "tests", here / "tests", ignore=ignore)
    for t in tests:  # a kill-test file not written yet, or left out for a "before" run: empty, so --resume fills it
        if t.endswith(".py") and (not (here / t).exists() or (without_kill_tests and t in KILL_TESTS)):
            (here / t).write_text("")
    for extra in ("sample_data", "recipes"):
        (here / extra).symlink_to(ROOT / extra)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pytest_cfg = dict(project["tool"]["pytest"]["ini_options"])
    pytest_cfg.pop("testpaths", None)
    cfg = dict(project["tool"].get("mutmut", {}))
    cfg["only_mutate"] = modules
    cfg["pytest_add_cli_args_test_selection"] = tests
    cfg["pytest_add_cli_args"] = cfg.get("pytest_add_cli_args", []) + ["-p", "mutation_cache"]
    lines = ["[tool.pytest.ini_options]"] + [f"{k} = {toml_value(v)}" for k, v in pytest_cfg.items()]
    lines += ["", "[tool.mutmut]"] + [f"{k} = {toml_value(v)}" for k, v in cfg.items()]
    (here / "pyproject.toml").write_text("\n".join(lines) + "\n")
    # mutmut fills mutants/ later and puts it first on sys.path; made now, so a path cache never holds it missing
    (here / "mutants").mkdir()
    return here


def run_area(area: str, resume: bool = False, sample: int = 0, without_kill_tests: bool = False) -> dict:
    """Plant and run every mutant; with resume, keep the last run's snapshot and results, bring in the
    current test files, and rerun only the mutants it did not kill (tests added cannot revive a killed one)."""
    here = WORK / area
    names: list[str] = []
    if resume and (here / "mutants").is_dir():
        for t in AREAS[area][1]:
            if t.endswith(".py") and (ROOT / t).exists():
                shutil.copy2(ROOT / t, here / t)  # mutmut copies tests/ into mutants/ on every run
        for module in AREAS[area][0]:
            names += [n for n, c in _codes(here, module).items() if c is not None and status(c) not in KILLED]
        if not names:
            return collect(area, here, 0, 0.0, (os.getloadavg(), os.getloadavg()), "")
    else:
        here = stage(area, without_kill_tests)
    mutmut = [sys.executable, "-m", "mutmut"]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tools"), OMP_NUM_THREADS="1",
               TOKENIZERS_PARALLELISM="false", MUTATION_TINY_CACHE=str(WORK / "_tiny"))
    load_before = os.getloadavg()
    t0 = time.monotonic()
    log = here / "mutmut.log"
    planted, step = 0, 1
    if not names and sample:
        # plant them all and collect which tests call what, but run none (the filter matches nothing and
        # mutmut stops there); then run an evenly spread sample of `sample` mutants by name
        with open(here / "mutmut-plant.log", "w") as out:
            subprocess.run(mutmut + ["run", "--max-children", "1", "no-such-mutant"], cwd=here, env=env,
                           stdout=out, stderr=subprocess.STDOUT)
        every = [n for module in AREAS[area][0] for n in _codes(here, module)]
        planted = len(every)
        step = max(1, -(-planted // sample))
        names = every[::step]
    with open(log, "w") as out:
        proc = subprocess.run(mutmut + ["run", "--max-children", "1", *names], cwd=here, env=env, stdout=out,
                              stderr=subprocess.STDOUT)
    wall = time.monotonic() - t0
    tail = log.read_text()[-1500:] if proc.returncode else ""
    note = (f"ran an evenly spread sample: every {step}th of the {planted} mutants planted ({len(names)})"
            if planted and step > 1 else f"reran the {len(names)} mutants the last run did not kill" if resume
            else "")
    return collect(area, here, proc.returncode, wall, (load_before, os.getloadavg()), tail, note)


def _codes(here: Path, module: str) -> dict:
    meta = here / "mutants" / (module + ".meta")
    return json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}


def collect(area, here, rc, wall, load, tail, note="") -> dict:
    modules = {}
    for module in AREAS[area][0]:
        meta = here / "mutants" / (module + ".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        modules[module] = {name: status(code) for name, code in codes.items() if code is not None}  # None: not sampled
    survivors = {m: [n for n, s in st.items() if s not in KILLED] for m, st in modules.items()}
    diffs = {}
    for module, names in survivors.items():
        for name in names:
            diffs[name] = changed_lines(diff_of(here, name, module))
    return {"area": area, "rc": rc, "wall_s": round(wall), "load": list(load), "note": note,
            "modules": modules, "diffs": diffs, "tests": AREAS[area][1],
            "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "log_tail": tail}


def diff_of(here: Path, name: str, module: str) -> str:
    """mutmut's diff for one mutant, in this process (`mutmut show` costs a second of start-up each)."""
    from mutmut.configuration import reset_config
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    cwd = Path.cwd()
    os.chdir(here)
    try:
        reset_config()
        return get_diff_for_mutant(name, path=module)
    except Exception as e:  # a diff is only for the reader; never lose the scores over it
        return f"-(no diff: {e})"
    finally:
        os.chdir(cwd)


def status(code) -> str:
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[code]


def changed_lines(diff: str) -> str:
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return f"`{' / '.join(minus)[:140]}` → `{' / '.join(plus)[:140]}`"


def score(statuses: dict) -> tuple[int, int]:
    return sum(s in KILLED for s in statuses.values()), len(statuses)


def section(res: dict, label: str) -> str:
    killed = sum(score(st)[0] for st in res["modules"].values())
    total = sum(score(st)[1] for st in res["modules"].values())
    pct = f"{100 * killed / total:.0f}%" if total else "n/a"
    lb, la = res["load"]
    out = [f"### {res['area']} ({label}): {killed}/{total} killed ({pct})", "",
           f"{res['when']}, {res['wall_s']} s wall, mutmut 3.8.1, one worker, load average "
           f"{lb[0]:.1f} before / {la[0]:.1f} after. Tests: {', '.join('`%s`' % t for t in res['tests'])}."
           + (f" This run {res['note']}." if res["note"] else ""), ""]
    if res["rc"]:
        out += [f"mutmut exited {res['rc']}; end of its log:", "", "```", res["log_tail"], "```", ""]
    out += ["| module | killed / planted | score | not killed (by status) |", "|---|---|---|---|"]
    for module, st in res["modules"].items():
        k, n = score(st)
        why = Counter(s for s in st.values() if s not in KILLED)
        out.append(f"| `{module}` | {k} / {n} | {100 * k / n:.0f}% | "
                   f"{', '.join(f'{c} {s}' for s, c in why.items()) or '—'} |" if n else f"| `{module}` | 0 / 0 | — | — |")
    out.append("")
    for module, st in res["modules"].items():
        names = [n for n, s in st.items() if s not in KILLED]
        if not names:
            continue
        out += [f"<details><summary>{module}: {len(names)} not killed</summary>", ""]
        out += [f"- `{n.split('.')[-1]}` ({st[n]}): {res['diffs'].get(n, '')}" for n in names]
        out += ["", "</details>", ""]
    return "\n".join(out)


def replace_block(text: str, key: str, body: str, inline: bool = False) -> str:
    start, end = f"<!-- mutation:{key} -->", f"<!-- /mutation:{key} -->"
    block = f"{start}{body}{end}" if inline else f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip("\n") + "\n\n" + block + "\n"


def summary(text: str) -> str:
    """A table of every area's latest score per label, from the section headings already in the file."""
    found: dict[str, dict[str, str]] = {}
    for area, label, k, n, pct in re.findall(r"^### (\w+) \((\w+)\): (\d+)/(\d+) killed \(([^)]*)\)", text, re.M):
        found.setdefault(area, {})[label] = f"{k}/{n} ({pct})"
    labels = [lb for lb in ("before", "after", "latest") if any(lb in v for v in found.values())]
    rows = ["| area | modules mutated | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
    for area in AREAS:
        if area in found:
            mods = ", ".join(f"`{Path(m).name}`" for m in AREAS[area][0])
            rows.append(f"| {area} | {mods} | " + " | ".join(found[area].get(lb, "—") for lb in labels) + " |")
    return "\n".join(rows)


def record(res: dict, label: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    text = replace_block(text, f"{res['area']}:{label}", section(res, label))
    if "<!-- mutation:summary -->" not in text:  # the table goes right after the header
        head, sep, rest = text.partition("\n<!-- mutation:")
        text = head.rstrip("\n") + "\n\n<!-- mutation:summary -->\n<!-- /mutation:summary -->\n" + sep + rest
    RESULTS.write_text(replace_block(text, "summary", summary(text)))
    killed = sum(score(st)[0] for st in res["modules"].values())
    total = sum(score(st)[1] for st in res["modules"].values())
    pct = f"{100 * killed / total:.0f}%" if total else "n/a"
    line = (f"- mutation **{res['area']}** ({label}, {res['when']}, load {res['load'][0][0]:.1f}): "
            f"{killed}/{total} killed ({pct}) in {', '.join(Path(m).name for m in res['modules'])} "
            f"— [RESULTS-mutation.md](RESULTS-mutation.md)")
    text = SUMMARY.read_text()
    if "<!-- mutation:" not in text:
        text = text.rstrip("\n") + "\n\n## Mutation testing\n\nKilled / planted mutants per area (`make mutation`)." \
            " One worker under nice; details, survivors and the exact modules in RESULTS-mutation.md.\n"
    SUMMARY.write_text(replace_block(text, f"{res['area']}:{label}", line, inline=True))


HEADER = """# Mutation testing

`make mutation` (all areas) or `make mutation AREA=io` runs `tools/mutation.py`: mutmut 3.8.1 plants
small faults (flipped comparisons, changed constants, dropped arguments, ...) one at a time in the
core modules listed per area below and runs that area's tests against each. A mutant is *killed*
when some test fails (or hangs past mutmut's timeout). Scores are killed / planted per module;
survivors are listed with the line they change. Each run uses one worker under `nice`; the
machine's load average is given per run. "before" = the suite as it was when the target was
built; "after" = with the tests written to kill survivors.
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("areas", nargs="*", help=f"default: all of {', '.join(AREAS)}")
    ap.add_argument("--label", default="latest", help="which column this run is (before, after, latest)")
    ap.add_argument("--resume", action="store_true", help="rerun only the last run's survivors, with today's tests")
    ap.add_argument("--without-kill-tests", action="store_true", help="leave out KILL_TESTS (the 'before' run)")
    ap.add_argument("--sample", type=int, default=150, help="run at most about this many mutants per area, evenly"
                    " spread (0: all)")
    args = ap.parse_args()
    for area in args.areas or list(AREAS):
        if area not in AREAS:
            sys.exit(f"unknown area {area!r}; one of {', '.join(AREAS)}")
        res = run_area(area, resume=args.resume, sample=args.sample, without_kill_tests=args.without_kill_tests)
        record(res, args.label)
        killed = sum(score(st)[0] for st in res["modules"].values())
        total = sum(score(st)[1] for st in res["modules"].values())
        print(f"{area}: {killed}/{total} killed, {res['wall_s']} s (mutmut rc {res['rc']})", flush=True)


if __name__ == "__main__":
    main()
