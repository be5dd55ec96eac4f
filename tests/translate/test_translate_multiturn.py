"""A multi-turn preference prompt (HH-RLHF) is translated whole: earlier turns as well as the last one."""

from __future__ import annotations

import json
from pathlib import Path

from translate_helpers import read_jsonl
from translate_scripted import Translator

from dataforge.llm import RunPolicy
from dataforge.translate import translate

HH = Path(__file__).parents[1] / "realdata" / "formats" / "hh-rlhf" / "harmless-base-test.jsonl"


def test_every_turn_of_a_real_hh_rlhf_prompt_is_translated(tmp_path, serve):
    lines = HH.read_text(encoding="utf-8").splitlines()
    # the first rows with two or more human turns (rows of Anthropic's hh-rlhf, MIT licence)
    rows = [line for line in lines if json.loads(line)["chosen"].count("\n\nHuman:") >= 2][:3]
    assert len(rows) == 3
    data = tmp_path / "hh.jsonl"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    translator = Translator()
    srv = serve(translator)

    summary = translate(data, tmp_path / "out.jsonl", to="es", model="scripted", base_url=srv.url, progress=False,
                        policy=RunPolicy(concurrency=2, backoff=0.01, handle_sigint=False))

    out = read_jsonl(tmp_path / "out.jsonl")
    assert summary.rejected == 0 and len(out) == 3
    sent = [value for request in translator.seen for item in json.loads(request["messages"][-1]["content"])
            for key, value in item.items() if key.startswith("history.")]
    for row in out:
        assert row["lang"] == "es"
        turns = row["history"]
        assert len(turns) >= 2 and [t["role"] for t in turns[:2]] == ["user", "assistant"]
        for turn in turns:  # every earlier turn came back in Spanish (the scripted translator's filler)
            assert turn["content"].startswith("El texto traducido"), turn
        assert row["instruction"].startswith("El texto traducido")
    assert len(sent) == sum(len(r["history"]) for r in out)
