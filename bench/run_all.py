"""Run every benchmark in bench/ one after another (`make bench`; `make bench ARGS=--quick` for small runs).

Each script runs dataforge and its peer side by side in one process tree and
prints ratios; the figures recorded so far are in bench/RESULTS.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    only = [a for a in argv if not a.startswith("-")]
    flags = [a for a in argv if a.startswith("-")]
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        print(f"\n=== {script.name} {' '.join(flags)}", flush=True)
        if subprocess.call([sys.executable, str(script), *flags]) != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
