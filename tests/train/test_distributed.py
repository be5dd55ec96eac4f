"""`--nproc 2` runs two CPU processes with gloo (torchrun); both end with the same weights."""

from __future__ import annotations

import json
import sys

import pytest
import torch
from train_helpers import weights

from dataforge.errors import ConfigError
from dataforge.train import train
from dataforge.train.launch import command


def test_two_cpu_processes_train_the_same_weights(tiny_model_dir, sft_data, tmp_path):
    out = tmp_path / "ddp"
    run = train("full", tiny_model_dir, sft_data, out, sets=["max_steps=2", "batch_size=2", "learning_rate=1e-2"],
                nproc=2)
    extra = run.extra
    assert extra["distributed_backend"] == "gloo"
    assert len(extra["rank_checksums"]) == 2 and extra["ranks_in_sync"]
    assert extra["rank_checksums"][0] == extra["rank_checksums"][1]
    record = json.loads((out / "dataforge_train.json").read_text())
    assert record["world_size"] == 2 and run.global_step == 2
    base, tuned = weights(tiny_model_dir), weights(out)
    assert any(not torch.equal(base[k], tuned[k]) for k in base)  # they trained, not merely agreed


def test_launch_commands(tmp_path):
    job = tmp_path / "job.json"
    assert command(job, nproc=2) == [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                     "--nproc_per_node", "2", "-m", "dataforge.train.worker", str(job)]
    cfg = tmp_path / "fsdp.yaml"
    acc = command(job, nproc=4, accelerate_config=cfg)
    assert acc[:5] == [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(cfg)]
    assert acc[-3:] == ["-m", "dataforge.train.worker", str(job)] and "--num_processes" in acc


def test_missing_accelerate_config_and_bad_nproc_are_refused(tiny_model_dir, sft_data, tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        train("lora", tiny_model_dir, sft_data, tmp_path / "o", accelerate_config=tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="at least 1"):
        train("lora", tiny_model_dir, sft_data, tmp_path / "o", nproc=0)
