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

from dataforge.langid import SCRIPTS, identify, languages_of, probabilities, script_counts
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
