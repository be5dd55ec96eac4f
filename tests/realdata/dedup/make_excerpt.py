"""How the files beside this one were cut from their public sources (run once; kept to show the selection).

    python tests/realdata/dedup/make_excerpt.py FASTCHAT_CHECKOUT LLAMA_FACTORY_CHECKOUT

Rows are copied as they are in the source (no text edited), in source order:
- FastChat `data/dummy_conversation.json`: the first 300 conversations;
- LLaMA-Factory `data/alpaca_en_demo.json` and `data/alpaca_zh_demo.json`: the
  first 80 rows, plus every row whose instruction and input repeat another
  row's anywhere in the file (so each repeat keeps its partner);
- LLaMA-Factory `data/identity.json`: the whole file (91 rows).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent
FIRST = 80


def _show(repo: str, path: str) -> str:
    return subprocess.run(["git", "-C", repo, "show", f"HEAD:{path}"], check=True, capture_output=True,
                          text=True).stdout


def _write(name: str, rows: list) -> None:
    (HERE / name).write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _alpaca_excerpt(rows: list) -> list:
    by_prompt = defaultdict(list)
    for i, r in enumerate(rows):
        by_prompt[(r["instruction"], r.get("input", ""))].append(i)
    repeated = {i for group in by_prompt.values() if len(group) > 1 for i in group}
    return [r for i, r in enumerate(rows) if i < FIRST or i in repeated]


def main(fastchat: str, factory: str) -> None:
    _write("fastchat_dummy_conversation_300.json", json.loads(_show(fastchat, "data/dummy_conversation.json"))[:300])
    for code in ("en", "zh"):
        rows = json.loads(_show(factory, f"data/alpaca_{code}_demo.json"))
        _write(f"alpaca_{code}_demo_excerpt.json", _alpaca_excerpt(rows))
    _write("identity.json", json.loads(_show(factory, "data/identity.json")))


if __name__ == "__main__":
    main(*sys.argv[1:3])
