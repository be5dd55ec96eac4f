"""`make demo`'s toy task and recipe: held-out cases never overlap training, and training shows on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataforge.tiny import TOY_INSTRUCTION, TOY_TASK_DIR, reverse_words_task

ROOT = Path(__file__).resolve().parent.parent
TASK = ROOT / "sample_data" / TOY_TASK_DIR


def _words(row: dict) -> list[str]:
    assert row["instruction"].startswith(TOY_INSTRUCTION + " ")
    return row["instruction"][len(TOY_INSTRUCTION):].split()


def test_toy_task_held_out_word_sets_never_occur_in_training():
    train, heldout = reverse_words_task(3000, 200, seed=0)
    sets_train = [frozenset(_words(r)) for r in train]
    sets_held = [frozenset(_words(r)) for r in heldout]
    assert len(train) == 3000 and len(heldout) == 200
    assert not set(sets_train) & set(sets_held)  # not even the same words in another order
    assert len(set(sets_train)) == 3000 and len(set(sets_held)) == 200  # no case repeated either
    for row in train + heldout:
        words = _words(row)
        assert len(set(words)) == 3 and row["response"].split() == words[::-1]
    assert len({r["id"] for r in train + heldout}) == 3200
    assert reverse_words_task(3000, 200, seed=0) == (train, heldout)  # reproducible
    assert reverse_words_task(3000, 200, seed=1)[1] != heldout


def test_shipped_toy_files_are_exactly_the_generator_output():
    train, heldout = reverse_words_task(3000, 200, seed=0)
    for name, rows in (("train.jsonl", train), ("heldout.jsonl", heldout)):
        shipped = [json.loads(line) for line in (TASK / name).read_text(encoding="utf-8").splitlines()]
        assert shipped == rows, f"sample_data/{TOY_TASK_DIR}/{name} differs: python -m dataforge.tiny --task"


def test_toy_folder_is_not_tokenizer_text_for_the_tests():
    from dataforge.tiny import sample_texts

    texts = sample_texts(ROOT / "sample_data")
    assert texts and not any(t.startswith(TOY_INSTRUCTION) for t in texts)


@pytest.fixture
def one_thread():
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)  # as `make demo` runs it (OMP_NUM_THREADS=1)
    yield
    torch.set_num_threads(old)


@pytest.mark.slow
def test_cut_down_quickstart_runs_end_to_end_and_beats_the_untrained_model(tmp_path, one_thread):
    """The shipped recipe, relocated to tmp_path, with 300 instead of 500 steps and 100 held-out cases."""
    from dataforge.progress import set_quiet
    from dataforge.recipes import load_recipe, run_recipe
    from dataforge.tiny import build_demo_model, demo_summary

    text = (ROOT / "recipes" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("demo_out/", f"{tmp_path}/").replace("sample_data/", f"{ROOT}/sample_data/")
    recipe = tmp_path / "quickstart.yaml"
    recipe.write_text(text, encoding="utf-8")
    build_demo_model(tmp_path / "tiny-model", ROOT / "sample_data")
    set_quiet(True)
    try:
        results = run_recipe(load_recipe(recipe, ["train.options.max_steps=300", "eval.limit=100"]),
                             echo=lambda _: None)
    finally:
        set_quiet(False)
    assert [r.status for r in results] == ["ran"] * 5
    ev = json.loads((tmp_path / "quickstart" / "eval" / "eval.json").read_text())
    scores = {v["name"]: v["scores"] for v in ev["variants"]}
    assert ev["rows"]["scored"] == 100
    assert scores["base"]["exact_match"] == 0.0
    assert scores["trained"]["exact_match"] > scores["base"]["exact_match"]
    assert scores["trained"]["loss"] < scores["base"]["loss"]
    summary = "\n".join(demo_summary(tmp_path / "quickstart"))
    assert "0 of them share their set of words" in summary and "after 300 steps" in summary
