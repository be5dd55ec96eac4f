"""`dataforge format` styles, exports, previews and bad input, through the library and the CLI."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from click.testing import CliRunner

from dataforge.cli.main import cli
from dataforge.errors import ConfigError
from dataforge.formatting import format_dataset, format_preference
from dataforge.records import PreferenceRecord

INSTR = [
    {"instruction": "Name the capital of France.", "context": "", "response": "Paris.", "lang": "en"},
    {"instruction": "Résume le texte.", "context": "Le Rhin traverse six pays.", "response": "Six pays.",
     "lang": "fr"},
]
CHAT = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                     {"role": "user", "content": "How are you?"}, {"role": "assistant", "content": "Fine."}]}
PREF = [{"instruction": "Say something kind.", "chosen": "You did great.", "rejected": "Whatever."},
        {"instruction": "Add 2 and 2.", "context": "Use digits.", "chosen": "4", "rejected": "5"}]


def write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run(*args):
    return CliRunner().invoke(cli, ["-q", *map(str, args)])


def test_text_and_prompt_completion_styles(tmp_path):
    src = write(tmp_path / "in.jsonl", INSTR)
    format_dataset(src, tmp_path / "t.jsonl", template="alpaca", style="text")
    format_dataset(src, tmp_path / "pc.jsonl", template="alpaca", style="prompt-completion")
    text, pc = read(tmp_path / "t.jsonl"), read(tmp_path / "pc.jsonl")
    assert [set(r) for r in text] == [{"id", "text"}] * 2
    assert [r["text"] for r in text] == [r["prompt"] + r["completion"] for r in pc]
    assert "### Response:\nParis.</s>" in text[0]["text"]
    assert "### Entrée :\nLe Rhin traverse six pays." in text[1]["text"]  # lang=fr from the row


def test_messages_style_keeps_turns_and_translates_the_context_header(tmp_path):
    src = [write(tmp_path / "in.jsonl", INSTR), write(tmp_path / "chat.jsonl", [CHAT])]
    s = format_dataset(src, tmp_path / "m.jsonl", template="chatml", style="messages", default_system=False)
    rows = read(tmp_path / "m.jsonl")
    assert s.written == 3 and s.languages == {"en": 2, "fr": 1}
    # "Hi How are you?" reads as English by its function words (it was "undetectable" under a 20-letter floor)
    assert "wrapper languages: en 2, fr 1 (auto: 2 from the lang field, 1 detected)" in s.lines()
    assert rows[1]["messages"] == [{"role": "user", "content": "Résume le texte.\n\nContexte :\nLe Rhin traverse"
                                                               " six pays."},
                                   {"role": "assistant", "content": "Six pays."}]
    assert rows[2]["messages"] == CHAT["messages"]


def test_multi_turn_with_a_prompt_template_is_rejected_not_flattened(tmp_path):
    single = {"messages": CHAT["messages"][:2]}
    src = write(tmp_path / "in.jsonl", [single, CHAT])
    s = format_dataset(src, tmp_path / "a.jsonl", template="alpaca")
    assert (s.read, s.written, s.rejected) == (2, 1, 1)
    reject = read(tmp_path / "a.jsonl.rejects.jsonl")[0]
    assert "multi-turn conversation (2 user turns)" in reject["reason"] and reject["line"] == 2
    ok = format_dataset(src, tmp_path / "c.jsonl", template="chatml", style="prompt-completion")
    assert ok.written == 2
    last = read(tmp_path / "c.jsonl")[1]
    assert last["prompt"].count("<|im_start|>assistant") == 2 and last["completion"] == "Fine.<|im_end|>"


def test_preference_plain_and_conversational(tmp_path):
    src = write(tmp_path / "p.jsonl", PREF)
    format_dataset(src, tmp_path / "plain.jsonl", template="chatml", default_system=False)
    plain = read(tmp_path / "plain.jsonl")
    assert plain[0] == {"id": plain[0]["id"], "prompt": "<|im_start|>user\nSay something kind.<|im_end|>\n"
                        "<|im_start|>assistant\n", "chosen": "You did great.<|im_end|>",
                        "rejected": "Whatever.<|im_end|>"}
    format_dataset(src, tmp_path / "conv.jsonl", template="chatml", conversational=True, default_system=False)
    conv = read(tmp_path / "conv.jsonl")[1]
    assert conv["prompt"] == [{"role": "user", "content": "Add 2 and 2.\n\nContext:\nUse digits."}]
    assert conv["chosen"] == [{"role": "assistant", "content": "4"}]
    pref = format_preference(PreferenceRecord(instruction="Q", chosen="A", rejected="B"), "alpaca", "de")
    assert pref["prompt"].endswith("### Antwort:\n") and pref["chosen"] == "A</s>" and pref["rejected"] == "B</s>"


def test_wrong_kind_for_a_style_is_a_one_line_error(tmp_path):
    instr, pref = write(tmp_path / "i.jsonl", INSTR), write(tmp_path / "p.jsonl", PREF)
    with pytest.raises(ConfigError, match="--style preference needs preference data"):
        format_dataset(instr, tmp_path / "o.jsonl", style="preference")
    res = run("format", pref, "-o", tmp_path / "o.jsonl", "--style", "text")
    assert res.exit_code == 1 and "cannot hold preference data" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("args,message", [
    (["-t", "nope"], "unknown template 'nope'"),
    (["--lang", "xx"], "unknown language 'xx'"),
    (["--max-length", "10"], "needs --tokenizer"),
    (["--tokenizer", "/no/such/dir"], "does not exist"),
    (["-t", "chat"], "--template chat needs a tokenizer"),
    (["--style", "text", "--to", "openai"], "--style and --to both given"),
])
def test_bad_options_are_one_line_errors(tmp_path, args, message):
    res = run("format", write(tmp_path / "i.jsonl", INSTR), "-o", tmp_path / "o.jsonl", *args)
    assert res.exit_code == 1, res.output
    first = res.output.splitlines()[0]
    assert first.startswith("error: ") and message in first  # one line says what is wrong
    assert "Traceback" not in res.output and not (tmp_path / "o.jsonl").exists()


def test_exports_reuse_the_io_shapes(tmp_path):
    src = write(tmp_path / "in.jsonl", INSTR)
    format_dataset(src, tmp_path / "s.jsonl", to="sharegpt")
    format_dataset(src, tmp_path / "a.json", to="alpaca")
    share = read(tmp_path / "s.jsonl")[1]
    assert share["conversations"][0] == {"from": "human", "value": "Résume le texte.\n\nLe Rhin traverse six pays."}
    alpaca = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert alpaca[1]["input"] == "Le Rhin traverse six pays." and alpaca[1]["output"] == "Six pays."


def test_preview_without_tokenizer_and_html(tmp_path, tiny_tokenizer_dir):
    src = write(tmp_path / "in.jsonl", INSTR)
    s = format_dataset(src, None, template="alpaca", preview=1)
    assert len(s.previews) == 1 and s.previews[0].completion == "Paris.</s>" and s.preview_only
    assert "preview only (no -o)" in s.lines()[0]
    html_path = tmp_path / "p.html"
    res = run("format", src, "--preview", "2", "--tokenizer", tiny_tokenizer_dir, "-t", "chatml",
              "--preview-html", html_path)
    assert res.exit_code == 0, res.output
    assert "example 2" in res.output and "trained=" in res.output and "legend" in res.output
    page = html_path.read_text(encoding="utf-8")
    first = page.split("example 1")[1].split("example 2")[0]
    trained = "".join(re.findall(r'<span class="trained[^"]*">([^<]*)</span>', first))
    assert html.unescape(trained) == "Paris.<|im_end|>"
    assert '<span class="masked special">&lt;s&gt;</span>' in page


def test_preview_colours_trained_and_masked_tokens_differently(tiny_tokenizer_dir, tok):
    from rich.console import Console

    from dataforge.formatting.dataset import Example
    from dataforge.formatting.preview import render_terminal, segments
    from dataforge.formatting.tokens import tokenize_example

    prompt, completion = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "Hello<|im_end|>"
    ex = tokenize_example(tok, prompt, completion)
    from dataforge.formatting.tokens import Tokenized

    example = Example("x", prompt, completion, Tokenized(ex["input_ids"], ex["completion_mask"], 0))
    segs = segments(example, tok)
    assert "".join(p for p, t, _ in segs if t) == completion
    assert "".join(p for p, t, _ in segs if not t) == "<s>" + prompt
    buf = io.StringIO()
    render_terminal([example], tok, Console(file=buf, force_terminal=True, color_system="standard", width=120))
    body = buf.getvalue().split("legend")[0]
    styled = re.findall(r"\x1b\[([\d;]+)m([^\x1b]*)\x1b\[0m", body.split("\n", 1)[1])
    green = "".join(text for codes, text in styled if "32" in codes.split(";"))
    dim = "".join(text for codes, text in styled if "2" in codes.split(";"))
    # trained text is green, masked text dimmed (rich writes newlines outside the colour codes)
    assert green == completion and dim == ("<s>" + prompt).replace("\n", "")


def test_sample_data_formats_without_losing_rows(tmp_path):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "sample_data" / "dolly_en.jsonl"
    if not sample.exists():
        pytest.skip("sample_data not generated yet")
    s = format_dataset(sample, tmp_path / "o.parquet", template="dolly", lang="auto")
    assert s.read == s.written + s.rejected and s.written > 100


def test_a_template_refusing_a_row_rejects_only_that_row(tmp_path):
    pack = tmp_path / "packs" / "nosys"
    pack.mkdir(parents=True)
    (pack / "template.yaml").write_text(
        "type: chat\nend_of_turn: '</s>'\nchat: |-\n"
        "  {%- for m in messages -%}\n"
        "  {%- if m.role == 'system' -%}{{ raise_exception('no system role here') }}{%- endif -%}\n"
        "  {{- m.role + ': ' + m.content + '\\n' -}}\n"
        "  {%- endfor -%}\n", encoding="utf-8")
    rows = [{"instruction": f"q{i}", "output": f"a{i}", **({"system": "Be brief."} if i % 3 == 0 else {})}
            for i in range(10)]
    s = format_dataset(write(tmp_path / "in.jsonl", rows), tmp_path / "o.jsonl", template="nosys",
                       template_dir=tmp_path / "packs", style="prompt-completion")
    assert (s.written, s.rejected) == (6, 4) and s.reasons == {"the template refused this row": 4}
    first = read(tmp_path / "o.jsonl")[0]
    assert first["prompt"] == "user: q1\n" and first["completion"] == "assistant: a1\n</s>"


def test_chat_data_without_a_system_prompt_gets_none(tmp_path):
    """Conversations and --style messages keep exactly their own messages; the pack's default system
    prompt goes only where the template renders an instruction row, or where the user asks."""
    chat = write(tmp_path / "chat.jsonl", [CHAT])
    s = format_dataset(chat, tmp_path / "m.jsonl", template="chatml", style="messages")
    assert s.written == 1 and read(tmp_path / "m.jsonl")[0]["messages"] == CHAT["messages"]
    format_dataset(chat, tmp_path / "pc.jsonl", template="llama3", style="prompt-completion")
    assert "system" not in read(tmp_path / "pc.jsonl")[0]["prompt"]
    instr = write(tmp_path / "i.jsonl", INSTR[:1])
    format_dataset(instr, tmp_path / "im.jsonl", template="chatml", style="messages")
    assert [m["role"] for m in read(tmp_path / "im.jsonl")[0]["messages"]] == ["user", "assistant"]
    format_dataset(write(tmp_path / "p.jsonl", PREF), tmp_path / "pm.jsonl", template="chatml", conversational=True)
    assert [m["role"] for m in read(tmp_path / "pm.jsonl")[0]["prompt"]] == ["user"]
    # the chatml pack asks for one when it renders an instruction row as text
    format_dataset(instr, tmp_path / "t.jsonl", template="chatml", style="text")
    assert read(tmp_path / "t.jsonl")[0]["text"].startswith("<|im_start|>system\nYou are a helpful assistant.")
    # the user asks: every row without one gets it; or none does
    res = run("format", chat, "-o", tmp_path / "asked.jsonl", "-t", "chatml", "--style", "messages",
              "--default-system")
    assert res.exit_code == 0, res.output
    assert read(tmp_path / "asked.jsonl")[0]["messages"][0]["role"] == "system"
    res = run("format", instr, "-o", tmp_path / "none.jsonl", "-t", "chatml", "--no-default-system")
    assert res.exit_code == 0 and "system" not in read(tmp_path / "none.jsonl")[0]["text"]
