"""Defects a new user hit on real data: each test fails on the old behaviour and passes on the fix."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safety_helpers import run_cli, snapshot, temp_leftovers

ALPACA = [{"instruction": "Say hi", "input": "", "output": "hi"}, {"instruction": "Add 1+1", "input": "", "output": "2"}]
HF_INFO = {"builder_name": "parquet", "citation": "", "config_name": "default", "dataset_size": 10,
           "description": "", "features": {"id": {"dtype": "string", "_type": "Value"}}}


def _alpaca_input(tmp_path: Path) -> Path:
    src = tmp_path / "in" / "alpaca.json"
    src.parent.mkdir()
    src.write_text(json.dumps(ALPACA), encoding="utf-8")
    return src


def _refused_untouched(tmp_path, out_dir: Path, info_text: str, expect: str):
    src = _alpaca_input(tmp_path)
    (out_dir / "dataset_info.json").write_text(info_text, encoding="utf-8")
    before, src_before = snapshot(out_dir), snapshot(src.parent)
    r = run_cli("convert", src, "-o", out_dir / "train.json", "--to", "llamafactory-alpaca")
    assert r.code == 1, r.err
    assert expect in r.error_line
    assert snapshot(out_dir) == before  # no data file, no edit of the info file
    assert snapshot(src.parent) == src_before and temp_leftovers(tmp_path) == []


def test_convert_llamafactory_refuses_a_datasets_dataset_info(tmp_path):
    out_dir = tmp_path / "hfsave"
    out_dir.mkdir()
    _refused_untouched(tmp_path, out_dir, json.dumps(HF_INFO), "not a LLaMA-Factory dataset_info.json")


def test_convert_llamafactory_refuses_broken_info_before_writing_data(tmp_path):
    out_dir = tmp_path / "lf"
    out_dir.mkdir()
    _refused_untouched(tmp_path, out_dir, "{not json", "cannot add the entry 'train'")


def test_convert_llamafactory_refuses_taken_name_before_writing_data(tmp_path):
    out_dir = tmp_path / "lf"
    out_dir.mkdir()
    taken = {"train": {"file_name": "other.json"}}
    _refused_untouched(tmp_path, out_dir, json.dumps(taken), "its entry 'train' describes other.json")


def test_convert_llamafactory_adds_to_a_llamafactory_info(tmp_path):
    src = _alpaca_input(tmp_path)
    out_dir = tmp_path / "lf"
    out_dir.mkdir()
    (out_dir / "dataset_info.json").write_text(json.dumps({"hub": {"hf_hub_url": "a/b"}}), encoding="utf-8")
    r = run_cli("convert", src, "-o", out_dir / "train.json", "--to", "llamafactory-alpaca")
    assert r.code == 0, r.err
    info = json.loads((out_dir / "dataset_info.json").read_text())
    assert info["hub"] == {"hf_hub_url": "a/b"} and info["train"]["file_name"] == "train.json"
    assert len(json.loads((out_dir / "train.json").read_text())) == 2


# ---- synth: documents from a .txt without blank lines; an unreachable server --------------------

def _docs(path: Path, split: str = "paragraph"):
    from dataforge.io import RejectSink
    from dataforge.synth.sources import read_documents

    with RejectSink(None) as rejects:
        return list(read_documents(path, rejects=rejects, split=split))


def test_synth_txt_without_blank_lines_is_one_document_per_line(tmp_path):
    from dataforge.synth.sources import MAX_PASSAGE_CHARS

    lines = [f"Article {i} says that " + "the quick brown fox jumps over the lazy dog. " * 40 for i in range(200)]
    path = tmp_path / "wiki.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")  # ~360 kB, no blank line
    docs = _docs(path)
    assert len(docs) == 200
    assert [d.source for d in docs[:2]] == [f"{path}:1", f"{path}:2"]
    assert docs[0].text == lines[0].strip() and all(len(d.text) <= MAX_PASSAGE_CHARS for d in docs)


def test_synth_long_passage_is_cut_at_sentence_ends(tmp_path):
    from dataforge.synth.sources import MAX_PASSAGE_CHARS

    sentence = "Sentence number {} is here to make the article long enough. "
    article = "".join(sentence.format(i) for i in range(1000))  # one line, ~62 kB
    path = tmp_path / "one.txt"
    path.write_text(article, encoding="utf-8")
    for split in ("paragraph", "line", "file"):
        docs = _docs(path, split)
        assert len(docs) >= len(article) // MAX_PASSAGE_CHARS
        assert all(len(d.text) <= MAX_PASSAGE_CHARS and d.text.endswith("long enough.") for d in docs)
        assert " ".join(d.text for d in docs) == article.strip()  # nothing lost, nothing repeated
        assert docs[1].source.endswith("#2")


def test_synth_all_connection_failures_name_the_server(tmp_path):
    doc = tmp_path / "d.txt"
    doc.write_text("Cats sleep most of the day and hunt at night in the quiet fields. " * 5, encoding="utf-8")
    r = run_cli("synth", "qa", doc, "-o", tmp_path / "qa.jsonl", "-m", "x", "--max-retries", "0",
                "--base-url", "http://user:secretpw@127.0.0.1:9/v1", env={"OPENAI_API_KEY": "sk-test"}, timeout=60)
    assert r.code == 1, r.err
    assert r.error_line.startswith("error: cannot reach the server at http://127.0.0.1:9/v1")
    assert "--allow-empty" not in r.err and "--base-url" in r.err and "secretpw" not in r.err + r.out


# ---- format --to openai: the OpenAI check's rejects keep file, line and id ----------------------

def test_format_openai_check_rejects_keep_their_lineage(tmp_path):
    good = {"chosen": "\n\nHuman: hi\n\nAssistant: hello there", "rejected": "\n\nHuman: hi\n\nAssistant: go away"}
    # the chosen answer runs on for three turns: OpenAI's preference rows take one answer turn
    long = {"chosen": "\n\nHuman: hi\n\nAssistant: A1\n\nHuman: more\n\nAssistant: A2",
            "rejected": "\n\nHuman: hi\n\nAssistant: B1"}
    src = tmp_path / "hh.jsonl"
    rows = [long] + [good | {"chosen": good["chosen"] + "!" * i} for i in range(10)]  # OpenAI wants >= 10
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out.jsonl"
    r = run_cli("format", src, "-o", out, "--to", "openai")
    assert r.code == 0, r.err
    rejects = [json.loads(ln) for ln in (tmp_path / "out.jsonl.rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 1 and "preferred_output" in rejects[0]["reason"]
    assert (rejects[0]["file"], rejects[0]["line"]) == (str(src), 1) and rejects[0]["id"]


# ---- format --to: data only `convert` can write gets a hint that names `convert` ----------------

def test_format_to_openai_of_kto_data_points_at_convert(tmp_path):
    src = tmp_path / "kto.json"
    src.write_text(json.dumps([{"instruction": "hi", "output": "hello", "kto_tag": True},
                               {"instruction": "yo", "output": "go away", "kto_tag": False}]), encoding="utf-8")
    r = run_cli("format", src, "-o", tmp_path / "x.jsonl", "--to", "openai")
    assert r.code == 1 and "needs other data; this is unpaired preference" in r.error_line
    assert f"hint: write it with `dataforge convert {src} -o {tmp_path / 'x.jsonl'} --to trl|" in r.err
    assert not (tmp_path / "x.jsonl").exists()


def test_format_to_alpaca_of_text_data_points_at_convert(tmp_path):
    src = tmp_path / "t.jsonl"
    src.write_text('{"text": "hello world, plain text"}\n', encoding="utf-8")
    r = run_cli("format", src, "-o", tmp_path / "y.jsonl", "--to", "alpaca")
    assert r.code == 1 and "this is plain text data" in r.error_line
    hint = next(ln for ln in r.err.splitlines() if ln.startswith("hint:"))
    assert "dataforge convert" in hint and "--to trl|text|llamafactory-alpaca" in hint


# ---- run --check: values that would fail a stage later ------------------------------------------

def _recipe(tmp_path: Path, stages: str) -> Path:
    (tmp_path / "d.jsonl").write_text('{"instruction": "hi", "output": "hello"}\n', encoding="utf-8")
    path = tmp_path / "r.yaml"
    path.write_text(f"name: t\nworkdir: {tmp_path / 'work'}\nstages:\n{stages}", encoding="utf-8")
    return path


def test_run_check_refuses_a_misspelled_template(tmp_path):
    path = _recipe(tmp_path, f"  format:\n    data: {tmp_path / 'd.jsonl'}\n    template: alpacca\n")
    r = run_cli("run", "--check", path)
    assert r.code == 1 and "stages.format: unknown template 'alpacca'" in r.error_line
    assert "alpaca" in r.err and not (tmp_path / "work").exists()


def test_run_check_refuses_unknown_backends_and_missing_inputs(tmp_path):
    data = tmp_path / "d.jsonl"
    r = run_cli("run", "--check", _recipe(tmp_path, f"  translate:\n    data: {data}\n    to: de\n"
                                                     "    backend: opneai\n"))
    assert r.code == 1 and "stages.translate: backend: unknown backend 'opneai'" in r.error_line
    r = run_cli("run", "--check", _recipe(tmp_path, f"  dedup:\n    data: {tmp_path / 'missing.jsonl'}\n"))
    assert r.code == 1 and f"stages.dedup.data: {tmp_path / 'missing.jsonl'}: no such file" in r.error_line


def test_run_check_accepts_inputs_written_by_earlier_stages(tmp_path):
    data, mid = tmp_path / "d.jsonl", tmp_path / "work" / "mid.jsonl"
    r = run_cli("run", "--check", _recipe(tmp_path, f"  dedup:\n    data: {data}\n    output: {mid}\n"
                                                     f"  format:\n    data: {mid}\n    template: alpaca\n"
                                                     "  report:\n    data: ${format.output}\n"))
    assert r.code == 0 and "valid" in r.out, r.err


# ---- report: Ctrl-C while language-detection workers run ----------------------------------------

def _langpool_children(parent: int) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and b"dataforge.quality.langpool" in cmd:
            found.append(int(pid))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the worker processes in /proc")
def test_report_ctrl_c_with_workers_exits_130_without_traceback(tmp_path):
    words = "the quick brown fox jumps over a lazy dog while cats sleep all day in the warm sun".split()
    rnd = random.Random(0)
    with open(tmp_path / "data.jsonl", "w") as fh:
        for _ in range(3000):  # enough texts for the report to start worker processes
            fh.write(json.dumps({"instruction": " ".join(rnd.choices(words, k=12)),
                                 "output": " ".join(rnd.choices(words, k=30))}) + "\n")
    # its own process group, like a shell job: killpg is what the terminal's Ctrl-C does
    proc = subprocess.Popen([sys.executable, "-m", "dataforge", "report", "data.jsonl", "-o", "r.html"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 30
    while not (workers := _langpool_children(proc.pid)) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert workers, "the report started no worker process"
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    time.sleep(0.5)
    assert not any(Path(f"/proc/{w}").exists() and b"langpool" in Path(f"/proc/{w}/cmdline").read_bytes()
                   for w in workers)  # the workers went with the parent
    assert not (tmp_path / "r.html").exists()


# ---- python -m dataforge.tiny from another folder ------------------------------------------------

def test_tiny_sample_texts_found_from_another_folder(tmp_path):
    # the default TEXT_ROOT, sample_data, is the repo's, not the current folder's (which has none)
    code = "from dataforge.tiny import sample_texts; print(len(sample_texts()))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 100  # enough text for the tokenizer SentencePiece trains


# ---- report: placeholder values are not secrets ---------------------------------------------------

PLACEHOLDER_SECRETS = ["Set password: 'your_database_password' in config.yaml",
                       'api_key = "XXXXXXXXXXXXXXXXXXXXXXXX"', "secret=changeme_please_now_1234",
                       "DB_PASSWORD=dummy_value_for_the_tests", "password = example_password_123456",
                       "secret: '****************'"]
REAL_SECRETS = ["password: 'hunter2hunter2hunter2abc'", "api_key=sk-abcdefghijklmnopqrstuvwxyz123456",
                "password: your_database_password, and the key sk-abcdefghijklmnopqrstuvwxyz123456"]


def test_report_secret_signal_skips_placeholder_values():
    import polars as pl

    from dataforge.quality.signals import section

    texts = PLACEHOLDER_SECRETS + REAL_SECRETS
    frame = pl.DataFrame({"row": list(range(len(texts))), "id": [f"r{i}" for i in range(len(texts))],
                          "output": texts})
    data, flags = section(frame, ["output"], [])
    flagged = flags.filter(pl.col("secret|output"))["id"].to_list()
    assert flagged == [f"r{i}" for i in range(len(PLACEHOLDER_SECRETS), len(texts))]
    assert data["secret_kinds"] == {"openai_key": 2, "assigned_secret": 2}
