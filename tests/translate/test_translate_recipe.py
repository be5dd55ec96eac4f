"""A recipe's translate stage takes the request options synth stages have (concurrency, rpm, timeout ...)."""

from __future__ import annotations

import pytest
from translate_helpers import dolly_rows, read_jsonl, write_jsonl
from translate_scripted import Translator

from dataforge.errors import ConfigError
from dataforge.recipes import load_recipe, run_recipe


def _recipe(tmp_path, url, extra: str):
    data = write_jsonl(tmp_path / "in.jsonl", dolly_rows())
    path = tmp_path / "tr.yaml"
    path.write_text(f"""name: tr
workdir: {tmp_path / 'work'}
stages:
  translate:
    data: {data}
    to: es
    model: scripted
    base_url: {url}
    batch_size: 1
{extra}""", encoding="utf-8")
    return load_recipe(path)


@pytest.mark.parametrize("concurrency,most", [("2", 2), ("auto", None)])
def test_a_translate_stage_sets_the_request_policy(tmp_path, serve, concurrency, most):
    srv = serve(Translator(), latency=0.05)
    run_recipe(_recipe(tmp_path, srv.url, f"    concurrency: {concurrency}\n    max_retries: 2\n"),
               echo=lambda _line: None)
    assert len(read_jsonl(tmp_path / "work" / "translate.jsonl")) == len(dolly_rows())
    if most is not None:
        assert srv.log.max_in_flight == most  # a fixed window: exactly as many in flight, never more
    else:
        assert 1 <= srv.log.max_in_flight <= 8  # auto starts at 4 and has not had time to grow far


def test_a_bad_policy_option_names_the_stage_and_field(tmp_path, serve):
    srv = serve(Translator())
    with pytest.raises(ConfigError, match="rpm"):
        run_recipe(_recipe(tmp_path, srv.url, "    rpm: lots\n"), echo=lambda _line: None)
    assert srv.log.total == 0
