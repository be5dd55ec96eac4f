"""How the files beside this one were cut from their public sources (run once; kept to show the selection).

    python tests/realdata/langid/make_excerpt.py LINGUA_PY_CHECKOUT LLAMA_FACTORY_CHECKOUT

Takes a seeded random sample of sentences per language from lingua-py's
`language-testdata/sentences/` (Leipzig Wortschatz sentences) and the first
rows of LLaMA-Factory's alpaca demos. Nothing is edited: each text is copied
as it is in the source, with the file and line it came from.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
PER_LANG = 30
ROWS = 40
# lingua's file name -> our code (langdetect says "no" for Norwegian Bokmål)
LANGS = {c: c for c in ("af ar bg bn ca cs cy da de el en es et fa fi fr gu he hi hr hu hy id it ja ka ko lt lv mk "
                         "mr nl pa pl pt ro ru sk sl so sq sv sw ta te th tl tr uk ur vi zh").split()}
LANGS["nb"] = "no"


def _show(repo: str, path: str) -> str:
    return subprocess.run(["git", "-C", repo, "show", f"HEAD:{path}"], check=True, capture_output=True,
                          text=True).stdout


def _commit(repo: str) -> str:
    return subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()


def main(lingua: str, factory: str) -> None:
    out = []
    for name, code in sorted(LANGS.items()):
        path = f"language-testdata/sentences/{name}.txt"
        lines = _show(lingua, path).splitlines()
        picked = sorted(random.Random(f"langid-{name}").sample(range(len(lines)), PER_LANG))
        out += [{"lang": code, "text": lines[i], "source": f"lingua-py:{path}:{i + 1}"} for i in picked]
    for code in ("zh", "en"):
        path = f"data/alpaca_{code}_demo.json"
        rows = json.loads(_show(factory, path))[:ROWS]
        (HERE / f"alpaca_{code}_demo_{ROWS}.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n",
                                                               encoding="utf-8")
        out += [{"lang": code, "text": r["instruction"], "source": f"LLaMA-Factory:{path}:row {i}:instruction"}
                for i, r in enumerate(rows)]
    with open(HERE / "sentences.jsonl", "w", encoding="utf-8") as f:
        for row in out:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(out)} texts; lingua-py {_commit(lingua)}, LLaMA-Factory {_commit(factory)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
