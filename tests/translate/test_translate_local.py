"""--backend transformers: the plumbing of a local seq2seq model (tiny, random weights, built here)."""

from __future__ import annotations

import pytest
from translate_helpers import read_jsonl, write_jsonl
from translate_tinymt import build_tiny_m2m100, build_tiny_nllb

from dataforge.errors import ConfigError
from dataforge.llm import RunPolicy
from dataforge.translate import translate


def _encoder_inputs(backend):
    seen = []
    backend._model.get_encoder().register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs.get("input_ids", args[0] if args else None)),
        with_kwargs=True)
    return seen


def test_marian_gets_the_target_token_of_a_multi_target_model(tiny_marian):
    from dataforge.translate.local import Seq2SeqBackend

    backend = Seq2SeqBackend(str(tiny_marian), batch_size=4)
    assert backend.family == "marian" and not backend.tokens_ok  # ⟦n⟧ is not in its vocabulary
    vocab = backend.tokenizer.get_vocab()
    seen = _encoder_inputs(backend)
    for lang in ("es", "fr"):
        out, usage = backend.translate_texts(["Write a short poem about the sea.", "Hi"], "en", lang)
        assert len(out) == 2 and usage.prompt_tokens > 0
        assert {int(row[0]) for row in seen[-1]} == {vocab[f">>{lang}<<"]}
    with pytest.raises(ConfigError) as err:
        backend.check_target("de")
    assert "no target token for 'de'" in err.value.message and ">>es<<" in err.value.hint


@pytest.mark.parametrize("build,src_token,tgt_token", [
    (build_tiny_m2m100, "__en__", "__fr__"), (build_tiny_nllb, "eng_Latn", "fra_Latn")])
def test_m2m100_and_nllb_get_source_and_forced_target_codes(tmp_path, build, src_token, tgt_token):
    from dataforge.translate.local import Seq2SeqBackend

    backend = Seq2SeqBackend(str(build(tmp_path / "m")), batch_size=2, max_new_tokens=4)
    assert backend.family == ("nllb" if "Latn" in src_token else "m2m100")
    tok = backend.tokenizer
    seen = _encoder_inputs(backend)
    generated = []
    real = backend._model.generate
    backend._model.generate = lambda **kw: generated.append(real(**kw)) or generated[-1]
    backend.translate_texts(["Write a short poem about the sea."], "en", "fr")
    assert tok.convert_tokens_to_ids(src_token) in seen[-1][0].tolist()   # the source language is marked
    assert int(generated[-1][0, 1]) == tok.convert_tokens_to_ids(tgt_token)  # the target is forced first
    with pytest.raises(ConfigError):
        backend.translate_texts(["x"], "", "fr")  # these families need the source language


def test_translate_end_to_end_with_a_local_model_and_its_journal(tmp_path, tiny_marian):
    rows = [{"id": "a", "instruction": "Say hi to {name}.", "context": "", "response": "Hello `x`!"},
            {"id": "b", "instruction": "Thanks, see https://a.io", "context": "", "response": "Bye {who}."},
            {"id": "c", "instruction": "Write a long and friendly letter to a friend about the summer by the sea.",
             "context": "", "response": "Dear friend, the summer by the sea was wonderful and calm this year."}]
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    kw = dict(to="es", backend="transformers", model=str(tiny_marian), progress=False,
              policy=RunPolicy(concurrency=2, handle_sigint=False))
    first = translate(data, tmp_path / "out.jsonl", **kw)
    out = read_jsonl(tmp_path / "out.jsonl")
    rejects = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert first.translated + first.rejected == 3 == len(out) + len(rejects)
    # short rows: the protected spans came back (the model only saw the prose between them)
    by_id = {r["meta"]["translation"]["source_id"]: r for r in out}
    assert {"a", "b"} <= set(by_id)
    assert "{name}" in by_id["a"]["instruction"] and "`x`" in by_id["a"]["output"]
    assert "https://a.io" in by_id["b"]["instruction"] and "{who}" in by_id["b"]["output"]
    assert by_id["a"]["lang"] == "es" and by_id["a"]["meta"]["translation"]["backend"] == "transformers"
    assert by_id["a"]["meta"]["translation"]["model"].startswith(tiny_marian.name + "@")
    # the long row: random weights write no Spanish, and the checks say so
    assert [r["id"] for r in rejects] == ["c"]
    assert "wrong language" in rejects[0]["reason"] or "implausible length" in rejects[0]["reason"]
    # rerun: everything comes from the journal, the model is not asked again
    second = translate(data, tmp_path / "out.jsonl", **kw)
    assert second.http_attempts == 0 and second.from_journal == second.requests == first.requests
    assert read_jsonl(tmp_path / "out.jsonl") == out
