"""Helpers shared by the translate tests (imported by name: no `from conftest import`)."""

from __future__ import annotations

import json
from pathlib import Path

CANARY_KEY = "sk-canary-7f3a9c1e5b2d4f60"

TOPICS = ["the sea", "a lighthouse", "a volcano", "the harbour", "an old castle", "a quiet forest", "the desert",
          "a busy market", "the northern lights", "a mountain lake"]


def dolly_rows(topics=TOPICS) -> list[dict]:
    return [{"id": f"row-{i}",
             "instruction": f"Write friendly message number {i} to {{name}} about {topic} and link the page "
                            f"https://example.com/{i}.",
             "context": "" if i % 2 else f"The reader lives near {topic} and likes long walks every morning.",
             "response": f"Dear {{name}}, this is a short note about {topic} for you. Run `make docs` to see more."
                         f"\n```bash\necho {i}\n```",
             "category": "creative_writing"} for i, topic in enumerate(topics)]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    if not Path(path).exists():
        return []
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
