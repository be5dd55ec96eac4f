"""rloo and grpo on CPU: held-out reward rises; the reward model scores answers exactly as it was trained.

The toy task: the tiny model is first fine-tuned (backend full) to answer
"yes" or "no" equally often to yes/no questions, like an SFT model that has
not yet learnt what is wanted. RL then rewards "no" (the exact reward against
the rows' reference answer, or a regex). Held-out reward is measured on
questions the policy never saw, by sampling from the SFT model and from the
SFT model with the trained adapter.
"""

from __future__ import annotations

import json
import random

import pytest
import torch
from click.testing import CliRunner
from dataforge_hf_trainers import rewards
from dataforge_hf_trainers.family_options import GRPOOptions, RLOOOptions
from train_helpers import metric_rows, write_jsonl

from dataforge.cli.main import cli
from dataforge.errors import ConfigError
from dataforge.records import InstructionRecord
from dataforge.train import train
from dataforge.train.options import load_options
from dataforge.train.render import render_sft

WORDS = ["apple", "river", "stone", "cloud", "green", "music", "table", "light", "house", "water", "bread", "night"]


def _questions(n, seed, verb):
    rng = random.Random(seed)
    return [f"Is the {a} {verb} the {b}? Answer yes or no." for a, b in (rng.sample(WORDS, 2) for _ in range(n))]


@pytest.fixture(scope="module")
def rl_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("rl")
    # SFT: every question once with yes and once with no, so the model says each about half the time.
    sft = [{"instruction": q, "output": a} for q in _questions(32, 1, "near") for a in ("yes", "no")]
    prompts = [{"instruction": q, "output": "no"} for q in _questions(40, 2, "like")]
    held = [{"instruction": q, "output": "no"} for q in _questions(8, 3, "beside")]
    return {"sft": write_jsonl(d / "sft.jsonl", sft), "prompts": write_jsonl(d / "prompts.jsonl", prompts),
            "held": held}


@pytest.fixture(scope="module")
def sft_model(tiny_model_dir, rl_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("sft") / "model"
    train("full", tiny_model_dir, rl_files["sft"], out, sets=["max_steps=30", "batch_size=16", "learning_rate=1e-2",
                                                              "lr_scheduler=constant", "max_length=128"])
    return out


def held_out_reward(model_dir, rows, adapter=None, n=8, seed=0) -> float:
    """Mean exact-match reward of `n` sampled answers per held-out row (temperature 1, as RL samples)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    answers = rewards.AnswerText(tok, "chat_template", "en", model_dir)
    torch.manual_seed(seed)
    scores = []
    for row in rows:
        prompt, _ = render_sft(InstructionRecord(row["instruction"], row["output"]), "chat_template", tok)
        ids = tok(prompt, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**ids, do_sample=True, temperature=1.0, max_new_tokens=6, num_return_sequences=n,
                                 pad_token_id=tok.pad_token_id)
        scores += [rewards.exact(answers(g[ids["input_ids"].shape[1]:].tolist()), row["output"]) for g in out]
    return sum(scores) / len(scores)


RL_SETS = ["max_steps=12", "lr_scheduler=constant", "batch_size=16", "num_generations=4", "max_completion_length=6",
           "learning_rate=3e-3", "adapter=none", "max_length=128", "eval_split=0.25"]


@pytest.mark.parametrize("backend, reward", [
    ("rloo", ["rewards=[exact]"]),
    ("grpo", ["rewards=[regex]", "reward_regex=^no$"]),
])
def test_rl_raises_held_out_reward(backend, reward, sft_model, rl_files, tmp_path):
    before = held_out_reward(sft_model, rl_files["held"])
    out = tmp_path / backend
    run = train(backend, sft_model, rl_files["prompts"], out, sets=[*RL_SETS, *reward])
    after = held_out_reward(out, rl_files["held"])
    assert after > before + 0.4, (before, after)
    # The run measures its own held-out prompts before and after, and logs every step.
    assert run.metrics["eval_reward"] > run.metrics["eval_reward_before"] + 0.25, run.metrics
    steps = [r for r in metric_rows(out) if "reward" in r and "eval_reward" not in r]
    assert len(steps) == 12
    name = reward[0].split("[")[1].rstrip("]")
    for row in steps:
        for key in ("reward", "kl", "completions/mean_length", f"rewards/{name}/mean"):
            assert key in row, (key, row)
    assert run.kind == "model" and run.extra["rewards"] == [name]
    assert run.extra["reference"] == "a frozen copy of the starting model"


@pytest.fixture(scope="module")
def reward_model(tiny_model_dir, pref_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("rm") / "reward"
    train("reward", tiny_model_dir, pref_data, out, sets=["max_steps=6", "learning_rate=1e-3", "batch_size=8"])
    return out


def test_reward_model_reward_scores_like_the_reward_backend(reward_model, pref_data, tiny_model_dir):
    """Same scores as the reward trainer computes on dataforge's token ids; TRL's text path differs."""
    from dataforge_hf_trainers.options import RewardOptions
    from dataforge_hf_trainers.reward_model import RewardModelScore
    from trl.trainer.reward_trainer import DataCollatorForPreference

    from dataforge.io import read_dataset
    from dataforge.train.data import prepare_data
    from dataforge.train.run import load_tokenizer

    scorer = RewardModelScore(reward_model, device="cpu")
    tok = load_tokenizer(reward_model)
    rows = prepare_data(pref_data, tok, RewardOptions(eval_split=0), output=None, write_rejects=False).train[:12]
    batch = DataCollatorForPreference(pad_token_id=tok.pad_token_id)(rows)
    with torch.no_grad():
        own = scorer.model(**batch).logits[:, 0]
    chosen_own, rejected_own = own[:len(rows)], own[len(rows):]

    records = [r for r in read_dataset([str(pref_data)])][:12]
    prompts = [InstructionRecord(r.instruction, "") for r in records]
    chosen = torch.tensor(scorer.score(prompts, [r.chosen for r in records]))
    rejected = torch.tensor(scorer.score(prompts, [r.rejected for r in records]))
    assert torch.allclose(chosen, chosen_own, atol=1e-5) and torch.allclose(rejected, rejected_own, atol=1e-5)

    # What TRL does with a reward model as-is: prompt + completion text, no special tokens added.
    texts = [r["prompt"] + r["chosen"].removesuffix(tok.eos_token) for r in rows]
    plain = tok(texts, add_special_tokens=False, padding=True, padding_side="right", return_tensors="pt")
    with torch.no_grad():
        as_is = scorer.model(**plain).logits[:, 0]
    assert (as_is - chosen_own).abs().max() > 1e-3  # without BOS/EOS the model scores other sequences


def test_rloo_with_the_reward_model_logs_its_reward(reward_model, tiny_model_dir, pref_data, tmp_path):
    out = tmp_path / "rloo-rm"
    run = train("rloo", tiny_model_dir, pref_data, out,
                sets=[f"reward_model={reward_model}", "rewards=[length]", "length_target=4", "reward_weights=[1, 0.5]",
                      "max_steps=2", "batch_size=4", "num_generations=2", "max_completion_length=4", "max_length=128"])
    steps = [r for r in metric_rows(out) if "reward" in r]
    assert len(steps) == 2 and all("rewards/reward_model/mean" in r and "rewards/length/mean" in r for r in steps)
    assert run.extra["rewards"] == ["reward_model", "length"] and run.extra["reward_weights"] == [1.0, 0.5]


# ----- the rewards themselves -----------------------------------------------------------------

def test_answer_text_cuts_the_template_markup(tiny_model_dir):
    from dataforge.train.run import load_tokenizer

    tok = load_tokenizer(tiny_model_dir)
    answers = rewards.AnswerText(tok, "chat_template", "en", tiny_model_dir)
    ids = tok("no<|im_end|>\n", add_special_tokens=False)["input_ids"] + [tok.eos_token_id] + [5, 6, 7]
    assert answers(ids) == "no"
    assert answers(tok(" yes please", add_special_tokens=False)["input_ids"]) == "yes please"  # no end: all of it


def test_builtin_rewards():
    import re

    assert rewards.exact("  Paris.\n", "Paris.") == 1.0 and rewards.exact("Paris", "Paris.") == 0.0
    assert rewards.regex("answer: 42", re.compile(r"\d+$")) == 1.0 and rewards.regex("none", re.compile(r"\d")) == 0.0
    assert rewards.valid_json('{"a": [1, 2]}') == 1.0 and rewards.valid_json('```json\n{"a": 1}\n```') == 1.0
    assert rewards.valid_json("{'a': 1}") == 0.0
    assert rewards.length(4, 4) == 1.0 and rewards.length(6, 4) == 0.5 and rewards.length(20, 4) == 0.0
    fr = InstructionRecord("Quelle est la capitale de la France ? Réponds en une phrase complète.", "")
    assert rewards.language("La capitale de la France est Paris, une très belle ville.", fr) == 1.0
    assert rewards.language("The capital of France is Paris, a very beautiful city.", fr) == 0.0
    tagged = InstructionRecord("Capital of France?", "", lang="de")
    assert rewards.language("Die Hauptstadt von Frankreich ist Paris, eine sehr schöne Stadt.", tagged) == 1.0


def test_judge_reward_goes_through_the_llm_layer(loopback_judge, tiny_model_dir, tmp_path):
    from dataforge.train.run import load_tokenizer

    srv, seen = loopback_judge
    tok = load_tokenizer(tiny_model_dir)
    opts = load_options(RLOOOptions, None, ["rewards=[judge]", "judge_model=judge-1", f"judge_base_url={srv.url}",
                                            "judge_api_key_env=DF_JUDGE_KEY"])
    funcs = rewards.reward_functions(opts, tok, model_dir=tiny_model_dir, output_dir=tmp_path)
    assert [f.__name__ for f in funcs] == ["judge"]
    record = json.dumps(InstructionRecord("Name a colour.", "blue").to_dict())
    answers = ["blue", "a long rambling answer", "???"]
    ids = [tok(a, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for a in answers]
    scores = funcs[0](prompts=["p"] * 3, completions=answers, completion_ids=ids, reference=["blue"] * 3,
                      record=[record] * 3)
    assert scores == [1.0, pytest.approx(4 / 9), None]  # 10 -> 1, 5 -> 4/9, no score -> left out
    assert len(seen) >= 3 and all("Name a colour." in s for s in seen)
    assert (tmp_path / "judge.journal.sqlite").exists()  # a rerun does not pay twice


@pytest.fixture
def loopback_judge(monkeypatch):
    from dataforge.llm.loopback import LoopbackServer

    seen = []

    def reply(req):
        text = req["messages"][-1]["content"]
        seen.append(text)
        answer = text.split("Answer:\n", 1)[1]
        return "10" if answer.startswith("blue") else "5" if answer.startswith("a long") else "I cannot say."

    monkeypatch.setenv("DF_JUDGE_KEY", "sk-test-judge")
    srv = LoopbackServer(reply).start()
    yield srv, seen
    srv.stop()


# ----- options and registration -----------------------------------------------------------------

@pytest.mark.parametrize("sets, message", [
    ([], "no reward"),
    (["rewards=[regex]"], "reward_regex is not set"),
    (["rewards=[regex]", "reward_regex=(a"], "not a valid pattern"),
    (["rewards=[exact]", "reward_weights=[1, 2]"], "2 weights for 1 rewards"),
    (["rewards=[exact]", "batch_size=6", "num_generations=4"], "multiple of num_generations"),
    (["rewards=[judge]"], "judge_model is not set"),
    (["rewards=[exact]", "adapter=none", "policy_adapter=x"], "needs adapter=lora"),
    (["rewards=[exact]", "max_completion_length=2000"], "leaves no room"),
])
def test_rl_option_mistakes_fail_before_loading(sets, message):
    with pytest.raises(ConfigError) as err:
        load_options(GRPOOptions, None, sets, backend="grpo")
    assert message in err.value.message


def test_unknown_reward_model_folder_is_refused(tiny_model_dir, rl_files, tmp_path):
    with pytest.raises(ConfigError) as err:
        train("rloo", tiny_model_dir, rl_files["prompts"], tmp_path / "o", sets=[f"reward_model={tiny_model_dir}"])
    assert "not a dataforge training output" in err.value.message
    assert not (tmp_path / "o").exists()


def test_plugins_lists_the_rlhf_backends():
    r = CliRunner().invoke(cli, ["plugins", "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    for name in ("rloo", "grpo", "kto", "orpo", "simpo"):
        assert rows[name]["ok"], rows[name]
        assert rows[name]["distribution"] == "dataforge-hf-trainers"


def test_dry_run_counts_every_sampled_answer(sft_model, rl_files, tmp_path):
    """40 prompts x 4 answers in batches of 16 answers: 10 steps per epoch, as TRL runs them."""
    report = train("rloo", sft_model, rl_files["prompts"], tmp_path / "out",
                   sets=["rewards=[exact]", "batch_size=16", "num_generations=4"], dry_run=True)
    assert report.steps == 10 and report.counts["train"] == 40


def test_rlhf_recipe_stages_have_valid_backend_options():
    """`dataforge run --check` checks the stage arguments; this checks each train stage's options too."""
    from pathlib import Path

    from dataforge.recipes import load_recipe
    from dataforge.train.registry import get_backend

    recipe = load_recipe(Path(__file__).resolve().parents[2] / "recipes" / "rlhf.yaml")
    stages = {s.name: s.raw for s in recipe.stages}
    assert [s.kind for s in recipe.stages] == ["train", "train", "train", "eval"]
    assert stages["rl"]["model"] == "${sft.output}" and stages["rl"]["options"]["reward_model"] == "${reward.output}"
    assert stages["eval"]["model"] == "${sft.output}" and stages["eval"]["adapters"] == ["${rl.output}"]
    for name in ("sft", "reward", "rl"):
        backend = get_backend(stages[name]["backend"])
        load_options(backend.options_model, None, [], backend=stages[name]["backend"], base=stages[name]["options"])


def test_rl_continues_an_sft_adapter(tiny_model_dir, rl_files, tmp_path):
    """policy_adapter: the SFT LoRA adapter is trained further, the KL is taken against a frozen copy of it,
    and only the trained adapter is written (TRL's reference copy is not)."""
    from safetensors.torch import load_file

    sft = train("lora", tiny_model_dir, rl_files["sft"], tmp_path / "sft", sets=["max_steps=3", "r=8",
                                                                                  "max_length=128"])
    out = tmp_path / "rl"
    run = train("rloo", tiny_model_dir, rl_files["prompts"], out,
                sets=[f"policy_adapter={sft.output}", "rewards=[regex]", "reward_regex=^[a-z]", "learning_rate=1e-2",
                      "max_steps=2", "batch_size=8", "max_completion_length=4", "max_length=128"])
    assert run.kind == "adapter" and "SFT adapter" in run.extra["reference"]
    assert not (out / "ref").exists() and not any((p / "ref").exists() for p in (out / "checkpoints").iterdir())
    before, after = load_file(str(sft.output / "adapter_model.safetensors")), load_file(
        str(out / "adapter_model.safetensors"))
    assert set(before) == set(after) and any(not torch.equal(before[k], after[k]) for k in before)
    assert all("kl" in r for r in metric_rows(out) if "reward" in r)
