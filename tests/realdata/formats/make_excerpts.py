"""How the files beside this one were cut from their public sources (run once; kept to show the selection).

    python tests/realdata/formats/make_excerpts.py MIRROR_DIR

MIRROR_DIR holds bare clones named OWNER+NAME/repo (hiyouga+LLaMA-Factory,
anthropics+hh-rlhf, yizhongw+self-instruct). Rows are copied byte for byte
from the source, in source order: a file over BUDGET bytes keeps only its
first rows (never more than 200), so no text is edited. The OpenAI cookbook
files were read through the code index (the repository is too large to
clone here) and are checked against their known sizes in README.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BUDGET = 280_000
MAX_ROWS = 200

# (repository, path in it, file written here)
JSON_ARRAYS = [
    ("hiyouga+LLaMA-Factory", "data/dpo_en_demo.json", "llamafactory/dpo_en_demo.json"),
    ("hiyouga+LLaMA-Factory", "data/dpo_zh_demo.json", "llamafactory/dpo_zh_demo.json"),
    ("hiyouga+LLaMA-Factory", "data/glaive_toolcall_en_demo.json", "llamafactory/glaive_toolcall_en_demo.json"),
    ("hiyouga+LLaMA-Factory", "data/glaive_toolcall_zh_demo.json", "llamafactory/glaive_toolcall_zh_demo.json"),
    ("hiyouga+LLaMA-Factory", "data/kto_en_demo.json", "llamafactory/kto_en_demo.json"),
    ("hiyouga+LLaMA-Factory", "data/identity.json", "llamafactory/identity.json"),
]
LINES = [
    ("hiyouga+LLaMA-Factory", "data/c4_demo.jsonl", "llamafactory/c4_demo.jsonl"),
    ("hiyouga+LLaMA-Factory", "data/wiki_demo.txt", "llamafactory/wiki_demo.txt"),
    ("hiyouga+LLaMA-Factory", "data/v1_sft_demo.jsonl", "llamafactory/v1_sft_demo.jsonl"),
    ("hiyouga+LLaMA-Factory", "data/v1_dpo_demo.jsonl", "llamafactory/v1_dpo_demo.jsonl"),
    ("hiyouga+LLaMA-Factory", "data/reason_tool_use_demo_50.jsonl", "llamafactory/reason_tool_use_demo_50.jsonl"),
    ("anthropics+hh-rlhf", "harmless-base/test.jsonl.gz", "hh-rlhf/harmless-base-test.jsonl"),
    ("yizhongw+self-instruct", "data/seed_tasks.jsonl", "self-instruct/seed_tasks.jsonl"),
    ("yizhongw+self-instruct", "human_eval/user_oriented_instructions.jsonl",
     "self-instruct/user_oriented_instructions.jsonl"),
    ("yizhongw+self-instruct", "data/finetuning/t0_train_50k/data_per_template/ag_news_classify.jsonl",
     "self-instruct/t0_ag_news_classify.jsonl"),
    ("yizhongw+self-instruct",
     "data/finetuning/t0_train_50k/data_per_template/adversarial_qa_dbidaf_answer_the_following_q.jsonl",
     "self-instruct/t0_adversarial_qa_dbidaf_answer_the_following_q.jsonl"),
]
WHOLE = [("hiyouga+LLaMA-Factory", "data/dataset_info.json", "llamafactory/dataset_info.json")]


def show(mirror: Path, repo: str, path: str) -> bytes:
    data = subprocess.run(["git", "--git-dir", str(mirror / repo / "repo"), "show", f"HEAD:{path}"],
                          check=True, capture_output=True).stdout
    if path.endswith(".gz"):
        import gzip

        data = gzip.decompress(data)
    return data


def first_rows(rows: list, size) -> list:
    kept, total = [], 0
    for row in rows[:MAX_ROWS]:
        total += size(row)
        if total > BUDGET and kept:
            break
        kept.append(row)
    return kept


def main(mirror: str) -> None:
    root = Path(mirror)
    for repo, path, name in JSON_ARRAYS:
        rows = json.loads(show(root, repo, path))
        kept = first_rows(rows, lambda r: len(json.dumps(r, ensure_ascii=False).encode()))
        out = HERE / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(kept, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"{name}: {len(kept)} of {len(rows)} rows")
    for repo, path, name in LINES:
        lines = show(root, repo, path).splitlines(keepends=True)
        kept = first_rows(lines, len)
        out = HERE / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"".join(kept))
        print(f"{name}: {len(kept)} of {len(lines)} lines")
    for repo, path, name in WHOLE:
        (HERE / name).write_bytes(show(root, repo, path))


if __name__ == "__main__":
    main(sys.argv[1])
