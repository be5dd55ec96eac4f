"""The real-data conformance files (tests/realdata/README.md) and what dataforge must make of each.

`Case` pins, per file: the detected shape and kind, rows read / kept /
rejected with the reasons (0 rejected unless the row is genuinely broken),
the targets a round trip goes through, the training export TRL's data
utilities must accept, the OpenAI export `openai_check` must accept, and what
dedup with default settings (and report) find.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.records import (
    ConversationRecord,
    KTORecord,
    PreferenceRecord,
    TextRecord,
    answer_messages,
    prompt_messages,
    prompt_text,
)

ROOT = Path(__file__).resolve().parents[1] / "realdata"
FORMATS = ROOT / "formats"
LF = FORMATS / "llamafactory"
INFO = LF / "dataset_info.json"


@dataclass(frozen=True)
class Case:
    path: Path
    shape: str
    kind: str
    read: int
    rejected: dict = field(default_factory=dict)  # reason -> rows (each genuinely broken, see README)
    mapping: tuple = ()
    trips: tuple = ()  # targets of a round trip that keeps every text
    export_rejects: dict = field(default_factory=dict)  # target -> {reason start: rows} the target cannot hold
    trl: str | None = "trl-chat"  # the TRL training export
    openai: bool = True  # `format --to openai` passes dataforge.formatting.openai_check
    dedup: tuple | None = None  # (exact, near, same prompt) with default settings


THREE_WAYS = ("trl-chat", "openai-preference", "llamafactory-sharegpt")
CASES = {
    "hh-rlhf": Case(FORMATS / "hh-rlhf/harmless-base-test.jsonl", "hh-rlhf", "preference", 200,
                    {"chosen: field is empty": 1}, trips=(*THREE_WAYS, "preference"), dedup=(0, 0, 0)),
    "dpo_en": Case(LF / "dpo_en_demo.json", "sharegpt-preference", "preference", 62,
                   trips=(*THREE_WAYS, "llamafactory-alpaca"), dedup=(0, 0, 0),
                   export_rejects={"trl": {"has a system prompt": 21, "has several turns or tools": 19}}),
    "dpo_zh": Case(LF / "dpo_zh_demo.json", "sharegpt-preference", "preference", 101, trips=THREE_WAYS,
                   dedup=(1, 0, 0)),
    "glaive_en": Case(LF / "glaive_toolcall_en_demo.json", "sharegpt", "instruction", 115,
                      trips=("openai", "trl-chat", "llamafactory-sharegpt", "sharegpt"), dedup=(8, 1, 5)),
    "glaive_zh": Case(LF / "glaive_toolcall_zh_demo.json", "sharegpt", "instruction", 135,
                      trips=("openai", "trl-chat", "llamafactory-sharegpt"), dedup=(5, 0, 8)),  # near 1 -> 0: a Chinese and an English prompt are two questions
    "drone": Case(FORMATS / "openai-cookbook/drone_training.jsonl", "openai", "instruction", 6,
                  trips=("openai", "trl-chat", "llamafactory-sharegpt"), dedup=(0, 0, 0)),
    "reason_tool_use": Case(LF / "reason_tool_use_demo_50.jsonl", "llamafactory-v1", "instruction", 50,
                            trips=("trl-chat",), openai=False, dedup=(0, 0, 3),
                            export_rejects={"openai": {"message 2 has reasoning": 50}}),
    "toy_chat": Case(FORMATS / "openai-cookbook/toy_chat_fine_tuning.jsonl", "openai", "instruction", 5,
                     trips=("openai", "sharegpt", "trl-chat", "llamafactory-sharegpt"), dedup=(0, 0, 0),
                     export_rejects={"trl-chat": {"the answer follows no user turn": 1},
                                     "llamafactory-sharegpt": {"LLaMA-Factory needs turns that alternate": 1}}),
    "kto": Case(LF / "kto_en_demo.json", "openai-kto", "kto", 90, openai=False, dedup=(0, 0, 0),
                trips=("trl-chat", "llamafactory-sharegpt", "llamafactory-alpaca", "kto", "trl"),
                export_rejects={"trl": {"has several turns or tools": 21}}),
    "c4": Case(LF / "c4_demo.jsonl", "text", "text", 117, trips=("trl", "llamafactory-alpaca", "text"), trl="trl",
               openai=False),
    "wiki_txt": Case(LF / "wiki_demo.txt", "text", "text", 6, trips=("trl", "text"), trl="trl", openai=False),
    "v1_sft": Case(LF / "v1_sft_demo.jsonl", "llamafactory-v1", "instruction", 200,
                   trips=("openai", "trl-chat", "alpaca"), dedup=(0, 1, 2)),
    "v1_dpo": Case(LF / "v1_dpo_demo.jsonl", "llamafactory-v1-preference", "preference", 10, trips=THREE_WAYS,
                   dedup=(0, 0, 0)),
    "identity": Case(LF / "identity.json", "alpaca", "instruction", 91, trips=("llamafactory-alpaca", "openai"),
                     dedup=(0, 1, 3)),
    "self_instruct_seed": Case(FORMATS / "self-instruct/seed_tasks.jsonl", "instruction", "instruction", 175,
                               mapping=("context=instances.0.input", "output=instances.0.output"),
                               trips=("alpaca", "openai", "llamafactory-alpaca"), dedup=(0, 0, 0)),
    "self_instruct_user": Case(FORMATS / "self-instruct/user_oriented_instructions.jsonl", "instruction",
                               "instruction", 200,
                               mapping=("context=instances[0].input", "output=instances[0].output"),
                               trips=("dolly", "openai"), dedup=(0, 0, 0)),
    "t0_ag_news": Case(FORMATS / "self-instruct/t0_ag_news_classify.jsonl", "trl-completion", "instruction", 200,
                       trips=("trl", "openai"), dedup=(0, 0, 0)),
    "t0_adversarial_qa": Case(FORMATS / "self-instruct/t0_adversarial_qa_dbidaf_answer_the_following_q.jsonl",
                              "trl-completion", "instruction", 200, trips=("trl", "openai"),
                              dedup=(0, 3, 0)),  # near 11 -> 3: 8 other questions about the same passage kept
    "fastchat": Case(ROOT / "dedup/fastchat_dummy_conversation_300.json", "sharegpt", "instruction", 300,
                     trips=("openai", "trl-chat", "llamafactory-sharegpt"), dedup=(0, 32, 174)),  # "Tell me about yourself" / "Can you introduce yourself?": kept
}


# ---- what a round trip must keep ----------------------------------------------------------------

def _value(text):
    """Tool-call arguments compare by what they say, not by their spacing."""
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def _message(m: dict) -> tuple:
    calls = tuple((c["function"]["name"], json.dumps(_value(c["function"]["arguments"]), sort_keys=True))
                  for c in m.get("tool_calls", ()))
    return m["role"], m["content"], calls, m.get("reasoning_content", ""), m.get("weight")


def _tools(tools) -> list:
    return [t["function"] if t.get("type") == "function" and isinstance(t.get("function"), dict) else t
            for t in tools or ()]


def content(record) -> tuple:
    """Everything a record says: every text, every turn, tool calls and tools, labels, the id."""
    if isinstance(record, ConversationRecord):
        return "chat", record.id, [_message(m) for m in record.messages], _tools(record.tools)
    if isinstance(record, PreferenceRecord):
        return ("preference", record.id, [_message(m) for m in prompt_messages(record)],
                [_message(m) for m in answer_messages(record, "chosen")],
                [_message(m) for m in answer_messages(record, "rejected")], _tools(record.tools))
    if isinstance(record, KTORecord):
        return ("kto", record.id, [_message(m) for m in prompt_messages(record)], record.completion, record.label,
                _tools(record.tools))
    if isinstance(record, TextRecord):
        return "text", record.id, record.text
    return "instruction", record.id, prompt_text(record), record.output, record.system
