"""`dataforge synth magpie` end to end against the loopback server's /v1/completions."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from fake_model import VOCAB, rng_for
from synth_helpers import CANARY_KEY, ROOT, read_jsonl

from dataforge.llm.loopback import Latency
from dataforge.synth.magpie import _seed
from dataforge.synth.prequery import from_tokenizer, named

LLAMA3_PRE_QUERY = "<|start_header_id|>user<|end_header_id|>\n\n"

# A Llama-3-style chat template, as a tokenizer_config.json holds it (written here: nothing is downloaded).
LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")


def write_tokenizer(folder, template=LLAMA3_TEMPLATE):
    folder.mkdir()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                "<|python_tag|>"]
    config = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
              "added_tokens_decoder": {str(128000 + i): {"content": t, "special": True} for i, t in enumerate(specials)}}
    if template:
        config["chat_template"] = template
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def instruction_for(seed) -> str:
    rng = rng_for("magpie", seed)
    return f"Explain how {' '.join(rng.sample(VOCAB, 4))} relate to each other."


class Model:
    """Writes an instruction for a pre-query prompt (keyed by the request's seed, so by its content) and
    answers chat requests and full-template prompts; records every prompt it was sent."""

    def __init__(self, special: dict | None = None, answer: str = "An answer written after the full chat template."):
        self.special = special or {}  # request seed -> the raw text to return
        self.answer = answer
        self.prompts: list[str] = []
        self.stops: list = []

    def __call__(self, body):
        if "prompt" in body:
            self.prompts.append(body["prompt"])
            self.stops.append(body.get("stop"))
            if body["prompt"].endswith("assistant<|end_header_id|>\n\n"):  # the whole template: answer it
                return self.answer
            raw = self.special.get(body["seed"], instruction_for(body["seed"]))
            return raw + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nleaked turn"
        return f"Here is a careful answer to: {body['messages'][-1]['content']}"


def test_named_template_rows_rejects_and_exact_pre_query(serve, synth, tmp_path):
    # seeds of request 1..4: empty, too short, a leaked special token, a repeat of request 0
    model = Model({_seed(0, 1): "", _seed(0, 2): "Hi there", _seed(0, 3): "Run <|python_tag|> this code for me",
                   _seed(0, 4): instruction_for(_seed(0, 0)).upper()})
    srv = serve(model)
    out = tmp_path / "magpie.jsonl"
    res = synth(srv, "magpie", "--template", "llama3", "-n", "4", "-o", out, "--stop", "\nUser:")
    assert res.exit_code == 0, res.output
    rows = read_jsonl(out)
    assert len(rows) == 4
    assert set(model.prompts) == {LLAMA3_PRE_QUERY}  # the server saw exactly the pre-query template
    assert model.stops[0] == ["<|eot_id|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "\nUser:"]
    expected = [instruction_for(_seed(0, i)) for i in (0, 5, 6, 7)]
    assert [r["instruction"] for r in rows] == expected  # cut at the stop string; the bad ones skipped
    assert rows[0]["output"] == f"Here is a careful answer to: {expected[0]}"
    meta = rows[0]["meta"]
    assert (meta["method"], meta["model"], meta["template"], meta["pre_query"]) == \
        ("magpie", "fake", "llama3", LLAMA3_PRE_QUERY)
    assert "system" in meta and meta["system"] is None  # documented key, null without --system
    assert len(meta["requests"]) == 2
    rejects = read_jsonl(f"{out}.rejects.jsonl")
    reasons = sorted(r["reason"] for r in rejects)
    assert len(reasons) == 4  # 8 instruction requests = 4 rows + 4 rejects
    assert reasons[0] == "duplicate instruction (the same text was written before)"
    assert reasons[1] == "instruction empty completion"
    assert reasons[2] == "template leak: the instruction holds '<|python_tag|>'"
    assert reasons[3] == "too short: 2 words < 3"


def test_tokenizer_folder_pre_query_system_and_full_template_answers(serve, synth, tmp_path):
    tok = write_tokenizer(tmp_path / "tok")
    model = Model()
    srv = serve(model)
    out = tmp_path / "magpie.jsonl"
    res = synth(srv, "magpie", "--tokenizer", tok, "--system", "You write about science.", "--answer-via",
                "completions", "-n", "3", "-o", out)
    assert res.exit_code == 0, res.output
    pre = ("<|start_header_id|>system<|end_header_id|>\n\nYou write about science.<|eot_id|>"
           "<|start_header_id|>user<|end_header_id|>\n\n")  # the BOS is left to the server
    instructions = [p for p in model.prompts if p == pre]
    assert len(instructions) == 3
    assert model.stops[0] == ["<|eot_id|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>"]
    rows = read_jsonl(out)
    assert {r["output"] for r in rows} == {"An answer written after the full chat template."}
    first = rows[0]["instruction"]
    assert pre + first + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n" in model.prompts
    assert rows[0]["meta"]["template"] == str(tok) and rows[0]["meta"]["system"] == "You write about science."


def test_raw_answer_holding_a_special_token_is_rejected(serve, synth, tmp_path):
    srv = serve(Model(answer="Sure.<|python_tag|>print('hi')"))
    out = tmp_path / "magpie.jsonl"
    res = synth(srv, "magpie", "--template", "llama3", "--answer-via", "completions", "-n", "2", "-o", out)
    assert res.exit_code == 1 and "wrote no rows" in res.output
    reasons = {r["reason"] for r in read_jsonl(f"{out}.rejects.jsonl")}
    assert reasons == {"template leak: the answer holds '<|python_tag|>'"}


@pytest.mark.slow  # trains a SentencePiece model and imports transformers (~6 s)
def test_saved_tiny_tokenizer_gives_chatml_pre_query(tmp_path):
    from dataforge.tiny import build_tiny_tokenizer

    pytest.importorskip("sentencepiece")
    folder = tmp_path / "tiny"
    build_tiny_tokenizer(folder, [f"sentence number {i} about {w}" for i, w in enumerate(VOCAB)], vocab_size=300)
    pq = from_tokenizer(folder)  # whatever file transformers saved the template in
    assert pq.text == "<|im_start|>user\n"
    assert pq.stop[0] == "<|im_end|>" and "<|im_start|>" in pq.stop
    assert pq.leak("a <|im_start|> b") == "<|im_start|>"


def test_named_formats_without_a_system_role_put_it_before_the_message():
    assert named("mistral", "Be brief.").text == "[INST] Be brief.\n\n"
    assert named("gemma").text == "<start_of_turn>user\n"
    assert named("gemma", keep_bos=True).text == "<bos><start_of_turn>user\n"
    assert named("qwen2").text == "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"


# Gemma's template refuses a system turn with raise_exception, as transformers renders it
GEMMA_TEMPLATE = ("{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not "
                  "supported') }}{% endif %}{% for message in messages %}{{ '<start_of_turn>' + message['role'] + "
                  "'\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}")


def test_template_refusing_the_system_prompt_is_one_error_line(serve, synth, tmp_path):
    tok = write_tokenizer(tmp_path / "gemma", GEMMA_TEMPLATE)
    srv = serve(Model())
    res = synth(srv, "magpie", "--tokenizer", tok, "--system", "Be brief.", "-n", "2", "-o", tmp_path / "m.jsonl")
    assert res.exit_code == 1 and srv.log.total == 0
    assert "the chat template failed: System role not supported" in res.output and "Traceback" not in res.output
    assert from_tokenizer(tok).stop[0] == "<end_of_turn>"  # without --system it renders


@pytest.mark.parametrize("args, message", [
    (["--tokenizer", "NOTEMPLATE"], "no chat template"),
    ([], "needs exactly one of --template NAME and --tokenizer DIR"),
    # a file and a missing folder are the same mistake: the same error line and exit code (issue 16)
    (["--tokenizer", "AFILE"], "AFILE: not a folder"),
    (["--tokenizer", "MISSING"], "MISSING: not a folder"),
])
def test_bad_template_choice_is_one_error_line_and_nothing_sent(serve, synth, tmp_path, args, message):
    write_tokenizer(tmp_path / "plain", template=None)
    (tmp_path / "AFILE").write_text("{}", encoding="utf-8")
    args = [str(tmp_path / "plain") if a == "NOTEMPLATE" else str(tmp_path / a) if a in ("AFILE", "MISSING")
            else a for a in args]
    srv = serve(Model())
    res = synth(srv, "magpie", *args, "-n", "2", "-o", tmp_path / "m.jsonl")
    assert res.exit_code == 1
    assert message in res.output and "Traceback" not in res.output
    assert srv.log.total == 0 and not (tmp_path / "m.jsonl").exists()


def test_killed_run_resumes_without_resending(serve, tmp_path):
    srv = serve(Model(), latency=Latency.lognormal(0.05))
    out = tmp_path / "magpie.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": CANARY_KEY, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_BASE_URL", None)
    cmd = [sys.executable, "-m", "dataforge", "-q", "synth", "magpie", "--template", "llama3", "-n", "24", "-o",
           str(out), "-m", "fake", "--base-url", srv.url, "-c", "4"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 60
    while srv.log.total < 10:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    db = sqlite3.connect(f"{out}.journal.sqlite")
    done = {k for (k,) in db.execute("SELECT key FROM requests WHERE state = 'done'")}
    db.close()
    assert 0 < len(done) < 24
    received = dict(srv.log.received)
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert all(srv.log.received[k] == received[k] for k in done)  # nothing finished was sent again
    assert f"{len(done):,} from the journal" in rerun.stdout
    rows = read_jsonl(out)
    assert len(rows) == 24 and len({r["instruction"] for r in rows}) == 24
