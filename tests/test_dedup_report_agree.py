"""`dedup` and `report` agree on real files, and default dedup never removes a row for its prompt alone.

The files are excerpts of public datasets (tests/realdata/dedup/README.md).
Expected counts are pinned per file: before the whole-example key, dedup
removed 197 of the 300 FastChat rows as "exact duplicates" while report said
0, and the two counted near duplicates with different settings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dataforge.cli.main import cli
from dataforge.dedup import dedup
from dataforge.progress import set_quiet
from dataforge.quality import build_report

REAL = Path(__file__).parent / "realdata" / "dedup"
# file -> (exact, near, same prompt) that dedup with default settings finds
EXPECTED = {
    # 33 near before prompts had to ask the same question: "Tell me about yourself." (3 words apart on
    # each side from "Can you introduce yourself?") is now kept, and counted as same prompt as an earlier row
    "fastchat_dummy_conversation_300.json": (0, 32, 174),
    "alpaca_en_demo_excerpt.json": (14, 0, 0),
    "alpaca_zh_demo_excerpt.json": (8, 0, 0),
    "identity.json": (0, 1, 3),
}


@pytest.fixture(autouse=True)
def _quiet():
    set_quiet(True)
    yield
    set_quiet(False)


def _jsonl(path) -> list[dict]:
    path = Path(path)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def _answers(row: dict) -> list[list[str]]:
    """Every answer of a written row (Alpaca output, ShareGPT gpt turns) as casefolded words; independent of dataforge."""
    if "conversations" in row:
        texts = [t["value"] for t in row["conversations"] if t["from"] == "gpt"]
    else:
        texts = [row.get("output", row.get("response", ""))]
    return [re.findall(r"\w+", t.casefold()) for t in texts]


def _dedup(tmp_path, src, **options):
    out, clusters = tmp_path / "out.jsonl", tmp_path / "clusters.jsonl"
    s = dedup([src], out, clusters=clusters, **options)
    assert s.rows_in == s.rows_out + s.rejected
    return s, _jsonl(out), _jsonl(str(out) + ".rejects.jsonl"), _jsonl(clusters)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dedup_and_report_agree_on_real_files(tmp_path, name):
    src = REAL / name
    s, kept, rejects, clusters = _dedup(tmp_path, src)
    assert (s.exact_duplicates, s.near_duplicates, s.same_prompt) == EXPECTED[name]
    d = build_report(str(src), sample=20)["duplicates"]
    assert (d["dedup"]["exact"], d["dedup"]["near"], d["dedup"]["same_prompt"]) == EXPECTED[name]
    assert (d["exact"]["removable"], d["near"]["removable"]) == EXPECTED[name][:2]
    assert d["dedup"]["line"].startswith(f"dedup with default settings would remove {EXPECTED[name][0]} exact and"
                                         f" {EXPECTED[name][1]} near duplicates; {EXPECTED[name][2]} rows share")
    # the same rows, not only the same numbers: each near cluster is a kept row and the rows removed for it
    near_dedup = sorted(sorted([c["kept"]] + [r["id"] for r in c["removed"] if r["match"] == "near"])
                        for c in clusters if any(r["match"] == "near" for r in c["removed"]))
    assert sorted(map(sorted, d["near"]["clusters_listed"])) == near_dedup


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_default_dedup_removes_no_row_whose_answer_differs_from_the_kept_row(tmp_path, name):
    s, kept, rejects, _ = _dedup(tmp_path, REAL / name)
    by_id = {r["id"]: r for r in kept}
    assert len(rejects) == s.exact_duplicates + s.near_duplicates
    for reject in rejects:
        other = re.match(r"(?:exact|near) duplicate of '([^']+)'", reject["reason"]).group(1)
        assert _answers(reject["row"]) == _answers(by_id[other]), (reject["id"], other)


@pytest.mark.parametrize("name", ["fastchat_dummy_conversation_300.json", "identity.json"])
def test_key_prompt_still_removes_rows_that_share_a_prompt(tmp_path, name):
    s, kept, _, clusters = _dedup(tmp_path, REAL / name)
    same = {x["id"] for c in clusters for x in c.get("same_prompt", [])}
    assert len(same) == s.same_prompt > 0 and same <= {r["id"] for r in kept}
    p, _, rejects, _ = _dedup(tmp_path / "p", REAL / name, key="prompt", exact=True)
    assert same <= {r["id"] for r in rejects} and p.same_prompt == 0
    assert p.exact_duplicates > s.exact_duplicates + s.near_duplicates


def _words(seed: int, n: int) -> str:
    import random

    rng = random.Random(seed)
    return " ".join(rng.choice(["ka", "lo", "mi", "ren", "to", "sa", "vel", "dun"]) + rng.choice(["", "n", "s", "t"])
                    + str(rng.randrange(1000)) for _ in range(n))


def test_the_threshold_is_inclusive_in_both_commands(tmp_path):
    """A pair at exactly --threshold is a near duplicate for dedup and for report; one just below is not."""
    at = _words(1, 47)  # + the answer "ok fine": 49 tokens, 45 word 5-grams
    at2 = " ".join(w if i != 23 else "changed" for i, w in enumerate(at.split()))  # 40 of 50 shared: 0.8
    below = _words(2, 46)  # 48 tokens: 39 of 49 shared
    below2 = " ".join(w if i != 23 else "changed" for i, w in enumerate(below.split()))
    rows = [{"id": i, "instruction": t, "input": "", "output": "ok fine"}
            for i, t in (("at", at), ("at2", at2), ("below", below), ("below2", below2))]
    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    s, kept, rejects, _ = _dedup(tmp_path, src)
    assert [r["id"] for r in kept] == ["at", "below", "below2"] and s.near_duplicates == 1
    d = build_report(str(src), sample=4)["duplicates"]
    assert d["near"]["clusters_listed"] == [["at", "at2"]] and d["near"]["example_pairs"][0]["jaccard"] == 0.8
    assert d["dedup"]["near"] == 1 and d["dedup"]["exact"] == 0


def test_the_commands_say_what_dedup_would_remove(tmp_path):
    src = str(REAL / "identity.json")
    out = CliRunner().invoke(cli, ["report", src, "-o", str(tmp_path / "r.html"), "--sample", "10"])
    assert out.exit_code == 0, out.output
    flat = " ".join(out.output.split())
    assert "dedup with default settings would remove 0 exact and 1 near duplicates; 3 rows share a prompt" in flat
    out = CliRunner().invoke(cli, ["dedup", src, "-o", str(tmp_path / "d.jsonl")])
    assert out.exit_code == 0, out.output
    assert "0 exact duplicates, 1 near duplicates" in out.output
    assert "note: 3 kept rows have the same prompt as an earlier row" in out.output


def test_preference_data_is_compared_on_the_prompt_by_both(tmp_path):
    """Preference pairs for the same prompt are duplicates for both commands; unreadable pairs count for neither."""
    src = Path(__file__).parent.parent / "sample_data" / "preference.jsonl"
    s, _, rejects, _ = _dedup(tmp_path, src)
    assert s.rejected_on_read == 2 and s.same_prompt == 0  # an empty chosen, an empty rejected
    d = build_report(str(src), sample=10)["duplicates"]
    assert d["dedup"]["key"] == "prompt" and d["dedup"]["not_read"] == 2
    assert (d["dedup"]["exact"], d["dedup"]["near"], d["dedup"]["same_prompt"]) == (
        s.exact_duplicates, s.near_duplicates, 0) and s.exact_duplicates > 0
    removed = {r["id"] for r in rejects if "duplicate of" in r["reason"]}
    listed = {i for g in d["exact"]["groups_listed"] for i in g[1:]}
    assert removed == listed
