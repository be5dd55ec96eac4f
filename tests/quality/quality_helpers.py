"""Small datasets with known problems for the report tests, and helpers to read reports."""

from __future__ import annotations

import json
import random
from pathlib import Path

ADJ = ("quiet old bright narrow heavy gentle sharp distant golden hollow brave clever silent rapid "
       "ancient modern tiny vast humble proud").split()
NOUN = ("river garden teacher castle engine forest market window village bridge painter harbor "
        "library mountain orchard kitchen student soldier farmer island").split()
VERB = ("watches builds crosses paints follows repairs visits finds carries opens describes "
        "protects measures studies explores").split()

GERMAN = ("Der alte Fluss fließt langsam durch das stille Tal, und die Menschen im Dorf hören jeden Morgen "
          "das Rauschen des Wassers, bevor sie zur Arbeit auf die Felder gehen.")
REFUSAL = "As an AI language model, I cannot help with that request, but I can explain the general idea."
SECRET = "sk-abcdefghijklmnopqrstuvwxyz0123456789"


def sentence(rng: random.Random) -> str:
    return (f"The {rng.choice(ADJ)} {rng.choice(NOUN)} {rng.choice(VERB)} the {rng.choice(ADJ)} "
            f"{rng.choice(NOUN)} near the {rng.choice(NOUN)}.")


def base_rows(n: int = 50, seed: int = 1) -> list[dict]:
    """Distinct, clean English Dolly rows: no problem of any kind."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({
            "id": f"b-{i:03d}",
            "instruction": f"Describe what happens when {sentence(rng).lower().rstrip('.')}.",
            "context": "" if i % 3 else " ".join(sentence(rng) for _ in range(3)),
            "response": " ".join(sentence(rng) for _ in range(rng.randint(3, 6))),
            "category": ("open_qa", "brainstorming", "summarization")[i % 3],
        })
    return rows


def planted_rows() -> list[dict]:
    """Base rows plus one row (or group) per problem the report must find, ids saying which."""
    rows = base_rows()
    by_id = {r["id"]: r for r in rows}

    def copy(src: str, new_id: str, **changes) -> dict:
        row = dict(by_id[src], id=new_id)
        row.update(changes)
        return row

    rng = random.Random(99)
    long_text = " ".join(sentence(rng) for _ in range(8))
    rows += [
        copy("b-003", "dup-1"), copy("b-007", "dup-2"), copy("b-007", "dup-3"),
        copy("b-010", "near-1", response=by_id["b-010"]["response"].replace("The ", "A ", 1)),
        copy("b-011", "empty-1", response=""), copy("b-012", "blank-1", response="   \n "),
        copy("b-013", "refuse-1", response=REFUSAL),
        copy("b-014", "cut-1", response=long_text + " Then the old committee finally decided that the new bridge"),
        copy("b-015", "fence-1", response="Here is the program you asked for:\n```python\nfor i in range(3):\n"
                                          "    print(i)\n"),
        copy("b-016", "ph-1", response="Dear {{customer_name}}, thank you for your order. " + long_text),
        copy("b-017", "html-1", response="<p>The answer is <b>forty-two</b>.</p> " + long_text),
        copy("b-018", "pii-1", response="Write to john.doe@gmail.com for details. " + long_text),
        copy("b-019", "docmail-1", response="Write to alex@example.com for details. " + long_text),
        copy("b-020", "secret-1", response=f"Use the key {SECRET} in the header. " + long_text),
        copy("b-021", "rep-1", response="I am so sorry about that. " * 15),
        copy("b-022", "long-1", context=" ".join(sentence(rng) for _ in range(400))),  # a long document
        copy("b-023", "lang-1", response=GERMAN),
    ]
    return rows


def write_jsonl(path: Path, rows: list) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


def finding(report: dict, code: str) -> dict | None:
    return next((f for f in report["findings"] if f["code"] == code), None)
