"""Training rows token by token: the prompt mask, EOS, exactly max_length, stop tokens, length stats.

Every expected id list comes from the tokenizer and its chat template called here, not from the rows
under test. Found by `make mutation AREA=train` (dataforge/train/data.py): faults there (a mask one
token off, an EOS added twice, max_length off by one) went unnoticed by tests/train.
"""

from __future__ import annotations

import json

import pytest
from train_helpers import FACTS, write_jsonl

from dataforge.errors import InputError
from dataforge.train.data import IGNORE, PreparedData, _Tokenize, _with_eos, prepare_data, stop_token_ids
from dataforge.train.options import LoraOptions
from dataforge.train.run import load_tokenizer


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    return load_tokenizer(tiny_model_dir)


def expected_row(tok, question, answer):
    prompt = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                     add_generation_prompt=True)
    whole = tok.apply_chat_template([{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
                                    tokenize=False)
    ids = tok(whole)["input_ids"] + [tok.eos_token_id]  # the template ends with <|im_end|>\n: EOS is added
    n = len(tok(prompt)["input_ids"])
    return {"input_ids": ids, "labels": [IGNORE] * n + ids[n:]}


def test_each_row_is_the_templated_text_with_exactly_the_prompt_masked(tok, tiny_model_dir, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": q, "output": a} for q, a in FACTS])
    prep = prepare_data(data, tok, LoraOptions(), output=None, model_dir=tiny_model_dir)
    assert prep.train == [expected_row(tok, q, a) for q, a in FACTS]
    assert prep.lengths == [len(r["input_ids"]) for r in prep.train]
    assert prep.example["prompt_tokens"] == prep.train[0]["labels"].count(IGNORE)
    assert prep.example["tokens"] == len(prep.train[0]["input_ids"])
    assert prep.counts() == {"read": 4, "train": 4, "eval": 0, "rejected": 0, "too_long": 0, "reasons": {}}
    assert prep.rejects_path is None  # nothing rejected: no rejects file is named
    q, a = FACTS[0]  # the dry run's example: the first row's prompt and completion text
    prompt = tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
    whole = tok.apply_chat_template([{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                                    tokenize=False)
    assert (prep.example["prompt"], prep.example["completion"]) == (prompt, whole[len(prompt):])


def test_exactly_max_length_is_kept_and_one_token_more_is_rejected(tok, tiny_model_dir, tmp_path):
    rows = [{"instruction": q, "output": a} for q, a in FACTS]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    longest = max(len(expected_row(tok, q, a)["input_ids"]) for q, a in FACTS)
    n_longest = sum(len(expected_row(tok, q, a)["input_ids"]) == longest for q, a in FACTS)
    kept = prepare_data(data, tok, LoraOptions(max_length=longest), output=None, model_dir=tiny_model_dir)
    assert len(kept.train) == 4 and kept.too_long == 0
    out = tmp_path / "run"
    cut = prepare_data(data, tok, LoraOptions(max_length=longest - 1), output=out, model_dir=tiny_model_dir)
    assert cut.too_long == cut.rejected == n_longest and len(cut.train) == 4 - n_longest
    reasons = [json.loads(line)["reason"] for line in (tmp_path / "run.rejects.jsonl").read_text().splitlines()]
    assert reasons == [f"row is {longest} tokens, over max_length {longest - 1} (not truncated)"] * n_longest
    assert cut.rejects_path == str(tmp_path / "run.rejects.jsonl")


def test_eos_is_added_once_and_only_when_missing(tok):
    eos = tok.eos_token_id
    tk = _Tokenize(tok, LoraOptions(), {eos})
    plain, n = tk.ids("Q: hi\n", "A: yo")
    assert plain == tok("Q: hi\nA: yo")["input_ids"] + [eos] and n == len(tok("Q: hi\n")["input_ids"])
    ended, _ = tk.ids("Q: hi\n", "A: yo</s>\n")  # already ends with a stop token (then only blank text)
    assert ended == tok("Q: hi\nA: yo</s>\n")["input_ids"] and ended.count(eos) == 1
    no_eos, _ = _Tokenize(tok, LoraOptions(add_eos=False), {eos}).ids("Q: hi\n", "A: yo")
    assert no_eos == tok("Q: hi\nA: yo")["input_ids"]
    with_bos, _ = tk.ids("<s>Q: hi\n", "A: yo")  # the text writes its own BOS: no second one
    assert with_bos.count(tok.bos_token_id) == 1


def test_segments_flag_each_turn(tok):
    tk = _Tokenize(tok, LoraOptions(), {tok.eos_token_id})
    pieces = [("U: a\n", False), ("B: b\n", True), ("U: c\n", False), ("B: d\n", True)]
    ids, trained = tk.segments(pieces)
    cuts = [len(tok("".join(p for p, _ in pieces[:i]))["input_ids"]) for i in range(1, 4)]
    assert ids == tok("".join(p for p, _ in pieces))["input_ids"] + [tok.eos_token_id]
    assert trained == ([False] * cuts[0] + [True] * (cuts[1] - cuts[0]) + [False] * (cuts[2] - cuts[1])
                       + [True] * (len(ids) - cuts[2]))
    assert tk.ids("Q", "") == (tok("Q")["input_ids"] + [tok.eos_token_id], len(tok("Q")["input_ids"]))  # EOS only


def test_stop_token_ids_from_generation_config(tok, tmp_path):
    assert stop_token_ids(tok, None) == {tok.eos_token_id}
    (tmp_path / "generation_config.json").write_text(json.dumps({"eos_token_id": [7, 9]}))
    assert stop_token_ids(tok, tmp_path) == {tok.eos_token_id, 7, 9}
    (tmp_path / "generation_config.json").write_text(json.dumps({"eos_token_id": 11}))
    assert stop_token_ids(tok, tmp_path) == {tok.eos_token_id, 11}
    (tmp_path / "generation_config.json").write_text(json.dumps({"eos_token_id": None}))
    assert stop_token_ids(tok, tmp_path) == {tok.eos_token_id}


def test_length_stats_and_with_eos(tok):
    data = PreparedData("instruction", "alpaca", [], [], lengths=list(range(1, 21)))
    assert data.length_stats() == {"max": 20, "mean": 10.5, "p95": 20}
    assert data.tokens == 210
    assert PreparedData("instruction", "alpaca", [], []).length_stats() == {"max": 0, "mean": 0.0, "p95": 0}
    assert _with_eos("yes", [5, tok.eos_token_id], tok) == "yes</s>"
    assert _with_eos("yes</s>", [5, tok.eos_token_id], tok) == "yes</s>"
    assert _with_eos("yes", [5, 6], tok) == "yes"


def test_empty_input_and_nothing_left_are_errors_with_counts(tok, tiny_model_dir, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError) as info:
        prepare_data(empty, tok, LoraOptions(), output=None, model_dir=tiny_model_dir)
    assert info.value.message == f"{empty}: no rows to train on (the input is empty)"
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": q, "output": a} for q, a in FACTS])
    with pytest.raises(InputError) as info:
        prepare_data(data, tok, LoraOptions(max_length=9), output=None, model_dir=tiny_model_dir)
    assert info.value.message.startswith("no training rows left: 4 read, 4 rejected (row is ")
    assert info.value.hint == "see the rejects file; raise max_length if rows were too long"


def test_a_held_out_row_exists_even_when_no_id_falls_under_the_split(tok, tiny_model_dir, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": q, "output": a} for q, a in FACTS[:2]])
    prep = prepare_data(data, tok, LoraOptions(eval_split=0.001, seed=3), output=None, model_dir=tiny_model_dir)
    assert len(prep.train) == 1 and len(prep.eval) == 1 and len(prep.lengths) == 1
    assert prep.lengths == [len(prep.train[0]["input_ids"])]


def test_preference_rows_keep_text_ids_and_the_shorter_prompt_length(tok, tiny_model_dir, tmp_path):
    q, good, bad = "What is the capital of France?", "Paris.", "Rome."
    data = write_jsonl(tmp_path / "p.jsonl", [{"instruction": q, "chosen": good, "rejected": bad}])
    prep = prepare_data(data, tok, LoraOptions(), output=None, model_dir=tiny_model_dir, expect_kind="preference")
    prompt = tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)

    def side(answer):
        whole = tok.apply_chat_template([{"role": "user", "content": q}, {"role": "assistant", "content": answer}],
                                        tokenize=False)
        return whole[len(prompt):], tok(whole)["input_ids"] + [tok.eos_token_id]

    (chosen, c_ids), (rejected, r_ids) = side(good), side(bad)
    n = len(tok(prompt)["input_ids"])
    assert prep.kind == "preference" and prep.train == [{
        "prompt": prompt, "chosen": chosen + tok.eos_token, "rejected": rejected + tok.eos_token,
        "chosen_ids": c_ids, "rejected_ids": r_ids, "prompt_len": n}]
    assert prep.lengths == [max(len(c_ids), len(r_ids))]


def test_strict_stops_at_the_first_bad_row_and_fmt_is_passed_on(tok, tiny_model_dir, tmp_path):
    rows = [{"instruction": q, "output": a} for q, a in FACTS] + [{"instruction": "", "output": "x"}]
    odd = tmp_path / "rows.data"  # an extension the reader cannot guess from: --format says it
    odd.write_text("".join(json.dumps(r) + "\n" for r in rows))
    prep = prepare_data(odd, tok, LoraOptions(), output=None, model_dir=tiny_model_dir, fmt="jsonl")
    assert len(prep.train) == 4 and prep.rejected == 1
    with pytest.raises(InputError) as info:
        prepare_data(odd, tok, LoraOptions(), output=None, model_dir=tiny_model_dir, fmt="jsonl", strict=True)
    assert info.value.hint == "fix the row, or drop --strict to send bad rows to the rejects file and go on"
    with pytest.raises(InputError) as info:
        prepare_data(tmp_path / "missing.jsonl", tok, LoraOptions(), output=None, model_dir=tiny_model_dir)
    assert (info.value.message, info.value.hint) == (f"{tmp_path / 'missing.jsonl'}: no such data file or folder",
                                                    "check the --data path")


def test_a_text_that_opens_with_its_own_bos_trains_from_its_first_token(tok):
    tk = _Tokenize(tok, LoraOptions(), {tok.eos_token_id})
    ids, n = tk.ids("", "<s>A: yo")  # nothing masked: the prompt is empty and the text brings its BOS
    assert n == 0 and ids == tok("<s>A: yo", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
