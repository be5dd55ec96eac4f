"""translate() end to end against a real loopback chat-completions server with scripted translations."""

from __future__ import annotations

import json
import re

from translate_helpers import TOPICS, dolly_rows, read_jsonl, write_jsonl
from translate_scripted import TOKEN, Translator, filler_translation, items_of, target_of

from dataforge.llm import RunPolicy
from dataforge.translate import translate
from dataforge.translate.assemble import mix_choice
from dataforge.translate.langcheck import detect_lang


def run(tmp_path, srv, rows, name="out.jsonl", **kw):
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    kw.setdefault("to", "es")
    kw.setdefault("policy", RunPolicy(concurrency=4, backoff=0.01, handle_sigint=False))
    summary = translate(data, tmp_path / name, model="scripted", base_url=srv.url, progress=False, **kw)
    return summary, read_jsonl(tmp_path / name), read_jsonl(tmp_path / f"{name}.rejects.jsonl")


def is_retry(request) -> bool:
    return "previous answer for this text was rejected" in request["messages"][0]["content"]


def test_rows_are_translated_with_spans_intact_lineage_and_few_requests(tmp_path, serve):
    translator = Translator()
    srv = serve(translator)
    rows = dolly_rows()
    rows.append({"id": "already-es", "instruction": "Escribe un mensaje amable sobre el mar para un amigo que vive"
                 " lejos de la costa.", "context": "", "response": "Querido amigo, el mar está tranquilo hoy y"
                 " las olas son pequeñas.", "category": "creative_writing"})
    rows.append({"id": "code-only", "instruction": "Print the numbers from one to ten, each on its own line.",
                 "context": "", "response": "for i in range(1, 11):\n    print(i)", "category": "code"})
    summary, out, rejects = run(tmp_path, srv, rows, to="es,fr", batch_size=4)

    assert rejects == [] and summary.rejected == 0
    assert summary.skipped_same_language == 1  # the Spanish row is not translated into Spanish
    assert summary.translated == 2 * len(rows) - 1 == len(out)
    by_key = {(r["meta"]["translation"]["source_id"], r["lang"]): r for r in out}
    assert ("already-es", "es") not in by_key and ("already-es", "fr") in by_key
    for i, _ in enumerate(TOPICS):
        for lang in ("es", "fr"):
            r = by_key[(f"row-{i}", lang)]
            assert r["meta"]["translation"] == {"source_id": f"row-{i}", "source_lang": "en", "backend": "openai",
                                                "model": "scripted"}
            assert r["instruction"].count("{name}") == 1 and r["instruction"].count(f"https://example.com/{i}") == 1
            assert r["output"].count("`make docs`") == 1 and r["output"].count(f"```bash\necho {i}\n```") == 1
            assert r["category"] == "creative_writing"
            assert (r["context"] == "") == (i % 2 == 1)  # empty stays empty
    code = by_key[("code-only", "es")]
    assert code["output"] == "for i in range(1, 11):\n    print(i)"
    assert code["meta"]["translation"]["kept_fields"] == ["output"]

    sent = [item for req in translator.seen for item in items_of(req)]
    blob = json.dumps(sent, ensure_ascii=False)
    assert "{name}" not in blob and "https://example.com" not in blob and "make docs" not in blob
    assert not any(item.get("context") == "" for item in sent), "empty fields are never sent"
    assert not any("print(i)" in json.dumps(item) for item in sent), "code-only fields are never sent"
    # batching: 11 en rows into es and fr in requests of up to 4 rows (3 + 3), the es row into fr alone
    assert summary.requests == srv.log.total == len(translator.seen) == 7
    assert summary.batch_requests == 6


def _break_some(breaker):
    """A hook that applies `breaker(row, language, retry)` to every translated row of a reply."""
    def hook(request, rows):
        items = {it["id"]: it for it in items_of(request)}
        for row in rows:
            breaker(row, items[row["id"]], target_of(request), is_retry(request))
        return json.dumps(rows, ensure_ascii=False)
    return hook


def test_dropped_or_altered_spans_are_retried_once_then_rejected(tmp_path, serve):
    def breaker(row, item, language, retry):
        text = item["instruction"] + item.get("output", "")
        if "lighthouse" in text and not retry:  # fixed by the retry
            row["instruction"] = TOKEN.sub("", row["instruction"])
        if "volcano" in text:  # drops the placeholder every time
            row["instruction"] = row["instruction"].replace("⟦1⟧", "{nombre}")
        if "harbour" in text:  # rewrites the code block instead of keeping it
            row["output"] = re.sub(r"⟦\d+⟧$", "```bash\neco 3\n```", row["output"])

    translator = Translator(hook=_break_some(breaker))
    srv = serve(translator)
    summary, out, rejects = run(tmp_path, srv, dolly_rows(), batch_size=5)

    ids = {r["meta"]["translation"]["source_id"] for r in out}
    assert "row-1" in ids and "row-2" not in ids and "row-3" not in ids
    assert len(out) == len(TOPICS) - 2 and summary.rejected == 2 and len(rejects) == 2
    reasons = {r["id"]: r["reason"] for r in rejects}
    assert reasons["row-2"].startswith("lost protected placeholder '{name}' in field 'instruction'")
    assert reasons["row-3"].startswith("lost protected code block '```bash⏎echo 3⏎```' in field 'output'")
    assert all(r["reason"].endswith("(to es)") and r["row"]["id"] == r["id"] for r in rejects)
    retries = [req for req in translator.seen if is_retry(req)]
    assert summary.row_retries == len(retries) == 3  # each broken row asked again exactly once
    assert all(len(items_of(req)) == 1 for req in retries)
    assert any("lost protected" in req["messages"][0]["content"] for req in retries)
    assert not any("{nombre}" in json.dumps(r) or "eco 3" in json.dumps(r) for r in out)


def test_wrong_language_is_retried_then_rejected_with_the_language_found(tmp_path, serve):
    def breaker(row, item, language, retry):
        if "castle" in item["instruction"]:
            row["instruction"] = filler_translation(item["instruction"], "English")

    srv = serve(Translator(hook=_break_some(breaker)))
    summary, out, rejects = run(tmp_path, srv, dolly_rows(), to="de")
    assert [r["id"] for r in rejects] == ["row-4"]
    assert "wrong language: field 'instruction' came back in 'en', not 'de'" in rejects[0]["reason"]
    assert summary.row_retries == 1 and len(out) == len(TOPICS) - 1
    assert all(r["lang"] == "de" for r in out)


def test_unreadable_batch_replies_fall_back_to_one_row_per_request(tmp_path, serve):
    def hook(request, rows):
        if len(rows) > 1:
            return "I'm sorry, I can only translate one text at a time. Please send them separately."
        return None

    translator = Translator(hook=hook)
    srv = serve(translator)
    summary, out, rejects = run(tmp_path, srv, dolly_rows(), batch_size=4)
    assert rejects == [] and len(out) == len(TOPICS)
    batches = -(-len(TOPICS) // 4)
    assert summary.fallbacks == summary.batch_requests == batches
    assert summary.requests == srv.log.total == batches + len(TOPICS)
    singles = [req for req in translator.seen if len(items_of(req)) == 1]
    assert len(singles) == len(TOPICS) and not any(is_retry(req) for req in singles)


def test_commentary_around_the_json_is_dropped_and_inside_a_value_is_never_stored(tmp_path, serve):
    def wrap(text):
        return "Sure! Here are the translations you asked for:\n```json\n" + text + "\n```\nHope this helps!"

    def breaker(row, item, language, retry):
        if "desert" in item["instruction"]:
            row["output"] = "Here is the translation: " + row["output"]

    srv = serve(Translator(hook=_break_some(breaker), wrap=wrap))
    summary, out, rejects = run(tmp_path, srv, dolly_rows())
    assert len(out) == len(TOPICS) - 1 and [r["id"] for r in rejects] == ["row-6"]
    assert "commentary around the translation" in rejects[0]["reason"]
    text = json.dumps(out, ensure_ascii=False)
    assert "Sure!" not in text and "Hope this helps" not in text and "Here is the translation" not in text


def test_preference_pairs_are_translated_whole_or_not_at_all(tmp_path, serve):
    rows = [{"id": f"p{i}", "instruction": f"Describe {topic} to a child in two or three simple sentences.",
             "context": "", "chosen": f"Imagine {topic}: it is big, calm and full of little wonders to discover.",
             "rejected": f"I do not want to talk about {topic} today, ask somebody else please.", "lang": "en"}
            for i, topic in enumerate(TOPICS[:6])]

    def breaker(row, item, language, retry):
        if "volcano" in item["instruction"]:  # only the rejected answer comes back wrong
            row["rejected"] = filler_translation(item["rejected"], "English")

    srv = serve(Translator(hook=_break_some(breaker)))
    summary, out, rejects = run(tmp_path, srv, rows, to="es,fr")
    assert {r["meta"]["translation"]["source_id"] for r in out} == {"p0", "p1", "p3", "p4", "p5"}
    assert len(out) == 10 and summary.rejected == 2 and {r["id"] for r in rejects} == {"p2"}
    assert all("field 'rejected'" in r["reason"] for r in rejects)
    for r in out:  # never half translated: every field is in the target language
        src = rows[int(r["meta"]["translation"]["source_id"][1:])]
        assert set(r) >= {"instruction", "chosen", "rejected"}
        for key in ("instruction", "chosen", "rejected"):
            assert r[key] != src[key] and detect_lang(r[key]) == r["lang"]


def test_keep_source_and_mix(tmp_path, serve):
    srv = serve()
    rows = dolly_rows(TOPICS * 3)
    for i, row in enumerate(rows):
        row["id"] = f"m{i}"
    mix = {"es": 0.4, "fr": 0.3}
    summary, out, _ = run(tmp_path, srv, rows, to=None, mix="es=0.4,fr=0.3", seed=7)
    assert len(out) == len(rows) == summary.written  # each row exactly once, in one language
    got = {(r["meta"].get("translation") or {}).get("source_id") or r["id"]: r["lang"] for r in out}
    for row in rows:
        assert got[row["id"]] == (mix_choice(row["id"], mix, seed=7) or "en")
    assert summary.sources_written == sum(1 for r in rows if mix_choice(r["id"], mix, seed=7) is None)
    assert [r["lang"] for r in out] == [r["lang"] for r in run(tmp_path, srv, rows, name="again.jsonl", to=None,
                                                                 mix="es=0.4,fr=0.3", seed=7)[1]]

    summary, out, _ = run(tmp_path, srv, dolly_rows(), name="keep.jsonl", keep_source=True)
    assert len(out) == 2 * len(TOPICS) and summary.sources_written == len(TOPICS)
    assert [r["lang"] for r in out[:4]] == ["en", "es", "en", "es"]  # original first, then its translation
    assert out[0]["instruction"] == dolly_rows()[0]["instruction"]


def test_backcheck_scores_the_round_trip_and_drops_rows_under_min_chrf(tmp_path, serve):
    rows = dolly_rows(TOPICS[:4])
    originals = {}

    class RoundTrip(Translator):
        def translate_rows(self, request):
            out = super().translate_rows(request)
            if target_of(request) == "Spanish":
                for item, row in zip(items_of(request), out):
                    for key, value in item.items():
                        if key != "id":  # a unique translation per source text, remembered for the way back
                            row[key] = f"{row[key]} Número {len(originals)} del conjunto."
                            originals[row[key]] = value
                return out
            for item, row in zip(items_of(request), out):  # back to English
                for key, value in item.items():
                    if key != "id":
                        back = originals[value]
                        row[key] = back if "volcano" not in back else filler_translation(back, "English")
            return out

    translator = RoundTrip()
    srv = serve(translator)
    summary, out, rejects = run(tmp_path, srv, rows, backcheck=True, min_chrf=60)
    assert {r["meta"]["translation"]["source_id"] for r in out} == {"row-0", "row-1", "row-3"}
    assert all(r["meta"]["translation"]["backcheck_chrf"] == 100.0 for r in out)
    assert [r["id"] for r in rejects] == ["row-2"] and rejects[0]["reason"].startswith("low back-check chrF: ")
    assert summary.back_requests == 1  # the passed rows of the one forward batch go back together
    assert 60 < summary.mean_chrf <= 100


def test_a_budget_stops_cleanly_and_the_rerun_resumes_from_the_journal(tmp_path, serve):
    translator = Translator()
    srv = serve(translator)
    rows = dolly_rows()
    tight = RunPolicy(concurrency=1, max_tokens=400, handle_sigint=False)
    first, out, rejects = run(tmp_path, srv, rows, batch_size=2, policy=tight)
    assert first.stopped and "--max-tokens" in first.stopped
    assert 0 < first.translated < len(rows) and first.unreached > 0 and rejects == []
    assert first.read == len(rows) and len(out) == first.translated == first.planned - first.pending
    assert any("run the same command again" in line for line in first.lines())
    sent_before = srv.log.total
    second, out, rejects = run(tmp_path, srv, rows, batch_size=2)
    assert second.stopped is None and len(out) == len(rows) and rejects == []
    assert second.from_journal == sent_before  # nothing finished was sent again
    assert srv.log.total - sent_before == second.requests - second.from_journal
    assert all(n == 1 for n in srv.log.completed.values())


def test_server_faults_lose_or_duplicate_no_row(tmp_path, serve):
    srv = serve(Translator(), faults={"429": 0.2, "500": 0.2, "drop": 0.1}, seed=3)
    rows = dolly_rows()
    summary, out, rejects = run(tmp_path, srv, rows, to="es,fr", batch_size=3)
    assert rejects == [] and summary.translated == len(out) == 2 * len(rows)
    assert sorted((r["meta"]["translation"]["source_id"], r["lang"]) for r in out) == sorted(
        (r["id"], lang) for r in rows for lang in ("es", "fr"))
    assert summary.http_attempts > summary.requests  # faults happened and were retried by the LLM layer
    assert srv.log.statuses["429"] + srv.log.statuses["500"] > 0
