"""Rows as LLaMA-Factory reads them, and the dataset_info.json entry that tells it how.

`--to llamafactory-alpaca`: `instruction`, `input`, `output` (+ `system`,
`history` pairs); preference rows `chosen`/`rejected` (ranking); KTO rows
`output` + `kto_tag`; plain text rows `text` (pretraining).
`--to llamafactory-sharegpt`: `conversations` of system/human/gpt/
function_call/observation turns and a `tools` column; preference rows add
`chosen`/`rejected` turn objects; KTO rows `kto_tag`.

LLaMA-Factory's turns alternate user (or tool result) and assistant; a row
that does not (two assistant turns in a row, text and tool calls in one turn)
is refused with the reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dataforge.errors import InputError
from dataforge.io.chat_out import sharegpt_turns
from dataforge.io.fields import RowError
from dataforge.records import ConversationRecord, KTORecord, PreferenceRecord, TextRecord, answer_messages, prompt_text


def tools_text(tools: list) -> str:
    """LLaMA-Factory (and glaive) keep the tool list as JSON text in one column."""
    return json.dumps(tools, ensure_ascii=False)


def history_pairs(record: ConversationRecord) -> tuple[str, list, tuple[str, str]]:
    """(system, [[user, assistant], ...] before the last exchange, (last user, last answer)) of a plain chat."""
    msgs = record.messages
    system = msgs[0]["content"] if msgs[0]["role"] == "system" else ""
    body = msgs[1:] if msgs[0]["role"] == "system" else msgs
    if record.tools or any(len(m) != 2 for m in body):
        raise RowError("has tool calls or other message fields, which Alpaca rows cannot hold; use --to openai,"
                       " sharegpt or trl-chat")
    roles = [m["role"] for m in body]
    if len(body) < 2 or roles != ["user", "assistant"] * (len(body) // 2):
        raise RowError("Alpaca history needs turns that alternate user and assistant, starting with the user")
    pairs = [[body[i]["content"], body[i + 1]["content"]] for i in range(0, len(body) - 2, 2)]
    return system, pairs, (body[-2]["content"], body[-1]["content"])


def _prompt_pairs(record) -> list:
    """The history of a preference/KTO prompt as [user, assistant] pairs (Alpaca form)."""
    body = record.history
    if any(len(m) != 2 for m in body) or [m["role"] for m in body] != ["user", "assistant"] * (len(body) // 2):
        raise RowError("the prompt's earlier turns do not alternate user and assistant; use"
                       " --to llamafactory-sharegpt", "history")
    return [[body[i]["content"], body[i + 1]["content"]] for i in range(0, len(body), 2)]


def _one_answer(record: PreferenceRecord, which: str) -> dict:
    turns = sharegpt_turns(answer_messages(record, which), name=which)
    if len(turns) != 1:
        raise RowError(f"the {which} answer takes {len(turns)} turns; LLaMA-Factory takes one", which)
    return turns[0]


def row(record, target: str) -> dict:
    if target == "llamafactory-alpaca":
        return _alpaca(record)
    return _sharegpt(record)


def _alpaca(record) -> dict:
    if isinstance(record, TextRecord):
        return {"id": record.id, "text": record.text}
    if isinstance(record, ConversationRecord):
        system, history, (instruction, output) = history_pairs(record)
        out = {"id": record.id, "instruction": instruction, "input": "", "output": output}
    else:
        if getattr(record, "tools", None):
            raise RowError("has tools, which Alpaca rows cannot hold; use --to llamafactory-sharegpt")
        system, history = record.system, (_prompt_pairs(record) if isinstance(record, (PreferenceRecord, KTORecord))
                                          else [])
        out = {"id": record.id, "instruction": record.instruction, "input": record.context}
        if isinstance(record, PreferenceRecord):
            out["chosen"], out["rejected"] = (_one_answer(record, w)["value"] for w in ("chosen", "rejected"))
        elif isinstance(record, KTORecord):
            out["output"], out["kto_tag"] = record.completion, record.label
        else:
            out["output"] = record.output
    if system:
        out["system"] = system
    if history:
        out["history"] = history
    return out


def _sharegpt(record) -> dict:
    if isinstance(record, ConversationRecord):
        messages = record.messages
    elif isinstance(record, (PreferenceRecord, KTORecord)):
        system = [{"role": "system", "content": record.system}] if record.system else []
        messages = system + list(record.history) + [{"role": "user", "content": prompt_text(record)}]
        if isinstance(record, KTORecord):
            messages.append({"role": "assistant", "content": record.completion})
    else:
        system = [{"role": "system", "content": record.system}] if record.system else []
        messages = system + [{"role": "user", "content": prompt_text(record)},
                             {"role": "assistant", "content": record.output}]
    # the system prompt stays the first turn ("from": "system"), which LLaMA-Factory reads as the system prompt
    out: dict = {"id": record.id, "conversations": sharegpt_turns(messages, strict=True)}
    if isinstance(record, PreferenceRecord):
        out["chosen"], out["rejected"] = _one_answer(record, "chosen"), _one_answer(record, "rejected")
    elif isinstance(record, KTORecord):
        out["kto_tag"] = record.label
    if getattr(record, "tools", None):
        out["tools"] = tools_text(record.tools)
    return out


# ---- the dataset_info.json entry -------------------------------------------

def entry(file_name: str, target: str, kind: str, columns_seen: set[str]) -> dict:
    """The dataset_info.json entry for a file written with `target` holding `kind` data."""
    if target == "llamafactory-sharegpt":
        cols = {"messages": "conversations"}
        if kind == "preference":
            cols.update(chosen="chosen", rejected="rejected")
        if kind == "kto":
            cols["kto_tag"] = "kto_tag"
        out = {"file_name": file_name, "formatting": "sharegpt"}
    elif kind == "text":
        cols, out = {"prompt": "text"}, {"file_name": file_name}
    else:
        cols = {"prompt": "instruction", "query": "input"}
        if kind == "preference":
            cols.update(chosen="chosen", rejected="rejected")
        else:
            cols["response"] = "output"
        if kind == "kto":
            cols["kto_tag"] = "kto_tag"
        out = {"file_name": file_name}
    for name in ("system", "tools", "history"):
        if name in columns_seen:
            cols[name] = name
    if kind == "preference":
        out["ranking"] = True
    out["columns"] = cols
    return out


def dataset_name(output: Path) -> str:
    """The entry's name: the file name without its data suffixes (dpo.jsonl.gz -> dpo)."""
    name = output.name
    for suffix in (".gz", ".zst", ".jsonl", ".json", ".parquet", ".csv"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


def info_path(output: str | os.PathLike) -> Path:
    return Path(output).resolve().parent / "dataset_info.json"


_ENTRY_KEYS = ("file_name", "hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name")


def check_info(output: str | os.PathLike) -> dict:
    """The entries of the dataset_info.json beside OUT ({} when there is none), after checking that OUT's
    entry can be added: the file must be LLaMA-Factory's (name -> entry with a file_name, hf_hub_url, ...),
    and an entry of OUT's name must describe OUT itself. Called before any data is written, so a refusal
    leaves the folder as it was."""
    out = Path(output)
    name, path = dataset_name(out), info_path(out)
    if not path.exists():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot add the entry '{name}' to it ({exc})",
                         "fix or move that file, or write the output to another folder") from None
    # a `datasets` save_to_disk folder has a dataset_info.json too (citation, features, ...): not ours to edit
    if not isinstance(info, dict) or not all(isinstance(v, dict) and any(k in v for k in _ENTRY_KEYS)
                                             for v in info.values()):
        raise InputError(f"{path}: not a LLaMA-Factory dataset_info.json (a mapping of dataset names to entries"
                         " with file_name), so dataforge will not add its entry there",
                         "write the output to another folder")
    old = info.get(name)
    if old is not None and old.get("file_name") != out.name:
        raise InputError(f"{path}: its entry '{name}' describes {old.get('file_name') or 'another dataset'},"
                         f" not {out.name}", "name the output differently")
    return info


def write_entry(output: str | os.PathLike, target: str, kind: str, columns_seen: set[str]) -> tuple[Path, str]:
    """Add (or update) the entry named after OUT's file stem in dataset_info.json beside OUT.

    An existing dataset_info.json keeps every other entry; an entry of the same name is replaced only
    when it points at this same file (a rerun), never one that describes another file.
    """
    from dataforge.io.atomic import atomic_write_text

    out = Path(output)
    name = dataset_name(out)
    path = info_path(out)
    info = check_info(out)  # checked before the data was written too; this catches a change since
    info[name] = entry(out.name, target, kind, columns_seen)
    atomic_write_text(path, json.dumps(info, ensure_ascii=False, indent=2) + "\n")
    return path, name
