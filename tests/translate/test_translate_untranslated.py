"""A reply that hands the source back unchanged is not a translation, even when fields are too short to judge."""

from __future__ import annotations

from test_translate_e2e import run
from translate_scripted import Translator

SHORT = {"id": "short", "instruction": "Is 221 a prime number?", "context": "",
         "response": "No, it is not.", "category": "classification"}  # under the language check's 40 letters
NAME = {"id": "name", "instruction": "Capital of France?", "context": "", "response": "Paris",
        "category": "open_qa"}


def test_a_row_echoed_back_unchanged_is_retried_then_rejected(tmp_path, serve):
    echo = Translator(table={SHORT["instruction"]: SHORT["instruction"], SHORT["response"]: SHORT["response"]})
    summary, out, rejects = run(tmp_path, serve(echo), [SHORT], to="es")
    assert out == [] and summary.rejected == 1
    assert [r["reason"] for r in rejects] == ["untranslated: the reply repeats the source text (to es)"]
    assert len(echo.seen) == 2  # asked once more before giving up


def test_a_field_that_stays_the_same_in_a_translated_row_is_fine(tmp_path, serve):
    # "Paris" is Paris in Spanish too: only a row whose every field is unchanged is suspect
    translator = Translator(table={NAME["instruction"]: "¿Capital de Francia?", "Paris": "Paris"})
    summary, out, rejects = run(tmp_path, serve(translator), [NAME], to="es")
    assert rejects == [] and [(r["instruction"], r["output"]) for r in out] == [("¿Capital de Francia?", "Paris")]
