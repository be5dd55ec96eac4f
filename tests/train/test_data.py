"""Data preparation: prompt masking, EOS, over-long rows rejected (never truncated), kinds, the dry run."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from train_helpers import FACTS, write_jsonl

from dataforge.cli.main import cli
from dataforge.errors import ConfigError, InputError
from dataforge.train.data import IGNORE, prepare_data
from dataforge.train.options import LoraOptions
from dataforge.train.run import load_tokenizer


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    return load_tokenizer(tiny_model_dir)


def test_prompt_tokens_carry_minus_100(tok, tiny_model_dir, sft_data, tmp_path):
    prep = prepare_data(sft_data, tok, LoraOptions(), output=tmp_path / "o", model_dir=tiny_model_dir)
    assert len(prep.train) == 8 and prep.rejected == 0
    for row, (question, answer) in zip(prep.train, FACTS * 2):
        ids, labels = row["input_ids"], row["labels"]
        n_prompt = labels.index(next(x for x in labels if x != IGNORE))
        assert all(x == IGNORE for x in labels[:n_prompt])
        assert labels[n_prompt:] == ids[n_prompt:]  # every completion token is trained
        prompt = tok.decode(ids[:n_prompt])
        answer_text = tok.decode(ids[n_prompt:])
        assert question in prompt and answer not in prompt
        # the boundary is exactly the answer's first token: one token earlier would train on the
        # prompt's last piece, one later would mask the answer's first word
        assert answer_text.lstrip(" ").startswith(answer), (answer_text[:40], answer)
        assert ids[-1] == tok.eos_token_id  # the model learns to stop
    # without completion-only loss every token is labelled
    full = prepare_data(sft_data, tok, LoraOptions(completion_only_loss=False), output=None, model_dir=tiny_model_dir)
    assert all(r["labels"] == r["input_ids"] for r in full.train)


def test_rows_over_max_length_are_rejected_and_counted(tok, tiny_model_dir, tmp_path):
    rows = [{"instruction": q, "output": a} for q, a in FACTS]
    rows.append({"instruction": "Tell a long story.", "output": "once upon a time " * 40})
    data = write_jsonl(tmp_path / "d.jsonl", rows + [{"instruction": "", "output": "no question"}])
    out = tmp_path / "run"
    prep = prepare_data(data, tok, LoraOptions(max_length=64, eval_split=0.25, seed=1), output=out,
                        model_dir=tiny_model_dir)
    assert prep.read == 6 and prep.too_long == 1 and prep.rejected == 2
    assert len(prep.train) + len(prep.eval) + prep.rejected == prep.read  # nothing dropped silently
    assert len(prep.eval) >= 1 and all(len(r["input_ids"]) <= 64 for r in prep.train + prep.eval)
    rejects = [json.loads(line) for line in (tmp_path / "run.rejects.jsonl").read_text().splitlines()]
    reasons = " | ".join(r["reason"] for r in rejects)
    assert "over max_length 64 (not truncated)" in reasons and "empty" in reasons
    # the same rows land in the same split on every run (split by record id, not by order)
    rows_reversed = write_jsonl(tmp_path / "reversed.jsonl",
                                list(reversed(rows + [{"instruction": "", "output": "no question"}])))
    again = prepare_data(rows_reversed, tok, LoraOptions(max_length=64, eval_split=0.25, seed=1),
                         output=None, model_dir=tiny_model_dir)
    assert sorted(map(tuple, (r["input_ids"] for r in again.eval))) == \
        sorted(map(tuple, (r["input_ids"] for r in prep.eval)))
    assert sorted(map(tuple, (r["input_ids"] for r in again.train))) == \
        sorted(map(tuple, (r["input_ids"] for r in prep.train)))


CHAT = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there."},
                     {"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]}


def _expected_labels(tok, answers: list[str]) -> list[int]:
    """Labels by hand: a token is trained iff its characters lie inside one of `answers` (each an assistant turn
    as the ChatML template writes it, end-of-turn marker included) in the rendered chat; BOS is masked and the
    EOS dataforge appends is trained. Uses the tokenizer's offsets, not dataforge's prefix tokenization."""
    text = tok.apply_chat_template(CHAT["messages"], tokenize=False)
    spans, start = [], 0
    for answer in answers:
        at = text.index(answer, start)
        spans.append((at, at + len(answer)))
        start = at + len(answer)
    enc = tok(text, return_offsets_mapping=True)
    labels = [tid if b > a and any(lo <= a < hi for lo, hi in spans) else IGNORE
              for tid, (a, b) in zip(enc["input_ids"], enc["offset_mapping"])]
    return labels + [tok.eos_token_id]


@pytest.mark.parametrize("train_on, answers", [
    ("all_assistant", ["Hello there.<|im_end|>\n", "Paris.<|im_end|>\n"]),
    ("last_assistant", ["Paris.<|im_end|>\n"]),
])
def test_conversations_train_on_assistant_turns_exactly(tok, tiny_model_dir, tmp_path, train_on, answers):
    data = write_jsonl(tmp_path / "c.jsonl", [CHAT])
    sets = {} if train_on == "all_assistant" else {"train_on": train_on}  # every assistant turn is the default
    row = prepare_data(data, tok, LoraOptions(**sets), output=None, model_dir=tiny_model_dir).train[0]
    assert row["labels"] == _expected_labels(tok, answers)
    trained = tok.decode([t for t in row["labels"] if t != IGNORE], skip_special_tokens=False)
    assert trained.replace(" ", "") == ("".join(answers) + tok.eos_token).replace(" ", "")
    assert row["input_ids"][:-1] == tok(tok.apply_chat_template(CHAT["messages"], tokenize=False))["input_ids"]


def test_conversations_with_a_template_pack_train_every_turn(tok, tiny_model_dir, tmp_path):
    data = write_jsonl(tmp_path / "c.jsonl", [CHAT])
    row = prepare_data(data, tok, LoraOptions(template="chatml"), output=None, model_dir=tiny_model_dir).train[0]
    trained = tok.decode([t for t in row["labels"] if t != IGNORE])
    masked = tok.decode([t for t, lab in zip(row["input_ids"], row["labels"]) if lab == IGNORE])
    assert "Hello there." in trained and "Paris." in trained
    assert "Hi" in masked and "Capital of France?" in masked and "Paris" not in masked


def test_data_kind_must_fit_the_backend(tok, tiny_model_dir, sft_data, pref_data):
    from dataforge_hf_trainers.options import DPOOptions

    with pytest.raises(InputError, match="trains on preference .* but the data is instruction data"):
        prepare_data(sft_data, tok, DPOOptions(), output=None, model_dir=tiny_model_dir, expect_kind="preference",
                     backend="dpo")
    with pytest.raises(InputError, match="use a dpo or reward backend"):
        prepare_data(pref_data, tok, LoraOptions(), output=None, model_dir=tiny_model_dir, expect_kind="instruction",
                     backend="lora")


def test_missing_chat_template_is_caught_before_training(tmp_path, tiny_tokenizer_dir, sft_data):
    from dataforge.train.render import check_template

    tok = load_tokenizer(tiny_tokenizer_dir)
    tok.chat_template = None
    with pytest.raises(ConfigError, match="no chat template") as err:
        check_template("chat_template", tok)
    assert "template=chatml" in err.value.hint
    assert "alpaca" in check_template("alpaca", tok)


def test_dry_run_prints_checks_and_memory_without_training(tiny_model_dir, tmp_path, tiny_tokenizer_dir):
    rows = [{"instruction": q, "output": a} for q, a in FACTS] + [{"instruction": "x", "output": "y " * 300}]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "never"
    r = CliRunner().invoke(cli, ["train", "-b", "qlora", "-m", str(tiny_model_dir), "-d", str(data), "-o", str(out),
                                 "--dry-run", "--set", "max_length=128", "--set", "r=4"], terminal_width=200)
    assert r.exit_code == 0, r.output
    for text in ("weights at 16-bit", "weights at 4-bit NF4", "trainable parameters", "AdamW states",
                 "activations", "total (estimate)", "1 rows over 128 tokens", "effective scale alpha/r = 8",
                 "prompt tokens carry label -100", "tokenizer's chat template"):
        assert text in r.stdout, text
    assert not out.exists()  # no weights loaded, nothing trained or written there
    report = json.loads(CliRunner().invoke(cli, ["train", "-b", "qlora", "-m", str(tiny_model_dir), "-d", str(data),
                                                 "-o", str(out), "--dry-run", "--json", "--set", "r=4"]).stdout)
    mem = {name: size for name, size, _ in report["memory"]}
    assert report["counts"]["train"] == 5 and report["steps"] == 2
    # LoRA parameters are exact: r * (in + out) over every linear layer of every block
    h, inter, layers = 64, 128, 2
    per_layer = 4 * 4 * (h + h) + 2 * 4 * (h + inter) + 4 * (inter + h)
    assert report["trainable"] == layers * per_layer
    assert set(mem) >= {"weights at 16-bit", "weights at 4-bit NF4"}
