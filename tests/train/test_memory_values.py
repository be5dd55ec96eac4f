"""The memory estimate's rows and notes, value by value, on the tiny model (found by `make mutation AREA=train`:
memory.py mutants that changed a factor, a unit or a note survived tests/train/test_memory.py)."""

from __future__ import annotations

import pytest

from dataforge.train.memory import GIB, estimate, human, inspect_model


@pytest.fixture(scope="module")
def info(tiny_model_dir):
    return inspect_model(tiny_model_dir)


def _opts(backend: str, **values):
    from dataforge.train.registry import get_backend

    return get_backend(backend).options_model(**values)


def _rows(est) -> dict:
    return {name: (size, note) for name, size, note in est.rows}


def test_human_sizes_and_their_unit_boundaries():
    assert human(GIB) == "1.00 GiB" and human(3 * GIB // 2) == "1.50 GiB"
    assert human(GIB - 1) == "1024.0 MiB" and human(5 * 1024**2) == "5.0 MiB"
    assert human(1024**2 - 1) == "1024.0 KiB" and human(1536) == "1.5 KiB"


def test_16_bit_activations_are_exactly_half_the_float32_ones(info):
    fp32 = _rows(estimate(info, _opts("full", max_length=64), longest=64))
    bf16 = _rows(estimate(info, _opts("full", max_length=64, dtype="bfloat16"), longest=64))
    assert bf16["activations"][0] * 2 == fp32["activations"][0] > 0


def test_batches_are_padded_to_the_longest_row_unless_packing_fills_max_length(info):
    short = _rows(estimate(info, _opts("full", max_length=64, batch_size=1), longest=20))
    assert short["activations"][1].startswith("batch 1 x 20 tokens")
    packed = _rows(estimate(info, _opts("full", max_length=64, batch_size=1, packing=True), longest=20))
    assert packed["activations"][1].startswith("batch 1 x 64 tokens")


def test_gradient_checkpointing_keeps_one_hidden_vector_per_layer(info):
    h, layers = info.hidden, info.layers
    per_token = 7 * h + 2 * info.q_dim + 2 * info.kv_dim + 2 * info.mlp_up * info.intermediate
    size, note = _rows(estimate(info, _opts("full", max_length=64, batch_size=1, gradient_checkpointing=True),
                                longest=64))["activations"]
    assert size == 4 * (layers * 64 * h + 64 * per_token)  # fp32, one row of 64 tokens, no mask at batch 1
    assert note.endswith("one hidden vector per layer, one layer recomputed")


def test_qlora_without_double_quantisation_stores_a_32_bit_constant_per_64_weights(info):
    rows = _rows(estimate(info, _opts("qlora", r=4, max_length=64, double_quant=False), longest=64))
    quant = sum(i * o for i, o in info.linear.values())
    assert rows["weights as trained"][0] == pytest.approx(quant * (4 + 32 / 64) / 8 + (info.params - quant) * 4)


def test_dpo_without_an_adapter_keeps_a_float32_reference_copy(info):
    opts = _opts("dpo", max_length=64, adapter="none")
    if not opts.plan().reference_copy:
        pytest.fail("dpo with adapter='none' should keep a reference copy")
    rows = _rows(estimate(info, opts, longest=64))
    assert rows["reference model copy"][0] == info.params * 4.0


def test_the_notes_say_what_each_row_counts(info):
    rows = _rows(estimate(info, _opts("full", max_length=64, batch_size=1), longest=64))
    assert rows["trainable parameters"][1].endswith(", the weights above")
    assert rows["logits"][1] == (f"vocab {info.vocab:,}: TRL's fused log-prob tiles ({64:,} x {info.vocab:,}),"
                                 " not full logits")
    lora = _rows(estimate(info, _opts("lora", r=4, max_length=64), longest=64))
    assert not lora["trainable parameters"][1].endswith("the weights above")


def test_a_folder_without_config_json_is_refused_with_what_to_pass(tmp_path):
    from dataforge.errors import InputError
    from dataforge.train.memory import read_model_config

    with pytest.raises(InputError) as info:
        read_model_config(tmp_path)
    assert info.value.message == f"{tmp_path}: not a model folder (no config.json)"
    assert info.value.hint == "pass a local Hugging Face model folder (save_pretrained output) to --model"


def test_the_lora_and_loading_notes(info):
    rows = _rows(estimate(info, _opts("lora", r=4, max_length=64, batch_size=1), longest=64))
    trainable = rows["trainable parameters"]
    assert trainable[1] == f"{int(trainable[0] / 4):,} ({trainable[0] / 4 / info.params:.2%})"
    loading = rows["peak while loading"]
    held = rows["weights as trained"][0]
    # the tiny model's checkpoint is float32 like the weights trained: used as it is, or converted (+ its pages)
    assert (loading[0], loading[1]) in ((held, "the checkpoint is used as it is"),
                                        (info.checkpoint_bytes + held, "checkpoint pages + converted weights"))


def test_empty_training_data_names_the_flag_to_check(tmp_path, tiny_model_dir):
    from dataforge.errors import InputError
    from dataforge.train.data import prepare_data
    from dataforge.train.options import LoraOptions
    from dataforge.train.run import load_tokenizer

    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError) as info:
        prepare_data(empty, load_tokenizer(tiny_model_dir), LoraOptions(), output=None, model_dir=tiny_model_dir)
    assert info.value.message == f"{empty}: no rows to train on (the input is empty)"
    assert info.value.hint == "check the --data path"
