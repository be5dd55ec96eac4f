"""Which files a path means, and what type each one is.

A path may be a file (`.jsonl`, `.json`, `.jsonl.gz`, `.jsonl.zst`,
`.parquet`, `.csv`), a folder written by `datasets.save_to_disk`, a folder of
shards, or a glob. The type comes from the name unless `fmt` forces one.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from dataforge.errors import InputError

FILE_TYPES = ("jsonl", "json", "parquet", "csv", "hf", "txt")
_SUFFIXES = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
    ".jsonl.gz": "jsonl", ".json.gz": "jsonl", ".jsonl.zst": "jsonl", ".json.zst": "jsonl",
    ".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".txt": "txt", ".txt.gz": "txt", ".txt.zst": "txt",
}
SUPPORTED = ".jsonl, .json, .jsonl.gz, .jsonl.zst, .parquet, .csv, .txt (a document per line), or a datasets folder"


@dataclass(frozen=True, slots=True)
class DataFile:
    path: Path
    type: str  # one of FILE_TYPES

    @property
    def compression(self) -> str | None:
        name = self.path.name.lower()
        if name.endswith(".gz"):
            return "gzip"
        if name.endswith(".zst"):
            return "zstd"
        return None


def type_from_name(path: str | os.PathLike) -> str | None:
    name = Path(path).name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    return None


def is_hf_folder(path: Path) -> bool:
    if not path.is_dir():
        return False
    if (path / "state.json").exists() or (path / "dataset_dict.json").exists():
        return True
    info = path / "dataset_info.json"
    if not info.exists():
        return False
    from dataforge.io.dataset_info import is_llamafactory_info

    return not is_llamafactory_info(info)  # LLaMA-Factory's data folder has one too


def resolve(paths: str | os.PathLike | list, fmt: str | None = None) -> list[DataFile]:
    """Expand paths, folders and globs into typed data files, in a stable order."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if fmt is not None and fmt not in FILE_TYPES:
        raise InputError(f"unknown --format '{fmt}'", f"use one of: {', '.join(FILE_TYPES)}")
    files: list[DataFile] = []
    for raw in paths:
        files.extend(_resolve_one(str(raw), fmt))
    return files


def _resolve_one(raw: str, fmt: str | None) -> list[DataFile]:
    from dataforge.io.dataset_info import load_entry, split_ref

    ref = split_ref(raw)
    if ref is not None:  # a LLaMA-Factory dataset, dataset_info.json#NAME: its files
        return [f for p in load_entry(*ref).paths for f in _resolve_one(p, fmt)]
    path = Path(raw)
    if any(ch in raw for ch in "*?[") and not path.exists():
        matches = sorted(glob.glob(raw, recursive=True))
        if not matches:
            raise InputError(f"{raw}: no files match this pattern", "check the glob and quote it in the shell")
        out = []
        for m in matches:
            out.extend(_resolve_one(m, fmt))
        return out
    if not path.exists():
        raise InputError(f"{raw}: no such file or folder", "check the path (relative paths start from the current folder)")
    if path.is_dir():
        if is_hf_folder(path):
            return [DataFile(path, "hf")]
        if (path / "dataset_info.json").exists():
            raise InputError(f"{raw}: a LLaMA-Factory data folder holds many datasets",
                             f"pick one: --dataset-info {path / 'dataset_info.json'} --dataset NAME")
        shards = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                        and (fmt or type_from_name(p)) and ".rejects." not in p.name)
        if not fmt and any(type_from_name(p) != "txt" for p in shards):
            shards = [p for p in shards if type_from_name(p) != "txt"]  # README.txt beside the shards is not data
        if not shards:
            raise InputError(f"{raw}: the folder holds no data files", f"expected {SUPPORTED}")
        return [DataFile(p, fmt or type_from_name(p)) for p in shards]
    kind = fmt or type_from_name(path)
    if path.name == "dataset_info.json" and kind == "json":
        from dataforge.io.dataset_info import is_llamafactory_info

        if is_llamafactory_info(path):
            raise InputError(f"{raw}: this is LLaMA-Factory's list of datasets, not a dataset",
                             f"pick one: --dataset-info {raw} --dataset NAME")
    if kind is None:
        raise InputError(
            f"{raw}: unsupported file type '{path.suffix or path.name}'",
            f"use {SUPPORTED}, or pass --format jsonl|json|parquet|csv|txt if the content is one of those",
        )
    return [DataFile(path, kind)]


def output_type(path: str | os.PathLike) -> str:
    """The writer for an output path: by suffix; no suffix (or a trailing /) means a datasets folder."""
    text = str(path)
    kind = type_from_name(text)
    if kind == "txt":
        raise InputError(f"{text}: dataforge reads .txt but does not write it",
                         "write .jsonl (a `text` column): one document per line cannot keep texts with line ends")
    if kind is not None:
        return kind
    if text.endswith(("/", os.sep)) or not Path(text).suffix or Path(text).is_dir():
        return "hf"
    raise InputError(f"{text}: cannot tell the output format from the name",
                     f"end it in {SUPPORTED.replace('or a datasets folder', 'or give a folder name')}")
