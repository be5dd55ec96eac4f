"""`dataforge chat`: several adapters on one base, switched per request; the training template; batch files.

The adapters are LoRA weights set at random (seeded) on the tiny model, saved with peft, and
given the record `dataforge train` writes (its own resolve/prepare/write_record code): adapter
"alp" was "trained" with the alpaca template, "cml" with the model's chat template. Random
LoRA weights change a random model's greedy answers as surely as training would, in a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dataforge.chat import BASE, Chat, chat_file
from dataforge.cli.main import cli
from dataforge.errors import ConfigError
from dataforge.records import InstructionRecord

PROMPTS = ["Reverse the order of these three words.\n\nred green blue", "What is the capital of France?",
           "Name a colour."]


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def _make_adapter(model_dir: Path, out: Path, template: str, seed: int, tmp: Path) -> Path:
    """Random LoRA weights plus the record `dataforge train` would write for this template."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from dataforge.train.run import TrainRun, load_tokenizer, prepare, resolve, write_record

    data = _write_jsonl(tmp / f"{out.name}.jsonl", [{"instruction": p, "output": "x"} for p in PROMPTS])
    res = resolve("lora", str(model_dir), str(data), str(out), sets=[f"template={template}", "r=4"])
    prepared = prepare(res, load_tokenizer(model_dir), write_rejects=False)
    torch.manual_seed(seed)
    net = get_peft_model(AutoModelForCausalLM.from_pretrained(str(model_dir)),
                         LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, p in net.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    net.save_pretrained(str(out))
    run = TrainRun(output=out, backend="lora", kind="adapter", metrics={}, counts=prepared.counts(), global_step=1,
                   artifacts=[])
    write_record(res, prepared, run, seconds=0.0, world_size=1)
    return out


@pytest.fixture(scope="module")
def adapters(tiny_model_dir, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("chat_adapters")
    return {"alp": _make_adapter(tiny_model_dir, root / "alp", "alpaca", 1, root),
            "cml": _make_adapter(tiny_model_dir, root / "cml", "chat_template", 2, root)}


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """The 2 test cores are shared; two torch threads under load are several times slower than one."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(autouse=True)
def _quiet():
    from dataforge.progress import set_quiet

    set_quiet(True)
    yield
    set_quiet(False)


def _answers(chat: Chat, name: str) -> list[str]:
    return chat.replies([InstructionRecord(instruction=p, output="") for p in PROMPTS], adapter=name)


def test_adapter_switch_changes_answers_and_matches_each_adapter_loaded_alone(tiny_model_dir, adapters):
    both = Chat(tiny_model_dir, [f"alp={adapters['alp']}", f"cml={adapters['cml']}"], max_new_tokens=8)
    assert both.names == [BASE, "alp", "cml"] and both.current == "alp"
    # Interleaved, so a switch back to an adapter is checked too.
    together = {n: _answers(both, n) for n in ("alp", "cml", BASE, "alp")}
    alone = {n: _answers(Chat(tiny_model_dir, [f"{n}={adapters[n]}"], max_new_tokens=8), n) for n in ("alp", "cml")}
    alone[BASE] = _answers(Chat(tiny_model_dir, max_new_tokens=8), BASE)
    assert together["alp"] == alone["alp"]
    assert together["cml"] == alone["cml"]
    assert together[BASE] == alone[BASE]
    assert together["alp"] != together["cml"] and together["alp"] != together[BASE]
    both.use("cml")
    assert both.reply(PROMPTS[0]) == alone["cml"][0]


def test_each_adapter_is_prompted_with_the_template_it_was_trained_with(tiny_model_dir, adapters):
    from dataforge.train import TrainOptions, prepare_data
    from dataforge.train.run import load_tokenizer

    chat = Chat(tiny_model_dir, [f"alp={adapters['alp']}", f"cml={adapters['cml']}"])
    tok = load_tokenizer(tiny_model_dir)
    for name, template in (("alp", "alpaca"), ("cml", "chat_template")):
        assert chat.template_source[name].startswith(f"{template} (as trained, from {adapters[name]}")
        # The prompt tokens `dataforge train` masked for this row are exactly what chat sends.
        row = _write_jsonl(adapters[name].parent / f"probe-{name}.jsonl", [{"instruction": PROMPTS[1],
                                                                           "output": "Paris"}])
        trained = prepare_data(str(row), tok, TrainOptions(template=template), output=None,
                               model_dir=tiny_model_dir).train[0]
        masked = next(i for i, label in enumerate(trained["labels"]) if label != -100)
        assert chat.prompt_ids(InstructionRecord(instruction=PROMPTS[1], output=""), name) == \
            trained["input_ids"][:masked]
    assert "### Instruction" in chat.prompt_text(InstructionRecord(instruction="hi", output=""), "alp")
    assert "<|im_start|>user" in chat.prompt_text(InstructionRecord(instruction="hi", output=""), "cml")
    # The base alone has no record: the tokenizer's chat template, and it says so.
    base_only = Chat(tiny_model_dir)
    assert base_only.template_source[BASE].startswith("chat_template (no training record")


def test_batch_writes_one_row_per_prompt_with_ids_and_adapter_column(tiny_model_dir, adapters, tmp_path):
    rows = [{"id": "q1", "instruction": PROMPTS[0]},
            {"id": 7, "instruction": PROMPTS[1], "adapter": "cml", "output": "Paris"},
            {"id": "q3", "prompt": PROMPTS[2], "adapter": BASE},
            {"id": "q4", "messages": [{"role": "user", "content": PROMPTS[1]}], "adapter": "alp"}]
    data = _write_jsonl(tmp_path / "prompts.jsonl", rows)
    out = tmp_path / "answers.jsonl"
    specs = [f"alp={adapters['alp']}", f"cml={adapters['cml']}"]
    result = chat_file(tiny_model_dir, data, out, adapters=specs, max_new_tokens=8, batch_size=3)
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in got] == ["q1", "7", "q3", "q4"]
    assert [r["adapter"] for r in got] == ["alp", "cml", BASE, "alp"]
    assert (result.read, result.written, result.rejected) == (4, 4, 0)
    assert got[1]["reference"] == "Paris" and got[1]["instruction"] == PROMPTS[1]
    chat = Chat(tiny_model_dir, specs, max_new_tokens=8)
    assert got[0]["answer"] == chat.reply(PROMPTS[0], adapter="alp")
    assert got[1]["answer"] == chat.reply(PROMPTS[1], adapter="cml")
    assert got[2]["answer"] == chat.reply(PROMPTS[2], adapter=BASE)
    assert not (tmp_path / "answers.jsonl.rejects.jsonl").exists()


def test_batch_rejects_unknown_adapters_and_bad_rows_and_keeps_the_rest(tiny_model_dir, adapters, tmp_path):
    data = _write_jsonl(tmp_path / "prompts.jsonl", [
        {"id": "ok", "instruction": PROMPTS[1]},
        {"id": "typo", "instruction": PROMPTS[1], "adapter": "clm"},
        {"id": "empty", "context": "no instruction here"},
        '{"id": "broken", ',
    ])
    out = tmp_path / "answers.jsonl"
    result = chat_file(tiny_model_dir, data, out, adapters=[f"cml={adapters['cml']}"], use="cml", max_new_tokens=4)
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["ok"]
    assert (result.read, result.written, result.rejected) == (4, 1, 3)
    reasons = [json.loads(x) for x in result.rejects.read_text().splitlines()]
    assert "adapter 'clm' is not loaded (loaded: base, cml)" in [r["reason"] for r in reasons]
    assert any(r["reason"].startswith("no prompt") and r["row"]["id"] == "empty" for r in reasons)


def test_cli_interactive_from_a_pipe_switches_adapter(tiny_model_dir, adapters):
    chat = Chat(tiny_model_dir, [f"alp={adapters['alp']}", f"cml={adapters['cml']}"], max_new_tokens=8)
    stdin = f"{PROMPTS[1]}\n/adapter cml\n{PROMPTS[1]}\n/adapter nope\n/adapter base\n{PROMPTS[1]}\n"
    result = CliRunner().invoke(cli, ["chat", "-m", str(tiny_model_dir), "-a", f"alp={adapters['alp']}",
                                      "-a", f"cml={adapters['cml']}", "--max-new-tokens", "8"], input=stdin)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [chat.reply(PROMPTS[1], adapter=n) for n in ("alp", "cml", BASE)]
    assert "nope: no such adapter loaded" in result.stderr and "alp (in use)" in result.stderr


def test_cli_refusals(tiny_model_dir, adapters, tmp_path):
    runner = CliRunner()
    base = ["chat", "-m", str(tiny_model_dir), "-a", str(adapters["cml"])]
    unknown = runner.invoke(cli, base + ["--use", "other"], input="")
    assert unknown.exit_code == 1
    assert "error: --use other: no such adapter loaded" in unknown.stderr and "base, cml" in unknown.stderr
    half = runner.invoke(cli, base + ["--input", str(tmp_path / "p.jsonl")])
    assert half.exit_code == 2 and "--input and -o/--output go together" in half.stderr
    data = _write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "instruction": "hi"}])
    before = data.read_bytes()
    onto = runner.invoke(cli, base + ["--input", str(data), "-o", str(data)])
    assert onto.exit_code == 1 and onto.stderr.startswith("error: ") and data.read_bytes() == before
    with pytest.raises(ConfigError):
        Chat(tiny_model_dir, [f"base={adapters['cml']}"])
