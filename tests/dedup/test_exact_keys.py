"""Exact duplicates, keys, keep rules, several files, and bad input (exact mode: no MinHash stages)."""

from __future__ import annotations

import pytest
from dedup_helpers import check_accounting, dolly, ids, read_jsonl, write_jsonl

from dataforge.dedup import dedup
from dataforge.dedup.text import exact_hash, normalize, tokens
from dataforge.errors import ConfigError, InputError


def test_normalisation_folds_case_width_punctuation_but_not_operators():
    assert normalize("  Hello,   “World”!\n") == normalize("hello world") == "hello world"
    assert normalize("ＡＢＣ　ｄｅｆ") == "abc def"  # full-width letters and space (NFKC)
    assert normalize("What is 2+2?") != normalize("What is 2*2?")
    assert normalize("Price: 12 dollars") != normalize("Price: 13 dollars")  # digits kept
    assert exact_hash(normalize("Straße")) == exact_hash(normalize("STRASSE"))  # case folding, not lower()
    assert tokens(normalize("日本の首都 is Tokyo")) == ["日", "本", "の", "首", "都", "is", "tokyo"]
    assert tokens(normalize("ภาษาไทย")) == list("ภาษาไทย")


def test_exact_duplicates_after_normalisation_are_removed_with_reason(tmp_path):
    rows = [dolly("a", "Name three primary colours.", "Red, green, blue."),
            dolly("b", "name three   primary colours", "red green BLUE"),  # the whole example, folded
            dolly("c", "NAME THREE PRIMARY COLOURS!!", "Red, green and blue."),  # same prompt, another answer
            dolly("d", "What is 2+2?", "4"),
            dolly("e", "What is 2*2?", "4")]
    out, clusters = tmp_path / "out.jsonl", tmp_path / "clusters.jsonl"
    s = dedup([write_jsonl(tmp_path / "in.jsonl", rows)], out, exact=True, clusters=clusters)
    kept, rejects = check_accounting(s, out)
    assert ids(kept) == ["a", "c", "d", "e"]
    assert s.exact_duplicates == 1 and s.near_duplicates == 0 and s.same_prompt == 1
    assert {r["id"]: r["reason"] for r in rejects} == {"b": "exact duplicate of 'a'"}
    assert rejects[0]["line"] == 2 and rejects[0]["file"].endswith("in.jsonl")
    assert set(kept[0]) >= {"instruction", "context", "response", "category"}  # the input's (Dolly) shape
    assert "kept 1 with the same prompt as an earlier row" in s.line()
    (cluster,) = read_jsonl(clusters)
    assert cluster["kept"] == "a" and [r["id"] for r in cluster["removed"]] == ["b"]
    assert [x["id"] for x in cluster["same_prompt"]] == ["c"] and cluster["same_prompt"][0]["where"].endswith(":3")


def test_rows_that_only_share_a_prompt_are_kept_unless_key_prompt(tmp_path):
    """Same prompt, different answers: different examples by default; --key prompt removes them."""
    rows = [dolly("q1", "Is the sky blue?", "Yes."), dolly("q2", "Is the sky blue?", "No."),
            dolly("q3", "Is the sky blue?", "Yes!"),  # folds to q1's answer: a real duplicate
            dolly("r1", "Name a prime.", "7"), dolly("r2", "name a prime", "11")]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    s = dedup([src], tmp_path / "auto.jsonl", exact=True)
    kept, rejects = check_accounting(s, tmp_path / "auto.jsonl")
    assert ids(kept) == ["q1", "q2", "r1", "r2"] and s.same_prompt == 2
    assert {r["id"]: r["reason"] for r in rejects} == {"q3": "exact duplicate of 'q1'"}
    s = dedup([src], tmp_path / "prompt.jsonl", exact=True, key="prompt")
    kept, rejects = check_accounting(s, tmp_path / "prompt.jsonl")
    assert ids(kept) == ["q1", "r1"] and s.exact_duplicates == 3 and s.same_prompt == 0
    assert {r["id"]: r["reason"] for r in rejects} == {"q2": "exact duplicate of 'q1'", "q3": "exact duplicate of 'q1'",
                                                      "r2": "exact duplicate of 'r1'"}


def test_the_whole_example_is_the_same_in_every_shape(tmp_path):
    """A Dolly row and the same example as an OpenAI chat are duplicates; turn order and system prompt count."""
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Paris."}]
    dolly_rows = [{"id": "d1", "instruction": "Capital of France?", "context": "", "response": "Paris.",
                   "category": "qa"}]
    chats = [{"id": "c1", "messages": chat[1:]}, {"id": "c2", "messages": chat},
             {"id": "c3", "messages": [chat[1], chat[2], {"role": "user", "content": "And of Spain?"},
                                       {"role": "assistant", "content": "Madrid."}]},
             {"id": "c4", "messages": [chat[1], {"role": "assistant", "content": "Madrid."},
                                       {"role": "user", "content": "And of Spain?"}, chat[2]]}]
    out = tmp_path / "out.jsonl"
    s = dedup([write_jsonl(tmp_path / "d.jsonl", dolly_rows), write_jsonl(tmp_path / "c.jsonl", chats)], out,
              exact=True, to="openai")
    kept, rejects = check_accounting(s, out)
    assert {r["id"]: r["reason"] for r in rejects} == {"c1": "exact duplicate of 'd1'"}
    assert ids(kept) == ["d1", "c2", "c3", "c4"]  # a system prompt, more turns, other turn order: other examples
    # c2 asks what d1 asks (a system prompt is not part of the prompt); c4 asks what c3 asks
    assert s.same_prompt == 2


def test_keep_rules_choose_the_survivor(tmp_path):
    rows = [dolly("short", "Describe the water cycle.", "Rain.", score=0.2),
            dolly("long", "describe the water cycle", "Water evaporates, condenses into clouds and falls.",
                  score="0.9"),
            dolly("none", "Describe the water cycle", "It cycles.")]  # no score: ranks last
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    expected = {"first": "short", "longest": "long", "best:score": "long"}
    for rule, survivor in expected.items():
        out = tmp_path / f"{rule.replace(':', '_')}.jsonl"
        s = dedup([src], out, exact=True, keep=rule, key="prompt")
        kept, rejects = check_accounting(s, out)
        assert ids(kept) == [survivor], rule
        assert all(r["reason"] == f"exact duplicate of '{survivor}'" for r in rejects)
    out = tmp_path / "neg.jsonl"
    rows[2]["score"] = 5  # now the highest
    s = dedup([write_jsonl(tmp_path / "in2.jsonl", rows)], out, exact=True, keep="best:score", key="prompt")
    assert ids(read_jsonl(out)) == ["none"]


def test_preference_data_is_compared_on_the_prompt(tmp_path):
    rows = [{"id": "p1", "instruction": "Explain recursion.", "context": "", "chosen": "A function calling itself.",
             "rejected": "No idea."},
            {"id": "p2", "instruction": "explain recursion", "context": "", "chosen": "Self-reference.",
             "rejected": "Loops."},
            {"id": "p3", "instruction": "Explain recursion.", "context": "In Python.", "chosen": "def f(): f()",
             "rejected": "?"}]
    src = write_jsonl(tmp_path / "pref.jsonl", rows)
    out = tmp_path / "out.jsonl"
    s = dedup([src], out, exact=True)
    kept, rejects = check_accounting(s, out)
    assert ids(kept) == ["p1", "p3"]  # p3 has context: another prompt
    assert rejects[0]["id"] == "p2" and "chosen" in kept[0]
    s = dedup([src], tmp_path / "all.jsonl", exact=True, key="all")
    assert s.rows_out == 3  # the answers differ, so --key all keeps all
    with pytest.raises(ConfigError, match="no 'output' field"):
        dedup([src], tmp_path / "x.jsonl", key="instruction,output")


def test_field_keys_and_extra_columns(tmp_path):
    rows = [dolly("a", "Q one", "Same answer here.", source="web"),
            dolly("b", "Q two", "same answer here", source="web"),
            dolly("c", "Q three", "Other answer.", source="book")]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    s = dedup([src], tmp_path / "o1.jsonl", exact=True, key="output")
    assert ids(read_jsonl(tmp_path / "o1.jsonl")) == ["a", "c"] and s.exact_duplicates == 1
    dedup([src], tmp_path / "o2.jsonl", exact=True, key="source")  # an extra column
    assert ids(read_jsonl(tmp_path / "o2.jsonl")) == ["a", "c"]
    dedup([src], tmp_path / "o3.jsonl", exact=True, key="instruction,output")
    assert ids(read_jsonl(tmp_path / "o3.jsonl")) == ["a", "b", "c"]


def test_several_files_are_deduplicated_together(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", [dolly("t1", "How do vaccines work?"), dolly("t2", "Define entropy.")])
    valid = write_jsonl(tmp_path / "valid.jsonl", [dolly("v1", "how do vaccines work"), dolly("v2", "What is DNA?")])
    out = tmp_path / "out.jsonl"
    s = dedup([train, valid], out, exact=True)
    kept, rejects = check_accounting(s, out)
    assert ids(kept) == ["t1", "t2", "v2"]
    assert rejects[0]["id"] == "v1" and rejects[0]["file"].endswith("valid.jsonl")
    assert rejects[0]["reason"] == "exact duplicate of 't1'"


def test_mixed_instruction_and_preference_files_are_refused(tmp_path):
    inst = write_jsonl(tmp_path / "i.jsonl", [dolly("a", "Hello?")])
    pref = write_jsonl(tmp_path / "p.jsonl", [{"instruction": "Hi", "chosen": "Hello", "rejected": "Go away"}])
    with pytest.raises(InputError, match="mix instruction and preference"):
        dedup([inst, pref], tmp_path / "out.jsonl")


def test_empty_short_and_one_row_inputs(tmp_path):
    rows = [dolly("e1", "", "answer"),  # empty instruction: refused by the reader
            dolly("p1", "???", "one"), dolly("p2", "!!!", "two"),  # nothing left after folding: not compared
            dolly("s1", "Hi", "a"), dolly("s2", "hi!", "b"),  # very short: still exact duplicates
            dolly("s3", "Hello there", "c"), dolly("s4", "Hello world", "d")]
    out = tmp_path / "out.jsonl"
    s = dedup([write_jsonl(tmp_path / "in.jsonl", rows)], out, threshold=0.8, buckets=4, hashes_per_bucket=4,
              key="prompt")
    kept, rejects = check_accounting(s, out)
    assert ids(kept) == ["p1", "p2", "s1", "s3", "s4"]
    reasons = {r["id"]: r["reason"] for r in rejects}
    assert reasons["s2"] == "exact duplicate of 's1'"
    assert [r["reason"] for r in rejects if r["line"] == 1] == ["field is empty"]  # e1
    assert s.empty_key == 2

    one = tmp_path / "one.jsonl"
    s = dedup([write_jsonl(tmp_path / "single.jsonl", [dolly("only", "A lone question?")])], one)
    assert ids(read_jsonl(one)) == ["only"] and s.rejected == 0 and s.rejects_path is None

    with pytest.raises(InputError, match="empty"):
        dedup([write_jsonl(tmp_path / "empty.jsonl", [])], tmp_path / "e.jsonl")
    assert not (tmp_path / "e.jsonl.dedup-work").exists()  # bad input leaves nothing to resume
    with pytest.raises(InputError, match="empty in every row"):
        dedup([write_jsonl(tmp_path / "ctx.jsonl", [dolly("a", "x"), dolly("b", "y")])], tmp_path / "c.jsonl",
              key="context")


@pytest.mark.parametrize("bad", [0, -0.5, 1.01, 2])
def test_threshold_outside_zero_one_is_refused(tmp_path, bad):
    src = write_jsonl(tmp_path / "in.jsonl", [dolly("a", "x")])
    with pytest.raises(ConfigError, match=r"outside \(0, 1\]"):
        dedup([src], tmp_path / "out.jsonl", threshold=bad)


def test_bad_options_fail_before_reading(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [dolly("a", "x")])
    for kwargs, match in [({"keep": "best"}, "keep rule"), ({"keep": "biggest"}, "keep rule"),
                          ({"key": " , "}, "names no field"), ({"executor": "spark"}, "executor"),
                          ({"executor": "slurm"}, "partition"), ({"workers": 0}, "workers")]:
        with pytest.raises(ConfigError, match=match):
            dedup([src], tmp_path / "out.jsonl", **kwargs)
    with pytest.raises(InputError, match="overwrite"):
        dedup([src], src)


def test_a_record_without_a_prompt_is_compared_on_its_text():
    """Kinds without an instruction (plain text corpora) get a key and no prompt, instead of a crash in report."""
    from dataclasses import dataclass, field
    from typing import ClassVar

    from dataforge.dedup.keys import KeySpec, row_keys

    @dataclass
    class TextRecord:
        text: str
        id: str = ""
        meta: dict = field(default_factory=dict)
        kind: ClassVar[str] = "text"
        text_fields: ClassVar[tuple[str, ...]] = ("text",)

    assert row_keys(TextRecord("Some plain text.")) == ("Some plain text.", "")
    assert KeySpec.parse("prompt").text(TextRecord("x")) == ""
