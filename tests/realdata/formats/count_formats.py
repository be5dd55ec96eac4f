"""Per-file counts from the CLI, as a new user would get them: `inspect --json` and a default `convert`.

    python tests/realdata/formats/count_formats.py OUT.json [EXTRA_ARGS_JSON]

Run from the repository root with the dataforge to measure first on PYTHONPATH.
The numbers before and after issue 13 are in tests/realdata/README.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
FILES = sorted(str(p.relative_to(HERE.parent.parent.parent)) for p in HERE.rglob("*")
               if p.is_file() and p.suffix in (".json", ".jsonl", ".txt") and p.name != "dataset_info.json"
               and not p.name.startswith("counts_"))
FILES.append("tests/realdata/dedup/fastchat_dummy_conversation_300.json")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dataforge", "-q", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "NO_COLOR": "1"})


def one(path: str, extra: list[str]) -> dict:
    out: dict = {"file": path, "args": extra}
    res = run("inspect", path, "--json", *extra)
    if res.returncode == 0:
        data = json.loads(res.stdout)
        out.update(shape=data["shape"], kind=data["kind"], rows=data["rows"], good=data["good"],
                   rejected=data["rejected"], reasons=data["reject_reasons"])
    else:
        out["inspect_error"] = (res.stderr.strip().splitlines() or ["?"])[0][:300]
    with tempfile.TemporaryDirectory() as tmp:
        res = run("convert", path, "-o", f"{tmp}/out.jsonl", *extra)
        out["convert"] = (res.stdout.strip().splitlines() or res.stderr.strip().splitlines() or ["?"])[0][:300]
        out["convert_exit"] = res.returncode
    return out


def main(target: str, extra_json: str = "{}") -> None:
    extra = json.loads(extra_json)  # {file: [args]} for files that need options (e.g. --map)
    rows = [one(f, extra.get(f, [])) for f in FILES]
    Path(target).write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for r in rows:
        print(f"{r['file']}: {r.get('shape', '-')} rows={r.get('rows', '-')} good={r.get('good', '-')}"
              f" rejected={r.get('rejected', '-')} {r.get('inspect_error', '')} | {r['convert']}")


if __name__ == "__main__":
    main(*sys.argv[1:])
