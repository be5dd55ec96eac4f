"""The shared language detector (dataforge.langid) on real text, and the commands that use it.

Real text only where a claim is about accuracy: tests/realdata/langid/ holds
sentences in 50 languages (lingua-py's Leipzig test data) and 40 rows each of
LLaMA-Factory's alpaca_zh_demo / alpaca_en_demo (see the README there).
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dataforge.langid import SCRIPTS, identify, languages_of, probabilities, prose, script_counts
from dataforge.langid import detector as detector_module

HERE = Path(__file__).parent / "realdata" / "langid"
SENTENCES = [json.loads(line) for line in (HERE / "sentences.jsonl").read_text(encoding="utf-8").splitlines()]
ZH = json.loads((HERE / "alpaca_zh_demo_40.json").read_text(encoding="utf-8"))
EN = json.loads((HERE / "alpaca_en_demo_40.json").read_text(encoding="utf-8"))
CANNOT_BE_KOREAN = [r[f] for r in ZH for f in ("instruction", "input", "output") if r[f].strip()]


def test_the_evaluation_set_is_what_its_readme_says():
    langs = collections.Counter(r["lang"] for r in SENTENCES)
    assert len(langs) >= 15 and min(langs.values()) >= 30
    assert all(r["source"].startswith(("lingua-py:", "LLaMA-Factory:")) for r in SENTENCES)
    assert not any(ch in text for text in CANNOT_BE_KOREAN for ch in map(chr, range(0xAC00, 0xAC00 + 11172)))


def test_at_least_98_percent_right_on_texts_of_20_characters_or_more():
    long = [r for r in SENTENCES if len(r["text"]) >= 20]
    right = sum(identify(r["text"]).lang == r["lang"] for r in long)
    assert right / len(long) >= 0.98, f"{right} of {len(long)}"


def test_no_language_is_reported_for_a_script_it_cannot_be_written_in():
    for r in SENTENCES + [{"text": t} for t in CANNOT_BE_KOREAN]:
        guess = identify(r["text"])
        if guess.status == "ok":
            assert guess.lang in languages_of(guess.script), (guess, r["text"][:60])
            # and the script it named is really in the text: Korean needs Hangul, Japanese kana
            counts = script_counts(r["text"])
            key = {"ko": "G", "ja": "J"}.get(guess.lang) or next(k for k, s in SCRIPTS.items()
                                                                 if s.code == guess.script)
            assert counts[key], (guess.lang, r["text"][:60])


def test_han_without_hangul_is_chinese_never_korean_and_needs_no_length():
    found = collections.Counter(identify(t).label for t in CANNOT_BE_KOREAN)
    assert "ko" not in found and found["zh"] >= len(CANNOT_BE_KOREAN) - 1, found
    # the one exception is an input that is mostly English ("字符串1：This is an example ...")
    assert all(identify(t).lang == "zh" for t in CANNOT_BE_KOREAN if not script_counts(t)["l"])
    assert identify("你好吗？").lang == "zh"  # four characters are plenty in a script without spaces
    assert identify("東京に行く").lang == "ja"  # any kana: Japanese
    assert identify("서울에 간다").lang == "ko"  # Hangul: Korean
    assert identify("《世界遗产名录》").lang == "zh"


@pytest.mark.parametrize("lang,text", [
    ("th", "ขอบคุณ"), ("el", "Καλημέρα"), ("he", "שלום עולם"), ("hy", "Բարեւ"), ("ka", "გამარჯობა"),
    ("bn", "ধন্যবাদ"), ("ta", "வணக்கம்"), ("gu", "આભાર"), ("pa", "ਧੰਨਵਾਦ"),
])
def test_one_language_scripts_decide_alone(lang, text):
    guess = identify(text)
    assert (guess.lang, guess.how, guess.sure) == (lang, "script", True)


def test_too_little_to_go_on_is_said_not_guessed():
    assert identify("").label == "empty"
    assert identify("  \n").label == "empty"
    assert identify("12 + 30 = 42 !!!").label == "unknown"  # no letters: no language
    assert identify("OK, thx").label == "too short"
    assert identify("```python\nprint('hello world, this is code')\n```").label == "unknown"  # code is removed


def test_langdetect_only_chooses_among_the_script_languages():
    seen = collections.Counter()
    for r in SENTENCES:
        guess = identify(r["text"])
        if guess.script in ("Arab", "Cyrl", "Deva"):
            seen[guess.script] += 1
            assert {code for code, _ in probabilities(r["text"])} <= set(languages_of(guess.script))
    assert min(seen.values()) >= 60, seen  # 3 languages of each, 30 sentences each (a few are mostly Latin)


def test_answers_are_the_same_in_another_process():
    texts = [r["text"] for r in SENTENCES[::40]]
    here = [identify(t).label for t in texts]
    code = ("import json,sys; from dataforge.langid import identify;"
            "print(json.dumps([identify(t).label for t in json.load(sys.stdin)]))")
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(texts), capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    assert json.loads(out.stdout) == here


def test_report_on_alpaca_zh_calls_nothing_korean_and_little_too_short():
    from dataforge.progress import set_quiet
    from dataforge.quality import build_report

    set_quiet(True)
    try:
        report = build_report(str(HERE / "alpaca_zh_demo_40.json"))
    finally:
        set_quiet(False)
    fields = report["languages"]["fields"]
    for name in ("instruction", "output"):
        counts = fields[name]["counts"]
        assert "ko" not in counts, (name, counts)
        assert counts.get("too short", 0) <= 2, (name, counts)
        assert counts.get("zh", 0) >= 38, (name, counts)
    assert report["languages"]["mismatch"]["output"]["count"] == 0


def _format(tmp_path, data, lang="auto"):
    from dataforge.formatting import format_dataset
    from dataforge.progress import set_quiet
    from dataforge.templates import find_pack

    set_quiet(True)
    src = tmp_path / "in.json"
    src.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    summary = format_dataset(src, tmp_path / "out.jsonl", template="alpaca", lang=lang, style="prompt-completion")
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    headers = {code: s["response_header"] for code, s in find_pack("alpaca").languages.items()}
    got = collections.Counter(next((c for c, h in headers.items() if h in r["prompt"]), "?") for r in rows)
    return summary, got


def test_format_auto_puts_only_chinese_wrappers_on_chinese_rows(tmp_path):
    summary, got = _format(tmp_path, ZH)
    assert got == {"zh": 40}
    assert "wrapper languages: zh 40 (auto: 40 detected)" in summary.lines()


def test_format_auto_puts_only_english_wrappers_on_english_rows_mostly_without_langdetect(tmp_path, monkeypatch):
    calls = []
    real = detector_module._langdetect
    monkeypatch.setattr(detector_module, "_langdetect", lambda key, head: calls.append(head) or real(key, head))
    detector_module._identify.cache_clear()
    summary, got = _format(tmp_path, EN)
    assert got == {"en": 40}
    assert summary.languages == {"en": 40}
    assert len(calls) <= 4, calls  # the function-word check settles the rest


def test_format_auto_gives_a_row_its_own_language_only_when_sure(tmp_path):
    rows = [dict(r) for r in EN[:12]]
    rows.append({"instruction": "Erkläre, warum der Himmel am Tag blau ist und nicht schwarz.", "input": "",
                 "output": "Wegen der Rayleigh-Streuung."})
    rows.append({"instruction": "Name three fruits.", "input": "", "output": "Apple, pear, plum."})
    summary, got = _format(tmp_path, rows)
    assert got == {"en": 13, "de": 1}
    assert summary.languages == {"en": 13, "de": 1}


def test_format_cli_prints_the_mix_it_applied(tmp_path):
    src = tmp_path / "zh.json"
    src.write_text(json.dumps(ZH[:10], ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "dataforge", "format", str(src), "-o", str(tmp_path / "o.jsonl"),
                          "-t", "alpaca"], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert out.returncode == 0, out.stderr
    assert "wrapper languages: zh 10 (auto: 10 detected)" in out.stdout


# ----- defects found by a new-user trial on real data ------------------------------------------------------
# Exact strings from the trial's files: T0 (bigscience/P3, /tmp/trial/t0_all.jsonl, "prompt"/"completion"),
# LLaMA-Factory's alpaca_en_demo, alpaca_zh_demo and dpo_zh_demo (same commit as tests/realdata/langid/).

@pytest.mark.parametrize("text", [
    "unflattering<|endoftext|>",  # a T0 completion: langdetect read "endoftext" as Swedish
    "connective tissue connective",  # a T0 completion: "French, 100%"
    "1. Brazil\n2. Argentina\n3. Chile",  # an alpaca_en_demo output: "Italian"
    "Yes<|endoftext|></s>",
    "[INST] connective tissue [/INST]",
    "Does Jimmie take Virgil's suggestion?<|endoftext|></s>",  # a T0 completion: "Estonian, 100%"
])
def test_short_answers_without_function_words_are_never_sure(text):
    guess = identify(text)
    assert not guess.sure, guess


def test_special_token_markup_is_not_read_as_letters():
    assert prose("unflattering<|endoftext|>").strip() == "unflattering"
    assert prose("<s>[INST] Hi [/INST] Hello</s>").split() == ["Hi", "Hello"]
    assert identify("<|im_start|>user<|im_end|>").label == "too short"  # only markup and 4 letters left


def test_sure_needs_the_function_words_to_agree_not_just_not_disagree():
    # four words or more, and its own function words: sure, as before
    assert identify("Erkläre, warum der Himmel am Tag blau ist und nicht schwarz.").sure
    assert identify("Esta es una frase bastante larga escrita en español.").sure
    assert identify("Name three fruits that grow on trees in the garden.").sure
    # langdetect at 100% on fact lists of names, and as many Spanish or Italian function words as French
    # ("le", "de", "la") or Portuguese ones: no language is confirmed, so not sure
    for prompt, _answer in T0_ENGLISH[2:]:
        guess = identify(prompt)
        assert not (guess.sure and guess.lang != "en"), (guess, prompt[:60])


@pytest.mark.parametrize("text", [
    "欺骗他人(trick somebody)",  # alpaca_zh_demo output (the report called it Slovak)
    "下面是按原子序数*排序的化学元素列表：\n\n1. 氢（Hydrogen, H）\n2. 氦（Helium, He）\n3. 锂（Lithium, Li）\n"
    "4. 铍（Beryllium, Be）\n5. 硼（Boron, B）\n6. 碳（Carbon, C）\n7. 氮（Nitrogen, N）\n8. 氧（Oxygen, O）\n"
    "9. 氟（Fluorine, F）\n10. 氖（Neon, Ne）",  # alpaca_zh_demo output, first ten lines (the report: German)
])
def test_chinese_with_bracketed_english_glosses_is_chinese(text):
    assert identify(text).lang == "zh"


# T0 prompts: an English question about a quoted Spanish review, and English fact lists of Spanish, French
# and Portuguese names (format --lang auto gave them es, fr and pt wrappers). Fact lists cut to 400 characters.
T0_ENGLISH = [
    ("'compleja e intelectualmente retadora , el ladrón de orquídeas es uno de esos filmes que vale la pena ver "
     "precisamente por su originalidad . ' How does the reviewer feel about the movie?\n", "They loved it"),
    ("'compleja e intelectualmente retadora , el ladrón de orquídeas es uno de esos filmes que vale la pena ver "
     "precisamente por su originalidad . ' The sentiment expressed for the movie is\n", "positive"),
    ("- fullname is dwight anthony pezzarossi garcía\n\n\n\n- clubs is deportivo ferrol comunicaciones bolton "
     "wanderers comunicaciones racing de ferrol numancia deportivo escuintla marquense comunicaciones deportes la "
     "serena comunicaciones argentinos juniors palestino santiago wanderers racing de\n\n\n\n- nationalteam is "
     "guatemala\n\n\n\n- nationalcaps is 72\n\n\n\n- goals is 0 9 16 7 5 13 4 8 12 0 9 3 0\n\n\n\n- birth date is "
     "4 september 1979\n\n\n\n", "dwight pezzarossi"),
    ("Facts:\n\n\n- children: 3\n\n\n\n- name: jean-marie le pen\n\n\n\n- spouse: pierrette -lrb- 1991 -- present "
     "-rrb- lalanne -lrb- 1960 -- 1987 -rrb- jeanne-marie paschos\n\n\n\n- signature: jean-marie le pen "
     "signature.jpg\n\n\n\n- term end: 15 9 october 1962 24 february 2000 22 march 1992 19 january march 1989 2011 "
     "10 april 2003 14 march 1988\n\n\n\n- unit: 20px foreign legion 1st foreign parachute regiment\n\n\n\n",
     "jean-marie le pen"),
    ("Facts:\n\n\n- birth date: 12 september 1831\n\n\n\n- birth name: manuel antônio Álvares de azevedo\n\n\n\n- "
     "notable works: '' na taverna '' , '' macário '' lira dos vinte anos '' , '' noite\n\n\n\n- death place: rio de "
     "janeiro , brazil\n\n\n\n- other names: job stern , maneco\n\n\n\n- death date: 25 april 1852\n\n\n\n- "
     "occupation: poet , law student , playwright , short story writer , essayist\n\n\n\n", "álvares de azevedo"),
]
# dpo_zh_demo rows: beda1875068d960e (Chinese task quoting a Japanese sentence: got the Japanese wrapper) and
# 5b0cc5f1c55ecf6e (Chinese task followed by English examples: got the English wrapper); first human turns.
DPO_ZH_CHINESE = [
    "Q: 给定一句日语和老挝语的句子。您的任务是检查老挝语句子是否是日语的翻译。如果翻译正确，则生成标签\"Yes\"，否则生成标签"
    "\"No\"。\nJapanese: この後、私の今のチームメイトは最後まで私をカバーしようと色々と試みてくれて、そして最終的に、私に大きな成果を"
    "もたらした。 \nLao: ຫຼັງຈາກນີ້ ເພື່ອນໃນທີມຂອງຂ້ອຍໃນປະຈຸບັນ ໄດ້ພະຍາຍາມຊ່ວຍຂ້ອຍເຖິງຕອນຈົບ ແລະ ສຸດທ້າຍມັນໄດ້ເອົາກຳລັງໃຈທີ່ດີສຳລັບຂ້ອຍ.\nA:",
    "在这个任务中，给定一个英语 Tokens 句子，你的任务是将其转换成英语语言\n一个例子如下。\nQ: The adult literacy program Read "
    "Santa Clara marked its tenth anniversary today with a gathering of program participants , staff , and "
    "supporters from the community .\nA: The adult literacy program Read Santa Clara marked its tenth anniversary "
    "today with a gathering of program participants, staff, and supporters from the community.\nRationale: The "
    "above sentence is correctly translated from English Tokens to English\nQ: Hundreds of firemen have been "
    "fighting the fire , but conditions have been difficult because of strong winds and temperatures soaring well "
    "over 40 degrees Celsius .\nA: 数百名消防员一直在与火灾作斗争，但由于强风和温度飙升到40摄氏度以上，情况变得非常困难。",
]


def test_format_auto_keeps_english_on_english_rows_that_quote_or_name_other_languages(tmp_path):
    rows = [dict(r) for r in EN[:12]]
    rows += [{"instruction": prompt, "input": "", "output": answer} for prompt, answer in T0_ENGLISH]
    summary, got = _format(tmp_path, rows)
    assert got == {"en": 12 + len(T0_ENGLISH)}, got
    assert summary.languages == {"en": 12 + len(T0_ENGLISH)}


def test_format_auto_keeps_chinese_on_chinese_rows_that_quote_japanese_or_english(tmp_path):
    rows = [dict(r) for r in ZH[:12]]
    rows += [{"instruction": text, "input": "", "output": "Yes"} for text in DPO_ZH_CHINESE]
    summary, got = _format(tmp_path, rows)
    assert got == {"zh": 12 + len(DPO_ZH_CHINESE)}, got


def test_format_auto_still_switches_when_a_row_is_sure_of_another_language(tmp_path):
    rows = [dict(r) for r in ZH[:12]]
    rows.append({"instruction": "この文章を英語に翻訳してください。今日はとても良い天気ですね。", "input": "", "output": "."})
    rows.append({"instruction": "Explain why the sky is blue during the day and not black at all.", "input": "",
                 "output": "Rayleigh scattering."})
    _summary, got = _format(tmp_path, rows)
    assert got == {"zh": 12, "ja": 1, "en": 1}, got


def test_ctrl_c_while_langdetect_loads_its_profiles_stays_an_interrupt():
    # langdetect's loader turns any exception, Ctrl-C included, into "Profile format error"; a Ctrl-C at
    # that moment ended `report` with a traceback and exit 1 instead of a clean exit 130
    from unittest import mock

    from langdetect.detector_factory import DetectorFactory

    from dataforge.langid import detector

    detector._factory.cache_clear()
    try:
        with mock.patch.object(DetectorFactory, "add_profile", side_effect=KeyboardInterrupt):
            with pytest.raises(KeyboardInterrupt):
                detector._factory("l")
    finally:
        detector._factory.cache_clear()
    assert detector.identify("Esta es una frase bastante larga escrita en español.").lang == "es"
