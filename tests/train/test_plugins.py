"""Backends come from entry points: the built-ins, a third party's, and a broken one."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from dataforge.cli.main import cli
from dataforge.errors import ConfigError
from dataforge.train.registry import list_backends

BUILTINS = {"full", "freeze", "lora", "qlora", "dpo", "reward"}

# A third party's backend that is not built on transformers at all: it "trains" a bigram table
# over the completion tokens dataforge prepared, which is enough to show the protocol is all it needs.
ACME = '''
import json
from collections import Counter

from pydantic import Field

from dataforge.train import TrainOptions, TrainResult


class BigramOptions(TrainOptions):
    smoothing: float = Field(1.0, gt=0, description="Add-k smoothing.")


class Bigram:
    name = "bigram"
    description = "Counts token bigrams of the answers (a third-party test backend)."
    options_model = BigramOptions

    def check_environment(self, options):
        return []

    def train(self, job):
        counts = Counter()
        for row in job.train_rows:
            pairs = zip(row["input_ids"], row["input_ids"][1:])
            labels = row["labels"][1:]
            counts.update(f"{a} {b}" for (a, b), label in zip(pairs, labels) if label != -100)
        (job.output_dir / "bigrams.json").write_text(json.dumps(counts))
        return TrainResult(metrics={"bigrams": len(counts), "smoothing": job.options.smoothing},
                           artifacts=["bigrams.json"], kind="model", global_step=1)


BACKEND = Bigram()
'''


@pytest.fixture
def acme(tmp_path, monkeypatch):
    """An installed-looking distribution on sys.path: a .dist-info with entry_points.txt."""
    site = tmp_path / "site"
    (site / "acme_trainers").mkdir(parents=True)
    (site / "acme_trainers" / "__init__.py").write_text(ACME)
    (site / "acme_broken.py").write_text("raise ImportError('acme_broken needs libfoo, which is not installed')\n")
    info = site / "acme_trainers-0.3.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-trainers\nVersion: 0.3.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""\
        [dataforge.trainers]
        bigram = acme_trainers:BACKEND
        broken = acme_broken:BACKEND
        """))
    monkeypatch.syspath_prepend(str(site))
    return site


def test_builtins_are_registered_through_entry_points():
    infos = {i.name: i for i in list_backends()}
    assert BUILTINS <= set(infos)
    for name in BUILTINS:
        assert infos[name].ok, infos[name].error
        assert infos[name].distribution == "dataforge-hf-trainers"
        assert infos[name].target.startswith("dataforge_hf_trainers.backends:")


def test_third_party_backend_is_listed_and_a_broken_one_reported(acme):
    r = CliRunner().invoke(cli, ["plugins", "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["bigram"]["distribution"] == "acme-trainers" and rows["bigram"]["version"] == "0.3.0"
    assert rows["bigram"]["ok"] and "bigram" in rows["bigram"]["description"].lower()
    assert not rows["broken"]["ok"]
    assert "ImportError: acme_broken needs libfoo" in rows["broken"]["error"]
    assert BUILTINS <= set(rows)
    table = CliRunner().invoke(cli, ["plugins"], terminal_width=250)
    assert "acme-trainers" in table.output and "failed to load" in table.output


def test_third_party_backend_runs(acme, tiny_model_dir, sft_data, tmp_path):
    out = tmp_path / "bigram"
    r = CliRunner().invoke(cli, ["train", "-b", "bigram", "-m", str(tiny_model_dir), "-d", str(sft_data),
                                 "-o", str(out), "--set", "smoothing=0.5", "--json"])
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["metrics"]["smoothing"] == 0.5 and result["metrics"]["bigrams"] > 0
    table = json.loads((out / "bigrams.json").read_text())
    assert sum(table.values()) > 0
    record = json.loads((out / "dataforge_train.json").read_text())
    assert record["backend"] == "bigram" and record["data"]["counts"]["train"] == 8
    assert (out / "README.md").read_text().count("bigram") >= 1


def test_broken_backend_refuses_with_its_error(acme, tiny_model_dir):
    from dataforge.train.run import resolve

    with pytest.raises(ConfigError) as err:
        resolve("broken", tiny_model_dir, "d.jsonl", "o")
    assert "failed to load" in err.value.message and "libfoo" in err.value.message
