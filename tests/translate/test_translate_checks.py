"""Language codes, language detection, code-only fields and reply parsing: the checks rows must pass."""

from __future__ import annotations

import json

import pytest

from dataforge.errors import ConfigError
from dataforge.records import InstructionRecord, PreferenceRecord
from dataforge.translate import langs
from dataforge.translate.assemble import mix_choice, plan_row
from dataforge.translate.batching import Item, ReplyError, build_messages, parse_reply
from dataforge.translate.fields import check_fields, looks_like_code
from dataforge.translate.langcheck import detect_lang, wrong_language

ES = "Escribe un poema corto sobre el mar y las olas que llegan a la playa por la tarde."
EN = "Write a short poem about the sea and the waves that reach the beach in the afternoon."


def test_unknown_language_code_lists_the_supported_ones():
    with pytest.raises(ConfigError) as err:
        langs.parse_targets("es,klingon")
    assert "unknown language code 'klingon'" in err.value.message
    assert "es" in err.value.hint and "zh-tw" in err.value.hint and "fr" in err.value.hint


def test_codes_are_normalised_and_deduplicated():
    assert langs.parse_targets("ES, fr,pt-BR,es,zh_CN") == ["es", "fr", "pt", "zh"]


@pytest.mark.parametrize("spec,problem", [("es=0.7,fr=0.5", "add up to 1.20"), ("es=2", "ratio in (0, 1]"),
                                          ("es", "not LANG=RATIO"), ("xx=0.1", "unknown language")])
def test_bad_mix_is_refused(spec, problem):
    with pytest.raises(ConfigError) as err:
        langs.parse_mix(spec)
    assert problem in err.value.message


def test_language_detection_is_deterministic_and_ignores_code():
    assert {detect_lang(ES) for _ in range(5)} == {"es"}
    assert wrong_language(ES, "es") is None
    assert wrong_language(EN, "es") == "en"
    # English code inside a Spanish answer must not make it "English"
    code = "```python\nfor item in items:\n    print(item.name, item.price)\n```"
    assert wrong_language(f"{ES}\n{code}\n{code}", "es") is None
    # too short to judge: never rejected
    assert wrong_language("OK, gracias.", "fr") is None


def test_code_only_fields_are_recognised():
    for code in ["def add(a, b):\n    return a + b", "SELECT name FROM users WHERE id = 1;", "print(sum([1, 2]))",
                 "import numpy as np\nx = np.zeros(3)", "x = 5", "count += 1"]:
        assert looks_like_code(code), code
    for prose in ["Here is the code:", "Return the list sorted by price, then by name.", "Solve for x: 3x + 2 = 11",
                  "1. Preheat the oven.\n2. Mix the flour (200 g) and sugar.", "What is 2 + 2?",
                  # sample_data dolly-0040: arithmetic in a sentence (it was kept in English in a Spanish row)
                  "No. 221 is composite: 221 = 13 × 17."]:
        assert not looks_like_code(prose), prose


def test_plan_keeps_empty_and_code_fields_and_skips_rows_already_in_target():
    rec = InstructionRecord(instruction=EN, context="", output="def f():\n    return 1")
    plan = plan_row(rec, 0, fields=check_fields(None, "instruction"), targets=["es", "en"])
    assert list(plan.send) == ["instruction"]
    assert plan.kept == {"context": "", "output": "def f():\n    return 1"}
    assert plan.source_lang == "en" and plan.targets == ["es"] and plan.skipped == ["en"]


def test_fields_must_belong_to_the_kind():
    assert check_fields(["chosen", "instruction"], "preference") == ("chosen", "instruction")
    with pytest.raises(ConfigError):
        check_fields(["output"], "preference")


def test_mix_draws_are_stable_and_follow_the_ratios():
    mix = {"es": 0.3, "fr": 0.2}
    draws = [mix_choice(f"row{i}", mix, seed=1) for i in range(4000)]
    assert draws == [mix_choice(f"row{i}", mix, seed=1) for i in range(4000)]
    assert abs(draws.count("es") / 4000 - 0.3) < 0.03
    assert abs(draws.count("fr") / 4000 - 0.2) < 0.03
    assert abs(draws.count(None) / 4000 - 0.5) < 0.03
    assert draws != [mix_choice(f"row{i}", mix, seed=2) for i in range(4000)]


ITEMS = [Item("r1", {"instruction": "Say ⟦1⟧", "output": "Hello"}), Item("r2", {"instruction": "Bye", "output": "Go"})]
GOOD = [{"id": "r1", "instruction": "Di ⟦1⟧", "output": "Hola"}, {"id": "r2", "instruction": "Adiós", "output": "Ve"}]


@pytest.mark.parametrize("wrap", [
    lambda s: s,
    lambda s: "```json\n" + s + "\n```",
    lambda s: "Sure! Here are the translations:\n\n" + s + "\n\nLet me know if you need anything else.",
    lambda s: json.dumps({"translations": json.loads(s)}),
])
def test_replies_wrapped_in_commentary_or_fences_are_parsed(wrap):
    out = parse_reply(wrap(json.dumps(GOOD, ensure_ascii=False)), ITEMS)
    assert out == {"r1": {"instruction": "Di ⟦1⟧", "output": "Hola"}, "r2": {"instruction": "Adiós", "output": "Ve"}}


def test_each_row_of_a_reply_is_judged_alone():
    reply = [{"id": "r1", "instruction": "Aquí está la traducción", "output": 3},
             {"id": "r2", "instruction": "Here is the translation: Adiós", "output": "Ve"}]
    out = parse_reply(json.dumps(reply), ITEMS)
    assert isinstance(out["r1"], ReplyError) and "output" in out["r1"].reason
    assert isinstance(out["r2"], ReplyError) and "commentary" in out["r2"].reason
    out = parse_reply(json.dumps(GOOD[:1]), ITEMS)
    assert out["r1"] == {"instruction": "Di ⟦1⟧", "output": "Hola"}
    assert isinstance(out["r2"], ReplyError) and out["r2"].reason == "row missing from the reply"


@pytest.mark.parametrize("reply", ["", "Lo siento, no puedo ayudar con eso.", '[{"id": "r1", "instr', '"just a string"'])
def test_unreadable_replies_raise(reply):
    with pytest.raises(ReplyError):
        parse_reply(reply, ITEMS)


def test_request_is_deterministic_and_names_the_languages():
    a = build_messages(ITEMS, "fr", "en")
    assert a == build_messages(ITEMS, "fr", "en")
    assert "from English into French" in a[0]["content"]
    assert json.loads(a[1]["content"])[0] == {"id": "r1", "instruction": "Say ⟦1⟧", "output": "Hello"}
    b = build_messages(ITEMS, "fr", "en", reminder="lost protected placeholder '{x}'")
    assert "lost protected placeholder" in b[0]["content"]


def test_preference_plan_sends_all_four_fields():
    rec = PreferenceRecord(instruction=EN, chosen="The sea is calm.", rejected="No idea.", context="")
    plan = plan_row(rec, 0, fields=check_fields(None, "preference"), targets=["de"], source_lang="en")
    assert set(plan.send) == {"instruction", "chosen", "rejected"} and plan.kept == {"context": ""}

