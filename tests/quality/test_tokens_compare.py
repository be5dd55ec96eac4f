"""Exact token counts with --tokenizer (SentencePiece .model, tokenizer.json folder), and --compare."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from quality_helpers import base_rows, finding, planted_rows, write_jsonl

from dataforge.cli.main import cli


@pytest.fixture(scope="module")
def rows():
    return base_rows(40)


def _texts(rows):
    return [r[k] for r in rows for k in ("instruction", "context", "response")]


def test_sentencepiece_model_counts_exactly(tmp_path, report_of, rows):
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(t for t in _texts(rows) if t), model_writer=model,
                                   vocab_size=120, model_type="bpe", minloglevel=2, hard_vocab_limit=False)
    path = tmp_path / "tok.model"
    path.write_bytes(model.getvalue())
    sp = spm.SentencePieceProcessor(model_file=str(path))
    report = report_of(rows, max_length=60, tokenizer=path)
    out = report["lengths"]["fields"]["output"]["tokens"]
    expected = [len(sp.encode(r["response"])) for r in rows]
    assert out["total"] == sum(expected) and out["max"] == max(expected)
    row_totals = [sum(len(sp.encode(r[k])) for k in ("instruction", "context", "response")) for r in rows]
    ready = report["readiness"]
    assert ready["tokens_exact"] and ready["tokens_per_epoch"] == sum(row_totals)
    assert ready["over_max_length"] == sum(t > 60 for t in row_totals)
    assert "tok.model" in report["lengths"]["token_source"]
    assert "estimated" not in finding(report, "tokens_per_epoch")["title"]


def test_hf_tokenizer_folder_counts_exactly(tmp_path, report_of, rows):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(_texts(rows), trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    folder = tmp_path / "hf-tokenizer"
    folder.mkdir()
    tok.save(str(folder / "tokenizer.json"))
    report = report_of(rows, tokenizer=folder)
    expected = sum(len(tok.encode(r["instruction"], add_special_tokens=False).ids) for r in rows)
    assert report["lengths"]["fields"]["instruction"]["tokens"]["total"] == expected


def test_compare_before_and_after_dedup(tmp_path):
    before = planted_rows()
    after = [r for r in before if not r["id"].startswith(("dup-", "near-", "empty-", "blank-"))]
    a, b = write_jsonl(tmp_path / "before.jsonl", before), write_jsonl(tmp_path / "after.jsonl", after)
    out, js = tmp_path / "cmp.html", tmp_path / "cmp.json"
    res = CliRunner().invoke(cli, ["-q", "report", str(a), "--compare", str(b), "-o", str(out), "--json", str(js)])
    assert res.exit_code == 0, res.output
    report = json.loads(js.read_text())
    comp = report["compare"]
    assert comp["labels"] == {"a": "before.jsonl", "b": "after.jsonl"}
    assert comp["other"]["rows"]["usable"] == len(after)
    by_label = {m["label"]: m for m in comp["metrics"]}
    dup = by_label["exact duplicates (share)"]
    assert dup["status"] == "better" and dup["b"] == 0 and dup["a"] > 0
    assert by_label["rows read"]["delta"] == len(after) - len(before)
    assert by_label["output: empty or blank (share)"]["status"] == "better"
    # one refusal before, the same one after: its share rose only because clean rows went
    assert by_label["refusal or 'as an AI' phrasing (share)"]["status"] == "changed"
    resolved = " ".join(comp["resolved"])
    assert "exact duplicate" in resolved and "near-duplicate" in resolved and "empty output" in resolved
    assert comp["new"] == []
    assert comp["better"] >= 4 and comp["worse"] == 0
    page = out.read_text()
    assert 'id="compare"' in page and "before.jsonl" in page and "after.jsonl" in page
    assert 'class="better"' in page
    assert "compared with after.jsonl" in res.output


def test_compare_marks_a_worse_dataset(tmp_path, report_of):
    from dataforge.quality import compare_reports

    clean = report_of(base_rows(30), name="clean.jsonl")
    worse = report_of(base_rows(30) + [dict(r, id=r["id"] + "-copy") for r in base_rows(10)], name="worse.jsonl")
    comp = compare_reports(clean, worse)
    dup = next(m for m in comp["metrics"] if m["label"] == "exact duplicates (share)")
    assert dup["status"] == "worse" and comp["worse"] >= 1
    assert any("exact duplicate" in t for t in comp["new"])
