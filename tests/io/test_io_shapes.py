"""Every shape is detected and mapped, and convert A -> B -> A keeps what B can hold."""

from __future__ import annotations

import pytest
from io_helpers import read_lines, rejects_of, write_jsonl

from dataforge.convert import convert
from dataforge.errors import InputError
from dataforge.io import TARGETS, check_target, read_dataset
from dataforge.records import ConversationRecord, InstructionRecord, PreferenceRecord, prompt_text

SYS = "You are terse."
MULTI = [{"role": "system", "content": SYS}, {"role": "user", "content": "Hi, who wrote Hamlet?"},
         {"role": "assistant", "content": "Shakespeare."}, {"role": "user", "content": "When?"},
         {"role": "assistant", "content": "Around 1600."}]

# shape -> (rows in that shape, detected name, the --to that writes it back)
SAMPLES = {
    "dolly": ([
        {"instruction": "Name a primary colour.", "context": "", "response": "Red.", "category": "open_qa"},
        {"instruction": "Summarise.", "context": "Cats sleep a lot.", "response": "Cats nap.",
         "category": "summarization"},
    ], "dolly", "dolly"),
    "alpaca": ([
        {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"},
        {"instruction": "Greet.", "input": "", "output": "Hello!", "system": SYS},
        {"instruction": "And in French?", "input": "", "output": "Bonjour.", "system": SYS,
         "history": [["Greet.", "Hello!"]]},
    ], "alpaca", "alpaca"),
    "openai": ([
        {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]},
        {"messages": [{"role": "system", "content": SYS}, {"role": "user", "content": "Capital of France?"},
                      {"role": "assistant", "content": "Paris."}]},
        {"messages": MULTI},
    ], "openai", "openai"),
    "sharegpt": ([
        {"conversations": [{"from": "human", "value": "Say yes."}, {"from": "gpt", "value": "Yes."}]},
        {"conversations": [{"from": "system", "value": SYS}, {"from": "human", "value": "One?"},
                           {"from": "gpt", "value": "1"}, {"from": "human", "value": "Two?"},
                           {"from": "gpt", "value": "2"}]},
    ], "sharegpt", "sharegpt"),
    "trl-completion": ([
        {"prompt": "The sky is", "completion": " blue."},
        {"prompt": "Water boils at", "completion": " 100 C."},
    ], "trl-completion", "trl"),
    "trl-completion-chat": ([
        {"prompt": [{"role": "user", "content": "Colour of grass?"}], "completion": [
            {"role": "assistant", "content": "Green."}]},
        {"prompt": [{"role": "system", "content": SYS}, {"role": "user", "content": "Colour of snow?"}],
         "completion": [{"role": "assistant", "content": "White."}]},
    ], "trl-completion", "trl-chat"),
    "trl-preference": ([
        {"prompt": "Best pet?", "chosen": "It depends on you.", "rejected": "Rocks."},
        {"prompt": "2+2?", "chosen": "4", "rejected": "5"},
    ], "trl-preference", "trl"),
    "trl-preference-chat": ([
        {"prompt": [{"role": "system", "content": SYS}, {"role": "user", "content": "Hello?"}],
         "chosen": [{"role": "assistant", "content": "Hi."}],
         "rejected": [{"role": "assistant", "content": "Go away."}]},
        {"prompt": [{"role": "user", "content": "Sum 1+1"}],
         "chosen": [{"role": "assistant", "content": "2"}], "rejected": [{"role": "assistant", "content": "11"}]},
    ], "trl-preference", "trl-chat"),
    "trl-implicit": ([
        {"chosen": [{"role": "user", "content": "Tea or coffee?"}, {"role": "assistant", "content": "Tea."}],
         "rejected": [{"role": "user", "content": "Tea or coffee?"}, {"role": "assistant", "content": "No."}]},
    ], "trl-implicit-preference", "trl-chat"),
    "instruction": ([
        {"id": "n1", "instruction": "Translate 'cat'.", "context": "to German", "output": "Katze",
         "lang": "en", "category": "translation", "meta": {"source": "hand"}},
    ], "instruction", "instruction"),
    "preference": ([
        {"id": "p1", "instruction": "Pick a number.", "context": "between 1 and 3", "chosen": "2",
         "rejected": "seven", "lang": "en", "meta": {"source": "hand"}},
    ], "preference", "preference"),
}


def content(record) -> tuple:
    """What every shape that can hold the record must carry over unchanged."""
    if isinstance(record, ConversationRecord):
        return ("conversation", record.id, tuple((m["role"], m["content"]) for m in record.messages))
    if isinstance(record, PreferenceRecord):
        return ("preference", record.id, prompt_text(record), record.chosen, record.rejected, record.system)
    return ("instruction", record.id, prompt_text(record), record.output, record.system)


def _records(path, **kw):
    ds = read_dataset(path, **kw)
    return ds, list(ds)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_shape_detected_and_mapped(tmp_path, name):
    rows, shape, _ = SAMPLES[name]
    ds, records = _records(write_jsonl(tmp_path / f"{name}.jsonl", rows))
    assert ds.shape == shape
    assert ds.stats.read == ds.stats.ok == len(rows) and ds.stats.rejected == 0
    assert all(r.id for r in records)


def test_mapping_details(tmp_path):
    """Spot checks of what each mapper puts where (system prompts, context, multi-turn)."""
    tmp = tmp_path
    _, dolly = _records(write_jsonl(tmp / "d.jsonl", SAMPLES["dolly"][0]))
    assert (dolly[1].instruction, dolly[1].context, dolly[1].output, dolly[1].category) == (
        "Summarise.", "Cats sleep a lot.", "Cats nap.", "summarization")
    _, alpaca = _records(write_jsonl(tmp / "a.jsonl", SAMPLES["alpaca"][0]))
    assert alpaca[0].context == "2 and 3" and alpaca[1].system == SYS
    assert isinstance(alpaca[2], ConversationRecord)
    assert [m["role"] for m in alpaca[2].messages] == ["system", "user", "assistant", "user", "assistant"]
    _, chat = _records(write_jsonl(tmp / "o.jsonl", SAMPLES["openai"][0]))
    assert isinstance(chat[1], InstructionRecord) and chat[1].system == SYS and chat[1].output == "Paris."
    assert isinstance(chat[2], ConversationRecord) and chat[2].messages == MULTI
    _, pref = _records(write_jsonl(tmp / "p.jsonl", SAMPLES["trl-preference-chat"][0]))
    assert (pref[0].instruction, pref[0].chosen, pref[0].rejected, pref[0].system) == ("Hello?", "Hi.", "Go away.", SYS)
    _, implicit = _records(write_jsonl(tmp / "i.jsonl", SAMPLES["trl-implicit"][0]))
    assert (implicit[0].instruction, implicit[0].chosen, implicit[0].rejected) == ("Tea or coffee?", "Tea.", "No.")


# The round trips, written out: which --to targets hold each kind of data. A broken
# check_target must fail test_targets_refuse_the_kinds_they_cannot_hold, never shrink this list.
HOLDS = {
    "instruction": ("dolly", "alpaca", "sharegpt", "openai", "trl", "trl-chat", "instruction",
                    "llamafactory-alpaca", "llamafactory-sharegpt"),
    "preference": ("openai-preference", "trl", "trl-chat", "preference", "llamafactory-alpaca",
                   "llamafactory-sharegpt"),
}
PREFERENCE_SAMPLES = ("trl-preference", "trl-preference-chat", "trl-implicit", "preference")
ROUND_TRIPS = [(name, target) for name in SAMPLES
               for target in HOLDS["preference" if name in PREFERENCE_SAMPLES else "instruction"]]


@pytest.mark.parametrize("kind", list(HOLDS))
@pytest.mark.parametrize("target", TARGETS)
def test_targets_refuse_the_kinds_they_cannot_hold(kind, target):
    if target in HOLDS[kind]:
        assert check_target(target, kind) is None
    else:
        with pytest.raises(InputError, match=rf"^--to {target} (cannot hold preference|needs other data; this is "
                                             rf"instruction data)") as err:
            check_target(target, kind)
        assert err.value.hint == "use --to " + ", ".join(HOLDS[kind])


@pytest.mark.parametrize("name", list(SAMPLES))
def test_samples_are_the_kind_the_round_trips_assume(tmp_path, name):
    ds, _ = _records(write_jsonl(tmp_path / "s.jsonl", SAMPLES[name][0]))
    assert ds.kind == ("preference" if name in PREFERENCE_SAMPLES else "instruction")


@pytest.mark.parametrize("name,target", ROUND_TRIPS)
def test_round_trip(tmp_path, name, target):
    rows, _, back = SAMPLES[name]
    src = write_jsonl(tmp_path / "src.jsonl", rows)
    _, original = _records(src)

    mid = tmp_path / f"mid.{target}.jsonl"
    s1 = convert(src, mid, to=target)
    assert s1.read == s1.written + s1.rejected == len(rows)
    # rows the target cannot hold are rejected with the reason, never flattened
    rejected_ids = {r["id"] for r in rejects_of(mid)}
    for r in rejects_of(mid):
        assert "multi-turn" in r["reason"] or "system prompt" in r["reason"], r["reason"]
        assert r["file"] == str(src) and r["line"] >= 1
    holdable = [rec for rec in original if rec.id not in rejected_ids]
    assert s1.written == len(holdable)
    if target in ("openai", "sharegpt", "alpaca", "trl-chat", "instruction", "preference") or (
            target == "dolly" and not any(isinstance(r, ConversationRecord) for r in original)):
        assert s1.rejected == 0, rejects_of(mid)

    final = tmp_path / f"back.{back}.jsonl"
    s2 = convert(mid, final, to=back)
    assert s2.read == s2.written == len(holdable) and s2.rejected == 0
    _, again = _records(final)
    assert [content(r) for r in again] == [content(r) for r in holdable]


def test_lossless_fields_survive(tmp_path):
    """Dolly <-> native <-> Alpaca keep context, category, lang and meta too."""
    src = write_jsonl(tmp_path / "d.jsonl", [
        {"instruction": "Q", "context": "C", "response": "A", "category": "qa", "lang": "en",
         "meta": {"source": "x"}, "extra_col": 7}])
    _, (orig,) = _records(src)
    assert orig.meta == {"source": "x", "extra": {"extra_col": 7}}
    path = src
    for i, target in enumerate(["instruction", "alpaca", "dolly", "instruction"]):
        out = tmp_path / f"step{i}.jsonl"
        convert(path, out, to=target)
        path = out
    _, (final,) = _records(path)
    assert final.to_dict() == orig.to_dict()


def test_multi_turn_to_dolly_is_rejected_not_flattened(tmp_path):
    src = write_jsonl(tmp_path / "chat.jsonl", SAMPLES["openai"][0])
    out = tmp_path / "dolly.jsonl"
    summary = convert(src, out, to="dolly")
    assert (summary.read, summary.written, summary.rejected) == (3, 2, 1)
    assert all("Around 1600." not in str(row) for row in read_lines(out))
    (rej,) = rejects_of(out)
    assert rej["file"] == str(src) and rej["line"] == 3
    assert "multi-turn conversation (2 user turns) cannot become a single dolly row" in rej["reason"]
    assert rej["row"]["messages"] == MULTI


def test_preference_cannot_go_to_dolly(tmp_path):
    from dataforge.errors import InputError

    src = write_jsonl(tmp_path / "p.jsonl", SAMPLES["preference"][0])
    with pytest.raises(InputError, match="cannot hold preference"):
        convert(src, tmp_path / "o.jsonl", to="dolly")
    assert not (tmp_path / "o.jsonl").exists()


def test_openai_output_is_valid_chat_format(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", SAMPLES["dolly"][0])
    out = tmp_path / "chat.jsonl"
    convert(src, out, to="openai")
    rows = read_lines(out)
    assert rows[1]["messages"] == [{"role": "user", "content": "Summarise.\n\nCats sleep a lot."},
                                   {"role": "assistant", "content": "Cats nap."}]


def test_unknown_shape_lists_columns_and_suggests_map(tmp_path):
    from dataforge.errors import InputError

    src = write_jsonl(tmp_path / "qa.jsonl", [{"question": "2+2?", "answer": "4", "source": "quiz"}])
    with pytest.raises(InputError) as info:
        read_dataset(src)
    err = info.value
    assert "answer, question, source" in err.message
    assert "--map instruction=question --map output=answer" in err.hint
    # ... and the suggested --map works
    ds, (rec,) = _records(src, mapping=["instruction=question", "output=answer"])
    assert (rec.instruction, rec.output, rec.meta["extra"]) == ("2+2?", "4", {"source": "quiz"})


def test_map_output_answer(tmp_path):
    src = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "Hi", "answer": "Hello"},
                                             {"instruction": "Bye", "answer": "Ciao"}])
    out = tmp_path / "o.jsonl"
    summary = convert(src, out, mapping=["output=answer"])
    assert summary.written == 2
    assert [r["output"] for r in read_lines(out)] == ["Hello", "Ciao"]


def test_bad_map_is_a_clear_error(tmp_path):
    from dataforge.errors import InputError

    with pytest.raises(InputError, match="not FIELD=COLUMN"):
        read_dataset(write_jsonl(tmp_path / "a.jsonl", SAMPLES["dolly"][0]), mapping=["output"])
