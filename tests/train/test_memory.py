"""The dry run's memory estimate: each part counted once, in the dtype the backend really holds it.

How close the estimate comes to measured peaks is bench/bench_train_memory.py's job (bench/RESULTS.md); these
tests pin the arithmetic that the bench showed was wrong: trained weights counted twice, 4-bit runs without the
fp32 embeddings/LM head of k-bit preparation or the loading peak.
"""

from __future__ import annotations

import pytest

from dataforge.train.memory import LOGIT_TOKENS, estimate, inspect_model


@pytest.fixture(scope="module")
def info(tiny_model_dir):
    return inspect_model(tiny_model_dir)


def _rows(est) -> dict:
    return {name: size for name, size, _ in est.rows}


def _opts(backend: str, **values):
    from dataforge.train.registry import get_backend

    return get_backend(backend).options_model(**values)


def test_model_shape_is_read_from_the_config_and_files(info, tiny_model_dir):
    assert (info.hidden, info.layers, info.intermediate, info.q_dim, info.kv_dim, info.mlp_up) == (64, 2, 128, 64, 64, 2)
    files = sum(f.stat().st_size for f in tiny_model_dir.glob("*.safetensors"))
    assert info.checkpoint_bytes == files > info.params * 4  # fp32 file, plus its header


def test_full_counts_trained_weights_once(info):
    rows = _rows(estimate(info, _opts("full", max_length=64), longest=64))
    p = info.params
    assert rows["weights as trained"] == 4 * p  # fp32 master weights
    assert rows["trainable parameters"] == 0  # they are the weights above
    assert rows["gradients"] == 4 * p and rows["AdamW states"] == 8 * p


def test_bfloat16_full_keeps_fp32_masters_plus_16bit_casts(info):
    rows = _rows(estimate(info, _opts("full", dtype="bfloat16", max_length=64), longest=64))
    assert rows["weights as trained"] == 4 * info.params
    assert rows["autocast weight copies"] == 2 * info.params


def test_qlora_holds_the_rest_in_fp32_and_peaks_while_loading(info):
    est = estimate(info, _opts("qlora", r=4, max_length=64), longest=64)
    rows = _rows(est)
    quant = sum(i * o for i, o in info.linear.values())
    nf4 = quant * (4 + (8 + 32 / 256) / 64) / 8  # 4.127 bits per weight with double quantisation
    assert rows["weights as trained"] == pytest.approx(nf4 + (info.params - quant) * 4)
    # every 4-bit load reads the whole checkpoint next to the weights it builds
    assert rows["peak while loading"] == pytest.approx(info.checkpoint_bytes + rows["weights as trained"])
    assert est.total >= rows["peak while loading"]
    lora = 4 * (4 * (64 + 64) + 2 * (64 + 128) + (128 + 64)) * 2  # r x (in + out), 7 linear layers x 2 blocks
    assert rows["trainable parameters"] == 4 * lora and rows["gradients"] == 4 * lora


def test_an_fp32_checkpoint_loads_in_place_but_converting_it_costs_the_file(info):
    same = _rows(estimate(info, _opts("lora", max_length=64), longest=64))
    bf16 = _rows(estimate(info, _opts("lora", dtype="bfloat16", max_length=64), longest=64))
    assert same["peak while loading"] == same["weights as trained"] == 4 * info.params
    assert bf16["peak while loading"] == pytest.approx(info.checkpoint_bytes + 2 * info.params)


def test_logits_are_tiles_and_reward_models_have_none(info):
    lm = _rows(estimate(info, _opts("lora", max_length=64, batch_size=4), longest=64))
    assert lm["logits"] == 10 * (4 * 64) * info.vocab * 4  # CPU: ten fp32 tiles of (tokens x vocab)
    long = _rows(estimate(info, _opts("lora", max_length=4096, batch_size=4), longest=4096))
    assert long["logits"] == 10 * LOGIT_TOKENS * info.vocab * 4  # capped at TRL's tile, not batch x length
    reward = _rows(estimate(info, _opts("reward", max_length=64, batch_size=4), longest=64))
    assert reward["logits"] < lm["logits"] / 100


def test_freeze_backpropagates_through_the_trained_layers_only(info):
    full = _rows(estimate(info, _opts("full", max_length=64), longest=64))
    freeze = _rows(estimate(info, _opts("freeze", layers=1, max_length=64), longest=64))
    assert freeze["activations"] == pytest.approx(full["activations"] / info.layers)
