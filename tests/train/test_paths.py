"""What a training folder records about where things are must work from any other folder."""

from __future__ import annotations

import json

import torch

from dataforge.train import train


def test_relative_model_path_is_stored_absolute(tiny_model_dir, sft_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tiny_model_dir.parent)
    out = tmp_path / "out"
    train("lora", tiny_model_dir.name, sft_data, out, sets=["max_steps=1", "r=4"])
    record = json.loads((out / "dataforge_train.json").read_text())
    assert record["base_model"]["path"] == str(tiny_model_dir)
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_model_dir)
    card = (out / "README.md").read_text()
    assert f"base_model: {tiny_model_dir}\n" in card and f"--base {tiny_model_dir} " in card

    # The model card's own loading snippet, run from another folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    from peft import AutoPeftModelForCausalLM

    model = AutoPeftModelForCausalLM.from_pretrained(str(out))
    vocab = json.loads((tiny_model_dir / "config.json").read_text())["vocab_size"]
    assert model(torch.tensor([[1, 2, 3]])).logits.shape == (1, 3, vocab)
    assert any("lora_A" in n for n, _ in model.named_parameters())
