"""translate's progress line shows the -c auto window, as synth's does."""

from __future__ import annotations

import contextlib
import re

from translate_helpers import dolly_rows, write_jsonl
from translate_scripted import Translator

import dataforge.translate.run as translate_run
from dataforge.llm import RunPolicy
from dataforge.translate import translate


def test_the_progress_line_names_the_current_window(tmp_path, serve, monkeypatch):
    seen: list[str] = []

    class Bar:
        def advance(self, n):
            pass

        def update(self, description):
            seen.append(description)

    @contextlib.contextmanager
    def fake_bar(*_args, **_kwargs):
        yield Bar()

    monkeypatch.setattr(translate_run, "progress_bar", fake_bar)
    srv = serve(Translator())
    data = write_jsonl(tmp_path / "in.jsonl", dolly_rows())
    translate(data, tmp_path / "out.jsonl", to="es", model="scripted", base_url=srv.url, progress=True,
              policy=RunPolicy(concurrency="auto", backoff=0.01, handle_sigint=False))
    assert seen and all(re.search(r" · c=\d+$", line) for line in seen), seen
    # the last line shows the final counts, not those of the last refresh a quarter second before
    assert seen[-1].startswith(f"translate · {len(dolly_rows())} ok · 0 rejected"), seen[-1]
