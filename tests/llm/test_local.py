"""The transformers backend: batched generation with the chat template, through the same runner."""

from __future__ import annotations

import subprocess
import sys

from dataforge.llm import ChatRequest, RunPolicy, run_requests

WORDS = ["sea", "wind", "river", "stone", "cloud"]


def _greedy(model_dir, messages, max_new_tokens: int) -> tuple[str, bool]:
    """Plain transformers, one prompt, no padding: (the greedy continuation's text, whether it hit EOS)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    lm = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        new = lm.generate(ids, max_new_tokens=max_new_tokens, do_sample=False,
                          pad_token_id=tok.pad_token_id or tok.eos_token_id)[0, ids.shape[1]:].tolist()
    return tok.decode(new, skip_special_tokens=True), tok.eos_token_id in new


def test_local_backend_batches_and_uses_the_chat_template(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    from dataforge.llm.local import TransformersBackend

    backend = TransformersBackend(tiny_model_dir, batch_size=4)
    requests = [ChatRequest([{"role": "user", "content": f"Tell me about the {w}"}],
                            params={"max_tokens": 6, "temperature": 0}, tag=i) for i, w in enumerate(WORDS)]
    results = run_requests(requests, backend, tmp_path / "j.sqlite",
                           policy=RunPolicy(concurrency=8, length_retries=0), progress=False)
    assert backend.batches == 2  # 5 requests, batches of up to 4
    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    for result in results:
        text = tok.apply_chat_template(result.request.messages, tokenize=False, add_generation_prompt=True)
        assert text.startswith("<|im_start|>user\n") and text.endswith("<|im_start|>assistant\n")
        assert result.usage.prompt_tokens == len(tok(text, add_special_tokens=False)["input_ids"])
        # the random model never says EOS within 6 tokens (the reference shows it): each answer is
        # truncated, and a truncated answer is never a good row; batched and left-padded, greedy
        # decoding gives what plain transformers gives for the prompt alone
        reference, stopped = _greedy(tiny_model_dir, result.request.messages, 6)
        assert not stopped
        assert not result.ok and result.reason == "truncated: finish_reason=length at max_tokens=6"
        assert result.usage.completion_tokens == 6 and result.content == reference


def test_local_backend_stop_string_ends_a_good_answer(tiny_model_dir):
    from dataforge.llm.local import TransformersBackend

    messages = [{"role": "user", "content": "Tell me about the river"}]
    reference, _ = _greedy(tiny_model_dir, messages, 6)
    cut = next(i for i in range(1, len(reference)) if reference.find(reference[i:i + 2]) == i)
    request = ChatRequest(messages, params={"max_tokens": 6, "temperature": 0, "stop": [reference[cut:cut + 2]]})
    [result] = run_requests([request], TransformersBackend(tiny_model_dir, batch_size=1),
                            policy=RunPolicy(length_retries=0), progress=False)
    assert result.ok and result.value == result.content == reference[:cut]


def test_synth_runs_on_a_local_model_folder(tiny_model_dir, tmp_path):
    from click.testing import CliRunner

    from dataforge.cli.main import cli

    docs = tmp_path / "docs.txt"
    docs.write_text("A short passage about rivers and the sea, long enough to be used here.\n", encoding="utf-8")
    out = tmp_path / "qa.jsonl"
    result = CliRunner().invoke(cli, ["-q", "synth", "qa", str(docs), "-o", str(out), "--backend", "transformers",
                                      "--model", str(tiny_model_dir), "--max-new-tokens", "4", "--min-words", "5"])
    # random weights cannot write JSON: the passage is rejected with the reason, nothing is lost,
    # and a run that wrote no rows says so with exit 1
    assert result.exit_code == 1, result.output
    assert "wrote 0 rows" in result.output and "rejected 1 candidates" in result.output
    assert "error: wrote no rows" in result.output
    assert (tmp_path / "qa.jsonl.journal.sqlite").exists()


def test_importing_the_llm_and_synth_layers_does_not_import_torch():
    code = ("import sys, dataforge.llm, dataforge.synth, dataforge.cli.synth_cmd, dataforge.llm.local;"
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)
