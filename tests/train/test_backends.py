"""Each built-in backend trains the tiny model on CPU: what changes, what does not, and what is written."""

from __future__ import annotations

import json

import pytest
import torch
from train_helpers import metric_rows, weights, write_jsonl
from transformers import TrainerCallback

from dataforge.train import train


class Snapshot(TrainerCallback):
    """Copies of the trainer's parameters at the start and the end of training, plus the first batch."""

    def __init__(self):
        self.before, self.after, self.first_batch, self.model = {}, {}, None, None

    @staticmethod
    def _copy(model):
        return {n: p.detach().clone() for n, p in model.named_parameters()}

    def on_train_begin(self, args, state, control, model=None, train_dataloader=None, **kw):
        self.model, self.before = model, self._copy(model)
        self.first_batch = next(iter(train_dataloader))

    def on_train_end(self, args, state, control, model=None, **kw):
        self.after = self._copy(model)

    def changed(self, name):
        return not torch.equal(self.before[name], self.after[name])


def _train(backend, model, data, out, *sets, callbacks=None):
    return train(backend, model, data, out, sets=list(sets), callbacks=callbacks)


@pytest.fixture(scope="module")
def lora_run(tiny_model_dir, sft_data, tmp_path_factory):
    snap = Snapshot()
    out = tmp_path_factory.mktemp("lora") / "out"
    run = _train("lora", tiny_model_dir, sft_data, out, "max_steps=3", "learning_rate=1e-2", "r=4",
                 "batch_size=4", callbacks=[snap])
    return run, snap, out


def test_full_trains_every_weight_and_memorises(tiny_model_dir, sft_data, tmp_path):
    out = tmp_path / "full"
    run = _train("full", tiny_model_dir, sft_data, out, "max_steps=12", "learning_rate=3e-3", "batch_size=8")
    base, tuned = weights(tiny_model_dir), weights(out)
    assert set(base) == set(tuned)
    assert all(not torch.equal(base[k], tuned[k]) for k in base)
    losses = [r["loss"] for r in metric_rows(out) if "loss" in r]
    assert len(losses) == 12 and losses[-1] < 0.8 * losses[0]  # it is learning the four answers
    assert run.kind == "model" and run.global_step == 12
    for name in ("config.json", "model.safetensors", "tokenizer.json", "README.md", "dataforge_train.json"):
        assert (out / name).is_file(), name
    card = (out / "README.md").read_text()
    assert str(tiny_model_dir) in card and "trained on: 8" in card and "| learning_rate | 0.003 |" in card
    record = json.loads((out / "dataforge_train.json").read_text())
    assert record["options"]["max_steps"] == 12 and record["data"]["shape"] == "dolly"


def test_freeze_changes_exactly_the_last_layers(tiny_model_dir, sft_data, tmp_path):
    out = tmp_path / "freeze"
    run = _train("freeze", tiny_model_dir, sft_data, out, "layers=1", "max_steps=2", "learning_rate=1e-2")
    base, tuned = weights(tiny_model_dir), weights(out)
    changed = {k for k in base if not torch.equal(base[k], tuned[k])}
    last = {k for k in base if k.startswith("model.layers.1.")}
    head = {"lm_head.weight", "model.norm.weight"}
    assert changed == last | head
    assert all(name.startswith(("model.layers.1.", "lm_head", "model.norm")) for name in run.extra["trained_parameters"])


def test_lora_trains_adapters_only_with_prompt_masked(lora_run, tiny_model_dir):
    run, snap, out = lora_run
    lora = [n for n in snap.before if "lora_" in n]
    base = [n for n in snap.before if "lora_" not in n]
    assert lora and base
    assert all(snap.changed(n) for n in lora if "lora_B" in n)
    assert not any(snap.changed(n) for n in base)
    # TRL trained on dataforge's labels: in each row exactly the prompt's tokens are masked. The expected
    # prompt length comes from tokenizing the chat-templated question here, not from the labels under test.
    from train_helpers import FACTS
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    batch = snap.first_batch
    assert len(batch["labels"]) == 4
    for ids, labels in zip(batch["input_ids"].tolist(), batch["labels"].tolist()):
        question, answer = next((q, a) for q, a in FACTS if q in tok.decode(ids))
        prompt = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                         add_generation_prompt=True)
        n = len(tok(prompt)["input_ids"])  # with the BOS the tokenizer adds
        assert ids[:n] == tok(prompt)["input_ids"]
        assert labels[:n] == [-100] * n  # the whole prompt is masked ...
        assert labels[n] == ids[n] != -100  # ... and the answer's first token is trained
        whole = tok.apply_chat_template([{"role": "user", "content": question},
                                         {"role": "assistant", "content": answer}], tokenize=False)
        assert tok.decode([t for t in labels if t != -100]) == whole[len(prompt):] + tok.eos_token
    assert run.kind == "adapter" and (out / "adapter_model.safetensors").is_file()
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 4
    assert run.extra["trainable_params"] < run.extra["total_params"] / 2


def test_qlora_base_is_4bit_nf4_and_adapters_train(tiny_model_dir, sft_data, tmp_path):
    import bitsandbytes as bnb

    snap = Snapshot()
    out = tmp_path / "qlora"
    run = _train("qlora", tiny_model_dir, sft_data, out, "max_steps=2", "learning_rate=1e-2", "r=4",
                 "gradient_checkpointing=false", callbacks=[snap])
    blocks = [m for n, m in snap.model.named_modules() if ".layers." in n and isinstance(m, bnb.nn.Linear4bit)]
    assert len(blocks) == 2 * 7  # q k v o gate up down in both layers
    for m in blocks:
        assert m.weight.quant_state.quant_type == "nf4" and m.weight.dtype == torch.uint8
        assert m.weight.quant_state.nested  # double quantisation
    assert not isinstance(snap.model.get_output_embeddings(), bnb.nn.Linear4bit)
    assert all(snap.changed(n) for n in snap.before if "lora_B" in n)
    assert run.kind == "adapter" and run.extra["quantization"]["quant_type"] == "nf4"


def test_dpo_logs_rewards_and_margins_against_the_disabled_adapter(tiny_model_dir, pref_data, tmp_path):
    out = tmp_path / "dpo"
    run = _train("dpo", tiny_model_dir, pref_data, out, "max_steps=2", "batch_size=4", "learning_rate=1e-3")
    logged = [r for r in metric_rows(out) if "loss" in r]
    for key in ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"):
        assert all(key in r for r in logged), key
    assert "adapter disabled" in run.extra["reference"]
    assert run.kind == "adapter" and (out / "adapter_config.json").is_file()


def _word_pairs(numbers) -> list[dict]:
    """Content-dependent pairs: the prompt names a word and the chosen answer is that word, the rejected one the
    other word. Each answer is chosen as often as it is rejected, so no fixed pattern in the answers (and no
    untrained model) ranks them: only reading the prompt does."""
    return [{"instruction": f"Message {n}: answer with the word {w}.", "chosen": w, "rejected": v}
            for n in numbers for w, v in (("red", "blue"), ("blue", "red"))]


def _pairwise_accuracy(model, rows) -> float:
    model.eval()
    with torch.no_grad():
        wins = [model(torch.tensor([r["chosen_ids"]])).logits.item() > model(torch.tensor([r["rejected_ids"]])).logits.item()
                for r in rows]
    return sum(wins) / len(wins)


def test_reward_model_learns_what_the_prompt_asks_for(tiny_model_dir, tmp_path):
    from dataforge_hf_trainers.options import RewardOptions
    from transformers import AutoModelForSequenceClassification

    from dataforge.train.data import prepare_data
    from dataforge.train.run import load_tokenizer

    data = write_jsonl(tmp_path / "pairs.jsonl", _word_pairs(range(60)))  # varied filler, so it learns the rule
    held_file = write_jsonl(tmp_path / "held.jsonl", _word_pairs(range(100, 110)))  # unseen prompts, balanced
    tok = load_tokenizer(tiny_model_dir)
    held = prepare_data(held_file, tok, RewardOptions(eval_split=0), output=None, expect_kind="preference").train
    assert len(held) == 20
    untrained = []
    for seed in range(3):  # the base model with a fresh score head, as the trainer starts
        torch.manual_seed(seed)
        base = AutoModelForSequenceClassification.from_pretrained(str(tiny_model_dir), num_labels=1)
        base.config.pad_token_id = tok.pad_token_id
        untrained.append(_pairwise_accuracy(base, held))
    out = tmp_path / "reward"
    run = _train("reward", tiny_model_dir, data, out, "max_steps=40", "learning_rate=5e-3", "batch_size=8",
                 "eval_split=0.2")
    trained = _pairwise_accuracy(AutoModelForSequenceClassification.from_pretrained(str(out)), held)
    assert max(untrained) <= 0.6, untrained  # the task is not free
    assert trained >= 0.9 and trained >= max(untrained) + 0.3, (trained, untrained)
    assert run.counts["eval"] >= 2 and "eval_accuracy" in run.metrics
    assert json.loads((out / "config.json").read_text())["architectures"] == ["LlamaForSequenceClassification"]
