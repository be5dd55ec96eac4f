"""kto, orpo and simpo on CPU: each moves the chosen-vs-rejected log-prob margin of held-out pairs the right way.

The toy task: a polite answer is preferred to "no no no no no" (40 training
prompts). Held-out pairs use prompts never trained on. The margin is
log p(chosen | prompt) - log p(rejected | prompt), summed over the answer
tokens dataforge prepares (template, BOS, EOS), for the starting model and
for the trained adapter on it. A run with the labels swapped must move it
the other way, so a backend that ignored the labels would fail.
"""

from __future__ import annotations

import json

import pytest
import torch
from dataforge_hf_trainers.family_data import prepare_rows
from dataforge_hf_trainers.family_options import KTOOptions, ORPOOptions, SimPOOptions
from train_helpers import metric_rows, write_jsonl

from dataforge.errors import ConfigError, InputError
from dataforge.train import train
from dataforge.train.data import prepare_data
from dataforge.train.options import load_options

GOOD, BAD = "Thank you, that is great and helpful.", "no no no no no"


def _pairs(prompts, swap=False):
    return [{"instruction": p, "chosen": BAD if swap else GOOD, "rejected": GOOD if swap else BAD} for p in prompts]


TRAIN_PROMPTS = [f"Reply to message number {i}." for i in range(40)]
HELD_OUT = [f"Please answer note {i} today." for i in range(100, 108)]


@pytest.fixture(scope="module")
def family_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("family")
    pairs = write_jsonl(d / "pairs.jsonl", _pairs(TRAIN_PROMPTS))
    swapped = write_jsonl(d / "swapped.jsonl", _pairs(TRAIN_PROMPTS, swap=True))
    unpaired = [{"prompt": p, "completion": c, "label": label} for p in TRAIN_PROMPTS
                for c, label in ((GOOD, True), (BAD, False))]
    kto = write_jsonl(d / "kto.jsonl", unpaired)
    held = write_jsonl(d / "held.jsonl", _pairs(HELD_OUT))
    return {"pairs": pairs, "swapped": swapped, "kto": kto, "held": held}


def _margin(model_dir, held_path, adapter=None) -> float:
    """Mean over held-out pairs of log p(chosen) - log p(rejected), on the token ids dataforge trains on."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    rows = prepare_data(held_path, tok, ORPOOptions(), output=None, write_rejects=False).train
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()

    def logp(ids, start):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0, :-1].log_softmax(-1)
        target = torch.tensor(ids[1:])
        return logits.gather(1, target[:, None])[start - 1:, 0].sum().item()

    margins = [logp(r["chosen_ids"], r["prompt_len"]) - logp(r["rejected_ids"], r["prompt_len"]) for r in rows]
    return sum(margins) / len(margins)


@pytest.fixture(scope="module")
def margin_before(tiny_model_dir, family_data):
    return _margin(tiny_model_dir, family_data["held"])


@pytest.mark.parametrize("backend, data, sets", [
    ("kto", "kto", ["learning_rate=2e-3"]),
    ("orpo", "pairs", ["learning_rate=2e-3"]),
    ("simpo", "pairs", ["learning_rate=2e-3"]),
])
def test_backend_raises_the_held_out_margin(backend, data, sets, tiny_model_dir, family_data, margin_before,
                                            tmp_path):
    out = tmp_path / backend
    run = train(backend, tiny_model_dir, family_data[data], out, sets=["max_steps=8", "batch_size=8", *sets])
    after = _margin(tiny_model_dir, family_data["held"], adapter=out)
    assert after > margin_before + 2.0, (backend, margin_before, after)
    assert run.kind == "adapter" and (out / "adapter_config.json").is_file()
    logged = [r for r in metric_rows(out) if "loss" in r]
    assert len(logged) == 8 and all("rewards/margins" in r for r in logged)
    record = json.loads((out / "dataforge_train.json").read_text())
    assert record["backend"] == backend and record["result"]["global_step"] == 8


def test_swapped_labels_lower_the_margin(tiny_model_dir, family_data, margin_before, tmp_path):
    """The control: the same run on pairs with chosen and rejected swapped moves the margin the other way."""
    out = tmp_path / "simpo-swapped"
    train("simpo", tiny_model_dir, family_data["swapped"], out, sets=["max_steps=8", "batch_size=8",
                                                                      "learning_rate=2e-3"])
    after = _margin(tiny_model_dir, family_data["held"], adapter=out)
    assert after < margin_before - 2.0, (margin_before, after)


def test_kto_unpairs_preference_pairs(tiny_model_dir, family_data):
    """A pair becomes a desirable and an undesirable row on the same prompt, each ending with EOS."""
    from dataforge.train.run import load_tokenizer

    tok = load_tokenizer(tiny_model_dir)
    prepared = prepare_rows("kto", family_data["pairs"], tok, KTOOptions(), output=None, write_rejects=False)
    assert prepared.kind == "kto" and len(prepared.train) == 2 * len(TRAIN_PROMPTS)
    by_prompt: dict[str, list] = {}
    for row in prepared.train:
        by_prompt.setdefault(row["prompt"], []).append(row)
    assert len(by_prompt) == len(TRAIN_PROMPTS)
    for rows in by_prompt.values():
        labels = {r["label"]: r["completion"] for r in rows}
        assert set(labels) == {True, False}
        assert labels[True].startswith(GOOD) and labels[False].startswith(BAD)
        assert all(c.endswith(tok.eos_token) for c in labels.values())
    # TRL's KTO pairs each row with its batch neighbour for the KL term: both labels in every batch of 8
    assert all({r["label"] for r in prepared.train[i:i + 8]} == {True, False} for i in range(0, 80, 8))


def test_kto_refuses_data_without_labels(tiny_model_dir, tmp_path):
    from dataforge.train.run import load_tokenizer

    data = write_jsonl(tmp_path / "plain.jsonl", [{"instruction": "Say hi.", "output": "hi"}] * 3)
    with pytest.raises(InputError) as err:
        prepare_rows("kto", data, load_tokenizer(tiny_model_dir), KTOOptions(), output=None, write_rejects=False,
                     backend="kto")
    assert err.value.message.startswith("backend 'kto' trains on completions marked desirable or not")
    assert "the data is instruction data" in err.value.message


def test_kto_keeps_a_multi_turn_prompt(tiny_model_dir, tmp_path):
    """A KTO row whose prompt has earlier turns is rendered as that chat, not as its last question alone."""
    from dataforge.records import KTORecord
    from dataforge.train.run import load_tokenizer

    row = KTORecord(instruction="And in French?", completion="Bonjour.", label=True,
                    history=[{"role": "user", "content": "Say hello."}, {"role": "assistant", "content": "Hello."}])
    data = write_jsonl(tmp_path / "chat.jsonl", [row.to_dict()])
    tok = load_tokenizer(tiny_model_dir)
    [out] = prepare_rows("kto", data, tok, KTOOptions(), output=None, write_rejects=False).train
    assert out["prompt"].index("Say hello.") < out["prompt"].index("Hello.") < out["prompt"].index("And in French?")
    assert out["completion"].startswith("Bonjour.") and out["label"] is True


@pytest.mark.parametrize("model, sets, message", [
    (KTOOptions, ["batch_size=1"], "batch_size >= 2"),
    (SimPOOptions, ["packing=true"], "packing does not apply"),
    (ORPOOptions, ["adapter=none", "r=8"], "adapter=none"),
])
def test_option_combinations_are_refused_before_loading(model, sets, message):
    with pytest.raises(ConfigError) as err:
        load_options(model, None, sets, backend="x")
    assert message in err.value.message
