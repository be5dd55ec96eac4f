"""Every built-in template renders every language, puts context where it belongs, ends with its marker."""

from __future__ import annotations

import pytest

from dataforge.errors import ConfigError
from dataforge.formatting import format_record
from dataforge.formatting.core import Formatter
from dataforge.records import InstructionRecord
from dataforge.templates import available, find_pack

REQUIRED = ["en", "es", "fr", "de", "it", "pt", "nl", "ru", "zh", "ja", "ar", "hi"]
BUILTINS = ["alpaca", "dolly", "qa", "completion", "chatml", "llama3", "mistral"]
END = {"alpaca": "</s>", "dolly": "</s>", "qa": "</s>", "completion": "</s>", "chatml": "<|im_end|>",
       "llama3": "<|eot_id|>", "mistral": "</s>"}
ALL_LANGS = sorted({lang for name in BUILTINS for lang in find_pack(name).languages})

CTX = "Le Rhône prend sa source dans le glacier du Rhône, en Suisse."
WITH = InstructionRecord(instruction="Where does the river start?", context=CTX, output="In Switzerland.")
WITHOUT = InstructionRecord(instruction="Where does the river start?", output="In Switzerland.")


def test_builtin_templates_are_all_there():
    assert set(BUILTINS) <= set(available())


@pytest.mark.parametrize("name", [n for n in BUILTINS if n != "completion"])
def test_every_multilingual_pack_has_the_twelve_languages(name):
    assert set(REQUIRED) <= set(find_pack(name).languages)


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("lang", ALL_LANGS)
def test_every_template_renders_every_language(name, lang):
    fmt = Formatter(name, lang)
    pack = fmt.pack
    strings = pack.languages.get(lang, {})
    prompt, completion = fmt.pair(WITH)
    text = prompt + completion
    assert "{{" not in text and "{%" not in text
    assert completion.endswith(END[name]) and "In Switzerland." in completion
    assert CTX in text and WITH.instruction in text
    assert not fmt.languages.fallbacks  # the language exists: no English fallback
    # each wrapper text this record needs shows up in the chosen language
    if name in ("alpaca", "dolly"):
        assert strings["instruction_header"] in prompt and strings["response_header"] in prompt
    if name in ("chatml", "llama3"):
        assert strings["default_system"] in prompt
    if name in ("chatml", "llama3", "mistral"):
        assert strings["context_header"] in prompt
    if name == "qa":
        assert strings["intro_context"] in prompt and prompt.rstrip().endswith(strings["answer_label"])
    # and without context no context header, no empty section is left behind
    bare_prompt, _ = fmt.pair(WITHOUT)
    for key, value in strings.items():
        if ("context" in key or "input" in key) and value.strip():
            assert value not in bare_prompt, (key, bare_prompt)
    assert "\n\n\n" not in bare_prompt


def test_exact_alpaca_text_matches_the_published_format():
    out = format_record(WITH, "alpaca", "en")
    assert out["prompt"] == (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n### Instruction:\n"
        f"{WITH.instruction}\n\n### Input:\n{CTX}\n\n### Response:\n")
    assert out["completion"] == "In Switzerland.</s>"
    bare = format_record(WITHOUT, "alpaca", "en")
    assert bare["prompt"].startswith("Below is an instruction that describes a task. Write a response")
    assert "### Input" not in bare["prompt"]


def test_exact_chatml_and_qa_text():
    out = format_record(WITHOUT, "chatml", "en", default_system=False)
    assert out == {"prompt": f"<|im_start|>user\n{WITHOUT.instruction}<|im_end|>\n<|im_start|>assistant\n",
                   "completion": "In Switzerland.<|im_end|>"}
    qa = format_record(WITHOUT, "qa", "en")
    assert qa["prompt"] == f"Please answer the following question.\n\nQ: {WITHOUT.instruction}\nA:"
    assert qa["completion"] == " In Switzerland.</s>"


def test_record_system_prompt_replaces_the_default():
    rec = InstructionRecord(instruction="Hi", output="Hello", meta={"system": "You are a pirate."})
    chat = format_record(rec, "chatml", "en")["prompt"]
    assert chat.startswith("<|im_start|>system\nYou are a pirate.<|im_end|>") and "helpful" not in chat
    assert format_record(rec, "alpaca", "en")["prompt"].startswith("You are a pirate.\n\n### Instruction:")
    assert "You are a pirate." in format_record(rec, "mistral", "en")["prompt"]


def test_whitespace_only_context_is_treated_as_empty():
    rec = InstructionRecord(instruction="Hi", context="   \n ", output="Hello")
    assert "### Input" not in format_record(rec, "alpaca", "en")["prompt"]


def test_lang_auto_uses_the_record_field_then_detection():
    fr = InstructionRecord(instruction="Hi", output="Hello", lang="fr-CA")
    assert "### Réponse :" in format_record(fr, "alpaca", "auto")["prompt"]
    undeclared = InstructionRecord(instruction="¿Cuál es la capital de España y por qué es importante?",
                                   output="La capital de España es Madrid, una ciudad muy grande.")
    assert "### Respuesta:" in format_record(undeclared, "alpaca", "auto")["prompt"]


def test_missing_language_falls_back_to_english_and_is_counted():
    fmt = Formatter("alpaca", "auto")
    for lang in ("sw", "sw", "fr", "th"):
        fmt.pair(InstructionRecord(instruction="Hi", output="Hello", lang=lang))
    assert fmt.languages.fallbacks == {"sw": 2, "th": 1}
    assert fmt.languages.used == {"en": 3, "fr": 1}
    warning = " ".join(fmt.languages.warnings())
    assert "2 row(s) in 'sw' used English" in warning
    forced = Formatter("qa", "sw")
    prompt, _ = forced.pair(WITHOUT)
    assert prompt.startswith("Please answer") and forced.languages.fallbacks == {"sw": 1}


def test_unknown_language_and_template_are_one_line_errors():
    with pytest.raises(ConfigError, match="unknown language 'klingon'"):
        Formatter("alpaca", "klingon")
    with pytest.raises(ConfigError, match="unknown template 'alpacca'") as exc:
        Formatter("alpacca", "en")
    assert "alpaca" in exc.value.hint and "--template-dir" in exc.value.hint


def test_sample_multilingual_rows_get_their_own_language(tmp_path):
    import json
    from pathlib import Path

    from dataforge.formatting import format_dataset
    from dataforge.progress import set_quiet
    from dataforge.templates import find_pack

    sample = Path(__file__).resolve().parents[2] / "sample_data" / "multilingual.jsonl"
    if not sample.exists():
        pytest.skip("sample_data not generated yet")
    set_quiet(True)
    rows = [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()]
    headers = {lang: s["instruction_header"] for lang, s in find_pack("dolly").languages.items()}
    s = format_dataset(sample, tmp_path / "o.jsonl", template="dolly", lang="auto", style="prompt-completion")
    out = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert s.written == len(rows) and not s.warnings[1:]
    for row, got in zip(rows, out):
        assert headers[row["lang"]] in got["prompt"], (row["lang"], got["prompt"][:80])
    # without the lang field, langdetect finds the language from the text for (nearly) every row
    unlabeled = tmp_path / "nolang.jsonl"
    unlabeled.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "lang"}, ensure_ascii=False) + "\n"
                                 for r in rows), encoding="utf-8")
    format_dataset(unlabeled, tmp_path / "d.jsonl", template="dolly", lang="auto", style="prompt-completion")
    detected = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines()]
    hits = sum(headers[r["lang"]] in d["prompt"] for r, d in zip(rows, detected))
    assert hits >= 0.9 * len(rows), hits
