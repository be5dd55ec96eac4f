"""LLaMA-Factory's `dataset_info.json`: read a dataset by the format its entry declares.

    dataforge inspect --dataset-info data/dataset_info.json --dataset dpo_en_demo
    dataforge convert data/dataset_info.json#glaive_toolcall_en_demo -o chat.jsonl --to openai

An entry names a local `file_name` (a file or folder beside dataset_info.json),
its `formatting` (alpaca, sharegpt or openai), `ranking` (chosen/rejected
data), `columns` (LLaMA-Factory field -> column in the file) and, for ShareGPT,
`tags` (the keys and role names its turns use). The entry decides the shape:
ranking -> preference, a `kto_tag` column -> KTO, an Alpaca entry with only a
`prompt` column -> plain text (pretraining), otherwise instruction/chat data.
Entries that live on a hub (`hf_hub_url`, `ms_hub_url`, ...) are refused with
the name to download: dataforge reads local files.

`PATH#NAME` is how one entry travels as a data path (the CLI options
`--dataset-info`/`--dataset` become it); a path that exists as it is stays a path.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.errors import InputError

_REMOTE = ("hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name")
_COLUMNS = ("prompt", "query", "response", "history", "messages", "system", "tools", "images", "videos", "audios",
            "chosen", "rejected", "kto_tag")
_DEFAULTS = {"prompt": "instruction", "query": "input", "response": "output", "messages": "conversations"}
_TAG_DEFAULTS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}
_STANDARD = {"user_tag": "human", "assistant_tag": "gpt", "observation_tag": "observation",
             "function_tag": "function_call", "system_tag": "system"}


@dataclass
class Entry:
    name: str
    paths: list[str]
    shape: str
    mapping: dict[str, str] = field(default_factory=dict)  # dataforge field -> column, as --map takes it
    tags: dict[str, str] | None = None  # non-default ShareGPT tags: turns are rewritten to from/value

    def transform(self, row: dict) -> dict:
        """Rewrite turns that use other tag names into ShareGPT's from/value (no-op without tags)."""
        if not self.tags:
            return row
        for name in ("conversations", "chosen", "rejected"):
            value = row.get(name)
            if isinstance(value, list):
                row[name] = [self._turn(t) for t in value]
            elif isinstance(value, dict):
                row[name] = self._turn(value)
        return row

    def _turn(self, turn):
        if not isinstance(turn, dict):
            return turn
        tags = self.tags
        role = turn.get(tags["role_tag"])
        names = {tags[k]: std for k, std in _STANDARD.items()}
        return {"from": names.get(role, role), "value": turn.get(tags["content_tag"])}


def split_ref(item) -> tuple[Path, str] | None:
    """`PATH#NAME` -> (PATH, NAME) when PATH is a JSON file and the whole string is not a path itself."""
    if not isinstance(item, (str, os.PathLike)):
        return None
    text = str(item)
    if "#" not in text or os.path.exists(text):
        return None
    path, _, name = text.rpartition("#")
    if not name or not path.lower().endswith(".json") or not os.path.isfile(path):
        return None
    return Path(path), name


def ref(info: str | os.PathLike, name: str) -> str:
    return f"{info}#{name}"


def entry_paths(item) -> list[str] | None:
    """The files a `PATH#NAME` reads (the info file and the entry's file_name), for the output checks;
    None when `item` is not such a reference."""
    found = split_ref(item)
    if found is None:
        return None
    path, name = found
    try:
        file_name = load_info(path).get(name, {}).get("file_name")
    except InputError:
        file_name = None
    return [str(path)] + ([str(path.parent / str(file_name))] if file_name else [])


def is_llamafactory_info(path: Path) -> bool:
    """A dataset_info.json of LLaMA-Factory (name -> entry), not a `datasets` folder's metadata."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(data, dict) and bool(data) and "features" not in data
            and all(isinstance(v, dict) for v in data.values())
            and any("file_name" in v or any(k in v for k in _REMOTE) for v in data.values()))


def load_info(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})", "check the --dataset-info path") from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})", "pass LLaMA-Factory's dataset_info.json") from None
    if not isinstance(data, dict) or any(not isinstance(v, dict) for v in data.values()):
        raise InputError(f"{path}: not a LLaMA-Factory dataset_info.json (a mapping of dataset names to entries)",
                         "pass LLaMA-Factory's data/dataset_info.json")
    return data


def load_entry(path: Path, name: str) -> Entry:
    info = load_info(path)
    if name not in info:
        local = [n for n, e in info.items() if "file_name" in e]
        shown = ", ".join(local[:12]) + (", ..." if len(local) > 12 else "")
        raise InputError(f"{path}: no dataset named '{name}'", f"local datasets in it: {shown or '(none)'}")
    entry = info[name]
    if "file_name" not in entry:
        where = next((f"{k} {entry[k]}" for k in _REMOTE if k in entry), "no file_name")
        raise InputError(f"{path}: dataset '{name}' is not a local file ({where})",
                         "download it and pass the files (dataforge reads local data only)")
    shape, mapping = _shape(entry, name, path)
    file = (Path(path).parent / str(entry["file_name"]))
    if not file.exists():
        raise InputError(f"{path}: dataset '{name}' names {entry['file_name']}, which is not in {file.parent}",
                         "put the file beside dataset_info.json (its file_name is relative to it)")
    tags = {**_TAG_DEFAULTS, **(entry.get("tags") or {})}
    custom = tags != _TAG_DEFAULTS and (tags["role_tag"], tags["content_tag"]) not in (("from", "value"),
                                                                                        ("role", "content"))
    return Entry(name=name, paths=[str(file)], shape=shape, mapping=mapping, tags=tags if custom else None)


def _shape(entry: dict, name: str, path: Path) -> tuple[str, dict[str, str]]:
    formatting = entry.get("formatting", "alpaca")
    if formatting not in ("alpaca", "sharegpt", "openai"):
        raise InputError(f"{path}: dataset '{name}' has formatting '{formatting}'",
                         "dataforge reads LLaMA-Factory's alpaca, sharegpt and openai formattings")
    cols = {c: entry["columns"].get(c) for c in _COLUMNS} if "columns" in entry else dict(_DEFAULTS)
    ranking, kto = bool(entry.get("ranking")), cols.get("kto_tag")
    media = [c for c in ("images", "videos", "audios") if cols.get(c)]
    if media:
        raise InputError(f"{path}: dataset '{name}' has {', '.join(media)}",
                         "dataforge holds text only; multimodal datasets cannot be read")

    def pick(pairs: dict[str, str | None]) -> dict[str, str]:
        return {f: c for f, c in pairs.items() if c and c != f}

    if formatting in ("sharegpt", "openai"):
        base = {"conversations": cols.get("messages") or "conversations", "system": cols.get("system"),
                "tools": cols.get("tools")}
        if ranking:
            return "sharegpt-preference", pick({**base, "chosen": cols.get("chosen"), "rejected": cols.get("rejected")})
        if kto:
            return "sharegpt-kto", pick({**base, "label": kto})
        return "sharegpt", pick(base)
    base = {"instruction": cols.get("prompt"), "input": cols.get("query"), "system": cols.get("system"),
            "history": cols.get("history")}
    if ranking:
        return "preference", pick({**base, "chosen": cols.get("chosen"), "rejected": cols.get("rejected")})
    if kto:
        return "kto", pick({**base, "completion": cols.get("response"), "label": kto})
    if cols.get("prompt") and not cols.get("response"):
        return "text", pick({"text": cols.get("prompt")})
    return "alpaca", pick({**base, "output": cols.get("response")})
