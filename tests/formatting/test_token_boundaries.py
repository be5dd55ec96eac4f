"""Token rules at their boundaries on the tiny tokenizer: exactly max_length, one token each side of the
prompt boundary, the prompt alone filling max_length, BOS counts, what a tokenizer is found to do.

The expected ids, boundaries and character offsets come from calling the tokenizer here, never from the
output under test. Written for faults `make mutation AREA=formatting` planted in
dataforge/formatting/tokens.py that no test noticed.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from dataforge.errors import ConfigError
from dataforge.formatting import RowRejected, tokenize_example
from dataforge.formatting.tokens import TokenizerFacts, tokenize_batch, tokenizer_facts
from dataforge.io.shapes import RowError

PROMPT, ANSWER = "Question: what is two plus two?\nAnswer:", " Four.</s>"


def expected(tok, prompt, completion):
    """BOS + the ids of the whole text, and how many of them lie inside the prompt's characters."""
    enc = tok(prompt + completion, add_special_tokens=False, return_offsets_mapping=True)
    inside = sum(1 for _s, e in enc["offset_mapping"] if e <= len(prompt))
    return [tok.bos_token_id] + enc["input_ids"], 1 + inside, enc["offset_mapping"]


def test_mask_is_exactly_the_prompt_tokens_plus_bos(tok):
    ids, n_prompt, _ = expected(tok, PROMPT, ANSWER)
    ex = tokenize_example(tok, PROMPT, ANSWER)
    assert ex["input_ids"] == ids
    assert ex["completion_mask"] == [0] * n_prompt + [1] * (len(ids) - n_prompt)
    assert ex["labels"] == [-100] * n_prompt + ids[n_prompt:]


def test_a_token_across_the_boundary_is_trained(tok):
    prompt, completion = "Hello wor", "ld is big</s>"
    ids, n_prompt, offsets = expected(tok, prompt, completion)
    # the tokenizer really has a token ending exactly at the boundary here, and one starting after it
    assert any(e == len(prompt) for _s, e in offsets)
    ex = tokenize_example(tok, prompt, completion)
    assert ex["completion_mask"].index(1) == n_prompt
    assert ex["completion_mask"][n_prompt - 1] == 0


def test_exactly_max_length_is_kept_and_one_over_is_refused_or_cut(tok):
    ids, n_prompt, offsets = expected(tok, PROMPT, ANSWER)
    length = len(ids)
    assert tokenize_example(tok, PROMPT, ANSWER, max_length=length)["input_ids"] == ids
    with pytest.raises(RowRejected) as info:
        tokenize_example(tok, PROMPT, ANSWER, max_length=length - 1)
    assert info.value.reason == (f"{length} tokens, more than --max-length {length - 1} (pass --truncate to cut"
                                 " such rows instead)")
    facts = tokenizer_facts(tok, any_special_ends=True)
    [cut] = tokenize_batch(facts, [PROMPT], [ANSWER], max_length=length - 1, truncate=True)
    assert cut.input_ids == ids[:length - 1] and cut.truncated is True and cut.original_length == length
    assert cut.completion_mask == ([0] * n_prompt + [1] * (length - n_prompt))[:length - 1]
    assert cut.text_end == offsets[length - 3][1]  # the last kept token's end (ids[0] is the BOS)
    [whole] = tokenize_batch(facts, [PROMPT], [ANSWER], max_length=length, truncate=True)
    assert whole.truncated is False and whole.text_end == len(PROMPT + ANSWER) and whole.original_length == length


def test_a_prompt_that_fills_max_length_leaves_nothing_to_train(tok):
    ids, n_prompt, _ = expected(tok, PROMPT, ANSWER)
    facts = tokenizer_facts(tok, any_special_ends=True)
    [refused] = tokenize_batch(facts, [PROMPT], [ANSWER], max_length=n_prompt, truncate=True)
    assert isinstance(refused, RowError) and refused.reason == (
        f"the prompt alone is {n_prompt} tokens, so nothing is left to train on within --max-length {n_prompt}")
    [one] = tokenize_batch(facts, [PROMPT], [ANSWER], max_length=n_prompt + 1, truncate=True)
    assert one.completion_mask == [0] * n_prompt + [1] and one.trained == 1


def test_empty_completion_two_bos_and_no_end_token_are_refused_with_their_reason(tok):
    facts = tokenizer_facts(tok, any_special_ends=True)
    # a BOS inside the text (not first) plus the one put in front: two
    empty, two_bos, no_end = tokenize_batch(facts, [PROMPT, "\n<s>" + PROMPT, PROMPT], ["", ANSWER, " Four."])
    assert (empty.reason, empty.field) == ("nothing to train on: the completion is empty after tokenization", "output")
    assert two_bos.reason == ("2 BOS tokens in one example (the text already holds one); use a template that does"
                              " not write the BOS")
    assert no_end.reason == ("the example does not end with an EOS/end-of-turn token, so the model would not learn"
                             " to stop; check the template's end_of_turn")
    # a text that starts with its own BOS gets no second one
    [own] = tokenize_batch(facts, ["<s>" + PROMPT], [ANSWER])
    assert own.input_ids == tok("<s>" + PROMPT + ANSWER, add_special_tokens=False)["input_ids"]
    assert own.input_ids.count(tok.bos_token_id) == 1
    assert tokenize_batch(facts, [], []) == []


def test_what_tokenizer_facts_finds_on_the_tiny_tokenizer(tok):
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    facts = tokenizer_facts(tok, end_of_turn="<|im_end|>")
    assert (facts.bos_id, facts.eos_id, facts.pad_id) == (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id)
    assert facts.adds_bos is True and facts.adds_eos is False and facts.fast is True
    assert facts.end_ids == {im_end, tok.eos_token_id}
    assert facts.special_ids == set(tok.all_special_ids)
    # every special token may end a completion, except BOS and pad
    assert tokenizer_facts(tok, any_special_ends=True).end_ids == set(tok.all_special_ids) - {
        tok.bos_token_id, tok.pad_token_id}
    assert tokenizer_facts(tok, eos_token="<|im_end|>").end_ids == {im_end, tok.eos_token_id}
    with pytest.raises(ConfigError) as info:
        tokenizer_facts(tok, end_of_turn="<|eot_id|>")
    n = len(tok("<|eot_id|>", add_special_tokens=False)["input_ids"])
    assert info.value.message == (f"the template ends turns with '<|eot_id|>', which this tokenizer splits into {n}"
                                  " tokens (it is not in its vocabulary)")


def test_tokenizer_warnings_name_each_problem(tok):
    def facts(**kw):
        base = dict(tokenizer=tok, bos_id=2, eos_id=3, pad_id=0, adds_bos=True, adds_eos=False)
        return TokenizerFacts(**{**base, **kw})

    assert facts().warnings() == []
    assert facts(pad_id=None).warnings() == [
        "the tokenizer has no pad token; trainers then pad with EOS, and a collator that masks padding also masks"
        " the EOS, so the model may never learn to stop; add a pad token"]
    assert facts(pad_id=3).warnings() == [
        f"the tokenizer's pad token equals its EOS token ({tok.eos_token!r}): a collator that masks padding also"
        " masks the EOS, so the model may never learn to stop; set a distinct pad token (e.g."
        " tokenizer.add_special_tokens({'pad_token': '<pad>'}))"]
    assert facts(adds_eos=True).warnings() == [
        "the tokenizer appends EOS by itself; dataforge tokenizes without it (the template writes the EOS), but a"
        " trainer calling tokenizer(text) would add a second one"]


class FakeTok:
    """Just what tokenizer_facts reads: one id per character, specials from two places."""

    bos_token_id, eos_token_id, pad_token_id = 1, 2, 0
    all_special_ids = [0, 1, 2]
    added_tokens_decoder = {7: SimpleNamespace(special=True), 8: SimpleNamespace(special=False)}

    def __init__(self, adds_bos=True, adds_eos=False):
        self.adds = ([1] if adds_bos else []), ([2] if adds_eos else [])

    def __call__(self, text, add_special_tokens=True, return_offsets_mapping=False):
        ids = [9 if text == "<eot>" else 10 + ord(c) for c in ([text] if text == "<eot>" else text)]
        if add_special_tokens:
            ids = self.adds[0] + ids + self.adds[1]
        return {"input_ids": ids}


def test_tokenizer_facts_reads_specials_from_both_places_and_what_the_tokenizer_adds():
    facts = tokenizer_facts(FakeTok(), end_of_turn="<eot>", any_special_ends=True)
    assert facts.special_ids == {0, 1, 2, 7}  # all_special_ids plus the added tokens marked special
    assert facts.end_ids == {9, 2, 7}  # the marker, EOS, and every special but BOS and pad
    assert tokenizer_facts(FakeTok(), end_of_turn="<eot>").end_ids == {9, 2}
    plain = tokenizer_facts(FakeTok(adds_bos=False, adds_eos=True))
    assert (plain.adds_bos, plain.adds_eos) == (False, True)
    assert (tokenizer_facts(FakeTok()).adds_bos, tokenizer_facts(FakeTok()).adds_eos) == (True, False)

    class Bare(FakeTok):  # a tokenizer object without all_special_ids: the added tokens still count
        all_special_ids = property(lambda self: (_ for _ in ()).throw(AttributeError("all_special_ids")))

    assert tokenizer_facts(Bare()).special_ids == {7}


def test_the_hint_for_a_marker_the_tokenizer_splits(tok):
    with pytest.raises(ConfigError) as info:
        tokenizer_facts(tok, end_of_turn="<|eot_id|>")
    assert info.value.hint == ("use a template made for this model: --template chat (the tokenizer's own), or one"
                               " whose special tokens the tokenizer has")


def test_a_slow_tokenizer_gets_the_same_rows(tok):
    fast = tokenizer_facts(tok, any_special_ends=True)
    slow = dataclasses.replace(fast, fast=False)  # the boundary from the prompt's own tokens instead of offsets
    prompts, completions = [PROMPT, "Hi\n"], [ANSWER, "there</s>"]
    assert tokenize_batch(slow, prompts, completions) == tokenize_batch(fast, prompts, completions)
    ids, n_prompt, _ = expected(tok, PROMPT, ANSWER)
    [cut] = tokenize_batch(slow, [PROMPT], [ANSWER], max_length=len(ids) - 1, truncate=True)
    assert cut.input_ids == ids[:-1] and cut.text_end == len(PROMPT + ANSWER)  # no offsets: the whole text


def test_truncation_is_off_unless_asked_and_tokenize_example_passes_it_on(tok):
    ids, n_prompt, _ = expected(tok, PROMPT, ANSWER)
    facts = tokenizer_facts(tok, any_special_ends=True)
    [refused] = tokenize_batch(facts, [PROMPT], [ANSWER], max_length=len(ids) - 1)
    assert isinstance(refused, RowError)
    ex = tokenize_example(tok, PROMPT, ANSWER, max_length=len(ids) - 1, truncate=True)
    assert ex["input_ids"] == ids[:-1] and ex["labels"] == [-100] * n_prompt + ids[n_prompt:-1]
    with pytest.raises(RowRejected) as info:
        tokenize_example(tok, PROMPT, "")
    assert (info.value.reason, info.value.field) == (
        "nothing to train on: the completion is empty after tokenization", "output")
