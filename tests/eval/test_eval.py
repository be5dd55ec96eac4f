"""`dataforge eval` on a tiny local model: known answers, adapters in one table, bad input."""

from __future__ import annotations

import json
import math
import re
import shutil

import pytest
from click.testing import CliRunner
from eval_helpers import fair_judge, qa_rows, write_jsonl

from dataforge.cli.main import cli
from dataforge.errors import ConfigError, InputError
from dataforge.eval import evaluate


def run_cli(*args):
    return CliRunner().invoke(cli, ["-q", *map(str, args)], env={"COLUMNS": "220"})


def test_loss_is_the_training_loss_and_perplexity_its_exp(tiny_model_dir, tmp_path):
    """Eval loss = the mean over answer tokens of what the model computes on `dataforge train`'s own rows."""
    import torch
    from transformers import AutoModelForCausalLM

    from dataforge.train import TrainOptions, prepare_data
    from dataforge.train.run import load_tokenizer

    rows = qa_rows()
    long_row = {"id": "long", "instruction": "word " * 900, "output": "x"}  # past the model's 512 positions
    data = write_jsonl(tmp_path / "eval.jsonl", rows + [long_row])
    res = evaluate(tiny_model_dir, data, metrics="loss", output=tmp_path / "out", batch_size=3)
    scores = res.data["variants"][0]["scores"]
    assert scores["perplexity"] == pytest.approx(math.exp(scores["loss"]))
    assert res.data["rows"] == {"read": 5, "scored": 4, "rejected": 1, "shape": res.data["rows"]["shape"],
                                "rejects": str(tmp_path / "out" / "eval.rejects.jsonl")}
    reject = json.loads((tmp_path / "out" / "eval.rejects.jsonl").read_text())
    assert reject["id"] == "long" and "512 positions" in reject["reason"]

    tok = load_tokenizer(tiny_model_dir)
    prepared = prepare_data(str(write_jsonl(tmp_path / "train.jsonl", rows)), tok, TrainOptions(), output=None,
                            model_dir=tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).eval()
    total = tokens = 0.0
    per_row = []
    with torch.no_grad():
        for r in prepared.train:
            n = sum(1 for x in r["labels"][1:] if x != -100)
            loss = model(input_ids=torch.tensor([r["input_ids"]]), labels=torch.tensor([r["labels"]])).loss.item()
            total, tokens = total + loss * n, tokens + n
            per_row.append(loss)
    assert tokens == scores["loss_tokens"]  # the prompt is masked exactly as in training
    assert scores["loss"] == pytest.approx(total / tokens, rel=1e-5)
    assert [p["scores"][res.names[0]]["loss"] for p in res.predictions] == pytest.approx(per_row, rel=1e-5)


def test_memorised_adapters_beat_the_base_in_one_table(tiny_model_dir, adapters, eval_set, tmp_path, loopback,
                                                       monkeypatch):
    from dataforge.eval import run as eval_run

    loads = []
    real_load = eval_run.load_causal_lm
    monkeypatch.setattr(eval_run, "load_causal_lm", lambda *a: loads.append(a[0]) or real_load(*a))
    monkeypatch.setenv("DF_EVAL_KEY", "sk-test-eval-key-1234")
    srv = loopback(fair_judge)
    out = tmp_path / "out"
    res = run_cli("eval", "-m", tiny_model_dir, "-a", adapters["all"], "-a", adapters["half"], "-d", eval_set,
                  "--baseline", "-o", out, "--max-new-tokens", 10, "--batch-size", 4,
                  "--metrics", "loss,rouge,exact,chrf,lang,judge", "--judge-model", "judge-x",
                  "--judge-base-url", srv.url, "--judge-api-key-env", "DF_EVAL_KEY")
    assert res.exit_code == 0, res.output
    assert loads == [tiny_model_dir]  # one base, adapters switched on it
    data = json.loads((out / "eval.json").read_text())
    assert [v["name"] for v in data["variants"]] == ["base", "mem_all", "mem_half"]
    en = {v["name"]: v["by_lang"]["en"] for v in data["variants"]}
    assert data["languages"] == {"en": 4, "fr": 2}
    assert en["mem_all"]["exact_match"] >= 0.75 > 0.5 >= en["mem_half"]["exact_match"] > en["base"]["exact_match"]
    assert en["base"]["exact_match"] == 0.0
    assert en["mem_all"]["loss"] < en["base"]["loss"]
    assert en["mem_all"]["rouge_l"] > en["base"]["rouge_l"] and en["mem_all"]["chrf"] > en["base"]["chrf"]
    judged = {v["name"]: v.get("judge") for v in data["variants"]}
    assert judged["base"] is None
    assert judged["mem_all"]["win_rate"] > judged["mem_half"]["win_rate"] > 0.5
    # both orders of every differing pair were asked, and a pair two adapters share was asked once (journal)
    assert max(srv.log.received.values()) == 1 and 0 < srv.log.total <= 24
    # the terminal shows one table with the three columns and the per-language table
    header = next(line for line in res.output.splitlines() if "mem_all" in line)
    assert "base" in header and "mem_half" in header
    assert "per language" in res.output and "fr (2)" in res.output and "judge win rate" in res.output
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 6 and set(preds[0]["answers"]) == {"base", "mem_all", "mem_half"}
    html = (out / "eval.html").read_text()
    assert "Evaluation" in html and "Plotly" in html and "mem_half" in html
    assert "sk-test-eval-key-1234" not in html + (out / "eval.json").read_text() + res.output


def test_full_fine_tune_is_compared_with_its_recorded_base(tiny_model_dir, adapters, eval_set, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    full = tmp_path / "full"
    merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)),
                                       str(adapters["all"])).merge_and_unload()
    merged.save_pretrained(str(full))
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (tiny_model_dir / name).exists():
            shutil.copy(tiny_model_dir / name, full / name)
    with pytest.raises(ConfigError, match="does not record the base") as err:
        evaluate(full, eval_set, baseline=True, metrics="exact")
    assert "--base" in err.value.hint
    (full / "dataforge_train.json").write_text(json.dumps({"backend": "full", "options": {"template": "chat_template"},
                                                           "base_model": {"path": str(tiny_model_dir)}}))
    res = evaluate(full, eval_set, baseline=True, metrics="exact,loss", max_new_tokens=8)
    assert res.names == ["base", "full"]
    assert res.data["variants"][1]["by_lang"]["en"]["exact_match"] >= 0.75
    assert res.scores("base")["exact_match"] == 0.0
    assert res.scores("full")["loss"] < res.scores("base")["loss"]


def test_an_adapter_made_for_another_base_is_refused_before_loading(tiny_model_dir, tiny_tokenizer_dir, eval_set,
                                                                     tmp_path, monkeypatch):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from dataforge.eval import run as eval_run
    from dataforge.tiny import build_tiny_model

    other = build_tiny_model(tmp_path / "other", tokenizer_dir=tiny_tokenizer_dir, hidden_size=32)
    adapter = tmp_path / "adapter_other"
    lora = LoraConfig(r=4, target_modules="all-linear")
    get_peft_model(AutoModelForCausalLM.from_pretrained(str(other)), lora).save_pretrained(str(adapter))
    monkeypatch.setattr(eval_run, "load_causal_lm", lambda *a: pytest.fail("weights loaded before the check"))
    with pytest.raises(InputError) as err:
        evaluate(tiny_model_dir, eval_set, adapters=[adapter])
    assert "trained on another base model" in err.value.message
    assert re.search(r"layer '\S+' (takes|gives) \d+ (inputs|outputs) in the base, \d+ in the adapter",
                     err.value.message)
    assert str(other) in err.value.hint  # names the base the adapter was made for
    (adapter / "dataforge_train.json").write_text(json.dumps(
        {"base_model": {"path": str(other), "arch": "LlamaForCausalLM", "layers": 2, "hidden": 32}}))
    res = run_cli("eval", "-m", tiny_model_dir, "-a", adapter, "-d", eval_set)
    assert res.exit_code == 1
    assert ("error: --adapter " in res.output and "records LlamaForCausalLM with 2 layers, hidden size 32; "
            "--model" in res.output and "hidden size 64" in res.output)
    assert "Traceback" not in res.output


@pytest.mark.parametrize("case, expected", [
    ("preference", "the eval set is preference data"),
    ("columns", "cannot tell what kind of data this is; columns found: answer_text, question_text"),
    ("missing_data", "no such eval file"),
    ("missing_model", "--model"),
    ("missing_adapter", "--adapter"),
    ("adapter_is_model", "is a full model, not an adapter"),
    ("metric", "unknown metric 'rogue'"),
    ("judge", "needs a judge model"),
    ("baseline_no_record", "does not record the base"),
])
def test_bad_input_gets_a_clear_message(case, expected, tiny_model_dir, eval_set, tmp_path):
    pref = write_jsonl(tmp_path / "pref.jsonl", [{"prompt": "q", "chosen": "a", "rejected": "b"}])
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"question_text": "q", "answer_text": "a"}])
    args = {
        "preference": ["-m", tiny_model_dir, "-d", pref],
        "columns": ["-m", tiny_model_dir, "-d", odd],
        "missing_data": ["-m", tiny_model_dir, "-d", tmp_path / "nope.jsonl"],
        "missing_model": ["-m", tmp_path / "no_model", "-d", eval_set],
        "missing_adapter": ["-m", tiny_model_dir, "-a", tmp_path / "no_adapter", "-d", eval_set],
        "adapter_is_model": ["-m", tiny_model_dir, "-a", tiny_model_dir, "-d", eval_set],
        "metric": ["-m", tiny_model_dir, "-d", eval_set, "--metrics", "loss,rogue"],
        "judge": ["-m", tiny_model_dir, "-d", eval_set, "--metrics", "judge"],
        "baseline_no_record": ["-m", tiny_model_dir, "-d", eval_set, "--baseline"],
    }[case]
    res = run_cli("eval", *args, "-o", tmp_path / "out")
    assert res.exit_code == 1, res.output
    assert expected in res.output and "hint:" in res.output and "Traceback" not in res.output
    if case == "columns":
        assert "--map" in res.output
