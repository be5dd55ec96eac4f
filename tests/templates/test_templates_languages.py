"""Each language's wrapper texts really are in that language (the shared detector) and differ from English."""

from __future__ import annotations

import re

import pytest

from dataforge.formatting.core import Formatter
from dataforge.langid import identify
from dataforge.records import InstructionRecord
from dataforge.templates import find_pack
from dataforge.templates.lang import normalize

MULTILINGUAL = ["alpaca", "dolly", "qa", "chatml", "llama3", "mistral"]
CASES = [(name, lang) for name in MULTILINGUAL for lang in sorted(find_pack(name).languages)]
# Record content made of digits only, so whatever words the rendering holds are the template's own.
NEUTRAL = InstructionRecord(instruction="1234", context="5678", output="90")
MARKUP = re.compile(r"<\|[^|]*\|>|\[/?INST\]|</?s>|#+|\d+|\b(?:system|user|assistant)\b")  # + chat role names


def _detect(text: str) -> str:
    guess = identify(text)
    return normalize(guess.lang or (guess.candidates[0][0] if guess.candidates else guess.label))


@pytest.mark.parametrize("name,lang", CASES)
def test_rendered_wrapper_text_is_in_its_language(name, lang):
    prompt, completion = Formatter(name, lang).pair(NEUTRAL)
    words = MARKUP.sub(" ", prompt + completion)
    english = MARKUP.sub(" ", "".join(Formatter(name, "en").pair(NEUTRAL)))
    if lang != "en":
        assert words.split() != english.split(), f"{name}/{lang} renders the English texts"
    if len(words.strip()) >= 20:  # long enough to be meaningful (scripts like zh/ja/ko decide at any length)
        assert _detect(words) == lang, (name, lang, words)


@pytest.mark.parametrize("name", ["alpaca", "dolly", "qa", "chatml"])
def test_each_long_string_alone_is_in_its_language(name):
    pack = find_pack(name)
    english = pack.languages["en"]
    for lang, strings in pack.languages.items():
        for key, value in strings.items():
            text = value.replace("#", "").strip()
            if lang != "en" and english[key].strip() and len(text) > 3:
                assert value != english[key], f"{name}/{lang}.yaml '{key}' is still English"
            if len(text) >= 40:
                assert _detect(text) == lang, (name, lang, key, text)
