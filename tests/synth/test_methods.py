"""Every method produces valid rows with lineage from the scripted model, and rejects what it cannot use."""

from __future__ import annotations

import itertools

import pytest
from fake_model import fake_model
from synth_helpers import CANARY_KEY, passages, read_jsonl, write_jsonl

from dataforge.io import read_dataset
from dataforge.llm.loopback import Fault
from dataforge.synth.evol import OPERATIONS
from dataforge.synth.rouge import rouge_l

SEEDS = [
    {"instruction": "Explain why the sky looks blue during the day.", "output": "Rayleigh scattering."},
    {"instruction": "Write a haiku about autumn leaves falling.", "output": "..."},
    {"instruction": "List three uses of baking soda at home.", "output": "..."},
    {"instruction": "Translate 'good morning' into French and Spanish.", "output": "..."},
    {"instruction": "Summarize the plot of Romeo and Juliet in one sentence.", "output": "..."},
    {"instruction": "Give two arguments for and against school uniforms.", "output": "..."},
]


def kinds_ok(path, kind, count):
    ds = read_dataset(str(path))
    rows = list(ds)
    assert ds.kind == kind and len(rows) == count and ds.stats.rejected == 0
    return rows


def test_self_instruct_rows_are_novel_and_answered(serve, synth, tmp_path):
    srv = serve()
    seeds = write_jsonl(tmp_path / "seeds.jsonl", SEEDS)
    out = tmp_path / "si.jsonl"
    result = synth(srv, "self-instruct", seeds, "-o", out, "-n", 12, "--per-prompt", 5, "--seed", 3)
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    kinds_ok(out, "instruction", 12)
    texts = [r["instruction"] for r in rows] + [s["instruction"] for s in SEEDS]
    assert max(rouge_l(a, b) for a, b in itertools.combinations(texts, 2)) < 0.7
    for row in rows:
        meta = row["meta"]
        assert meta["method"] == "self-instruct" and meta["model"] == "fake" and meta["seed"] == 3
        assert len(meta["requests"]) == 2 and meta["round"] >= 1
        assert row["output"].startswith("Answer (fake")
    # the same seed gives the same rows; another seed other rows
    again = tmp_path / "si2.jsonl"
    synth(srv, "self-instruct", seeds, "-o", again, "-n", 12, "--per-prompt", 5, "--seed", 3)
    assert read_jsonl(again) == rows
    other = tmp_path / "si3.jsonl"
    synth(srv, "self-instruct", seeds, "-o", other, "-n", 12, "--per-prompt", 5, "--seed", 4)
    assert {r["instruction"] for r in read_jsonl(other)} != {r["instruction"] for r in rows}


def test_self_instruct_rejects_near_duplicates_with_their_score(serve, synth, tmp_path):
    def parrot(req):  # proposes the seed tasks again, slightly changed, plus one new task
        if "new tasks that differ" in req["messages"][-1]["content"]:
            return "1. Explain why the sky looks blue during the day time.\n2. Draw a picture of a cat.\n" \
                   "3. Describe how bees make honey and why it keeps for years."
        return fake_model(req)

    srv = serve(parrot)
    seeds = write_jsonl(tmp_path / "seeds.jsonl", SEEDS)
    out = tmp_path / "si.jsonl"
    result = synth(srv, "self-instruct", seeds, "-o", out, "-n", 1, "--per-prompt", 3)
    assert result.exit_code == 0, result.output
    assert [r["instruction"] for r in read_jsonl(out)] == ["Describe how bees make honey and why it keeps for years."]
    reasons = [r["reason"] for r in read_jsonl(f"{out}.rejects.jsonl")]
    assert any(r.startswith("not novel: ROUGE-L 0.9") for r in reasons)
    assert "unsuitable for a text model: mentions 'draw'" in reasons


def test_evol_instruct_rows_carry_their_evolution(serve, synth, tmp_path):
    srv = serve()
    data = write_jsonl(tmp_path / "in.jsonl", SEEDS)
    out = tmp_path / "evol.jsonl"
    result = synth(srv, "evol-instruct", data, "-o", out, "--rounds", 2)
    assert result.exit_code == 0, result.output
    rows = kinds_ok(out, "instruction", 12)
    by_instruction = {r.instruction: r for r in rows}
    for row in rows:
        meta = row.meta
        assert meta["operation"] in OPERATIONS and meta["round"] in (1, 2)
        assert "#Rewritten" not in row.instruction and row.instruction != meta["parent"]
        if meta["round"] == 2:
            assert meta["parent"] in by_instruction  # evolved from a round-1 row
            assert len(meta["operations"]) == 2
    assert {r.meta["source_id"] for r in rows} == {r.id for r in read_dataset(str(data))}


def test_evol_instruct_eliminates_failed_evolutions(serve, synth, tmp_path):
    def lazy(req):
        text = req["messages"][-1]["content"]
        if "Act as a prompt" in text:
            return "Here is the rewritten prompt: do the given prompt again."
        return fake_model(req)

    srv = serve(lazy)
    data = write_jsonl(tmp_path / "in.jsonl", SEEDS[:3])
    out = tmp_path / "evol.jsonl"
    result = synth(srv, "evol-instruct", data, "-o", out)
    assert result.exit_code == 1 and "error: wrote no rows" in result.output  # nothing survived: not a success
    assert read_jsonl(out) == []
    reasons = {r["reason"] for r in read_jsonl(f"{out}.rejects.jsonl")}
    assert reasons == {"eliminated: copies the evolving prompt's words ('given prompt')"}


def test_evol_instruct_llm_equality_check(serve, synth, tmp_path):
    def same(req):
        text = req["messages"][-1]["content"]
        return "Equal" if "Equal or Different" in text and "haiku" in text else fake_model(req)

    srv = serve(same)
    data = write_jsonl(tmp_path / "in.jsonl", SEEDS[:3])
    out = tmp_path / "evol.jsonl"
    assert synth(srv, "evol-instruct", data, "-o", out, "--equality", "llm").exit_code == 0
    assert len(read_jsonl(out)) == 2
    [reject] = read_jsonl(f"{out}.rejects.jsonl")
    assert reject["reason"] == "eliminated: no information gain (the model judged it equal to its parent)"
    assert "haiku" in reject["row"]["parent"]


def test_backtranslate_keeps_well_scored_pairs(serve, synth, tmp_path):
    srv = serve()
    docs = tmp_path / "docs.txt"
    docs.write_text(passages(4) + "\nLOWSCORE " + "filler words " * 20 + "\n\nshort one\n", encoding="utf-8")
    out = tmp_path / "bt.jsonl"
    result = synth(srv, "backtranslate", docs, "-o", out)
    assert result.exit_code == 0, result.output
    rows = kinds_ok(out, "instruction", 4)
    originals = set(docs.read_text().split("\n\n"))
    for row in rows:
        assert row.output.strip() in {o.strip() for o in originals}
        assert row.instruction.startswith("Explain Report")
        assert row.meta["score"] == 5 and row.meta["source"].startswith(str(docs))
    reasons = [r["reason"] for r in read_jsonl(f"{out}.rejects.jsonl")]
    assert sorted(reasons) == ["document too short: fewer than 20 words",
                               "low self-curation score: 2 < --min-score 4"]


def test_qa_keeps_the_passage_as_context(serve, synth, tmp_path):
    srv = serve()
    docs = write_jsonl(tmp_path / "docs.jsonl", [{"text": p} for p in passages(4).split("\n\n")])
    out = tmp_path / "qa.parquet"
    result = synth(srv, "qa", docs, "-o", out, "--per-passage", 2, "-n", 6)
    assert result.exit_code == 0, result.output
    rows = kinds_ok(out, "instruction", 6)
    for row in rows:
        assert row.context.startswith("Report") and row.category == "closed_qa"
        assert row.instruction.startswith("What does the passage say") and row.output in row.context
    assert len({(r.instruction, r.context) for r in rows}) == 6


def test_preference_pairs_have_scores_margin_and_rationale(serve, synth, tmp_path):
    srv = serve()
    data = write_jsonl(tmp_path / "in.jsonl", SEEDS)
    out = tmp_path / "pref.jsonl"
    result = synth(srv, "preference", data, "-o", out, "-k", 3, "--rejected-model", "weak", "--min-margin", 1)
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    rejects = read_jsonl(f"{out}.rejects.jsonl") if (tmp_path / "pref.jsonl.rejects.jsonl").exists() else []
    assert len(rows) + len(rejects) == len(SEEDS) and rows
    kinds_ok(out, "preference", len(rows))
    for row in rows:
        meta = row["meta"]
        assert meta["chosen_score"] - meta["rejected_score"] == meta["margin"] >= 1
        assert len(meta["scores"]) == 3 and meta["rationale"] and meta["judge_model"] == "fake"
        assert {meta["chosen_model"], meta["rejected_model"]} <= {"fake", "weak"}
    assert all(r["reason"].startswith(("tie:", "low margin:")) for r in rejects)
    # three answers per instruction were asked of two models, each a request of its own
    models = [k for k in srv.log.received]
    assert len(models) == len(SEEDS) * 4


def test_preference_rows_have_unique_ids_when_an_instruction_repeats(serve, synth, tmp_path):
    srv = serve()
    # a bare list of instructions: the repeated one has the same content id each time
    rows_in = [{"instruction": s["instruction"]} for s in SEEDS[:3]] + [{"instruction": SEEDS[0]["instruction"]}]
    data = write_jsonl(tmp_path / "in.jsonl", rows_in)
    out = tmp_path / "pref.jsonl"
    result = synth(srv, "preference", data, "-o", out, "-k", 3, "--rejected-model", "weak", "--min-margin", 0)
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    repeated = [r for r in rows if r["instruction"] == SEEDS[0]["instruction"]]
    assert len(repeated) == 2 and repeated[0]["chosen"] == repeated[1]["chosen"]  # the same pair, twice
    assert len({r["id"] for r in rows}) == len(rows) == 4
    # ids lead back to the input row: its id, then "-2" for the repeat
    first, second = repeated
    assert first["id"] == first["meta"]["source_id"] and second["id"] == f"{first['id']}-2"
    kinds_ok(out, "preference", 4)  # reads back without "duplicate id" rejects


def test_completion_cuts_text_without_any_model(synth, tmp_path):
    text = ("Listen to your heart. The river rose quickly after the storm, because the ground was already wet. "
            "Dr. Lee said the bridge would stay closed; the town waited. 東京は日本の首都です。")
    docs = tmp_path / "raw.txt"
    docs.write_text(text + "\n", encoding="utf-8")
    out = tmp_path / "comp.jsonl"
    result = synth(None, "completion", docs, "-o", out, "--min-prefix-words", 2)
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    assert len(rows) >= 4
    for row in rows:
        joined = row["instruction"] + row["meta"]["sep"] + row["output"]
        assert joined in text and row["meta"]["cut"] in ("word", "clause", "sentence")
    words = tmp_path / "words.jsonl"
    synth(None, "completion", docs, "-o", words, "--cut", "word", "--max-tail-words", 1, "--min-prefix-words", 3)
    assert {r["output"] for r in read_jsonl(words)} >= {"heart.", "wet."}


@pytest.mark.parametrize("method, stage_text, bad_reply, args, reason", [
    ("self-instruct", "new tasks that differ", "I would rather not.", ["-n", 2, "--max-rounds", 1],
     "instructions unparseable output: no numbered list in the reply"),
    ("evol-instruct", "Act as a prompt", "#Rewritten Prompt#:", [],
     "evolve unparseable output: the reply holds no prompt"),
    ("backtranslate", "5-point scale", "Looks fine to me.", [],
     "curation unparseable output: no 'Score: N' line in the reply"),
    ("qa", "question-answer pairs", "Sure! Here are some questions.", [],
     "pairs unparseable output: no JSON array in the reply"),
    ("preference", "You are judging", '{"scores": [5], "rationale": "x"}', [],
     "judge unparseable output: expected 2 scores, got 1"),
])
def test_each_method_rejects_malformed_model_output(serve, synth, tmp_path, method, stage_text, bad_reply, args,
                                                   reason):
    srv = serve(lambda req: bad_reply if stage_text in req["messages"][-1]["content"] else fake_model(req))
    if method in ("backtranslate", "qa"):
        data = tmp_path / "docs.txt"
        data.write_text(passages(1), encoding="utf-8")
    else:
        data = write_jsonl(tmp_path / "in.jsonl", SEEDS[:1])
    out = tmp_path / "out.jsonl"
    result = synth(srv, method, data, "-o", out, *args)
    assert result.exit_code == 1 and "error: wrote no rows" in result.output, result.output  # every row rejected
    assert read_jsonl(out) == []
    rejects = read_jsonl(f"{out}.rejects.jsonl")
    assert [r["reason"] for r in rejects] == [reason]
    assert rejects[0]["row"]["model_output"] == bad_reply  # what the model said, for the user to see
    bad = [k for k, n in srv.log.received.items() if n == 2]
    assert len(bad) == 1  # the malformed answer was asked again exactly once


def test_canary_key_never_written_or_printed(serve, synth, tmp_path):
    def leaky(req, attempt):
        auth = next(iter(srv.log.auth))
        if attempt == 0 and "question-answer" in req["messages"][-1]["content"]:
            return Fault.server_error(500, f"upstream rejected {auth}")
        if "Report 1" in req["messages"][-1]["content"]:
            return Fault.error(400, f"key {auth} is not allowed here")
        return fake_model(req)

    srv = serve(leaky)
    docs = tmp_path / "docs.txt"
    docs.write_text(passages(3), encoding="utf-8")
    out = tmp_path / "qa.jsonl"
    result = synth(srv, "qa", docs, "-o", out, "--per-passage", 1)
    assert result.exit_code == 0, result.output
    assert f"Bearer {CANARY_KEY}" in srv.log.auth
    assert len(read_jsonl(out)) == 2
    assert "HTTP 400: key Bearer *** is not allowed" in read_jsonl(f"{out}.rejects.jsonl")[0]["reason"]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert CANARY_KEY.encode() not in path.read_bytes(), path
    assert CANARY_KEY not in result.output
