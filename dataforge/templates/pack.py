"""Template packs: one folder per template, one YAML file per language.

A pack folder holds `template.yaml` (what the template is and its Jinja
sources) and `<lang>.yaml` files with the wrapper texts (section headers,
the "please answer" line, the default system prompt) in that language:

    packs/alpaca/template.yaml      type, strings, prompt, completion
    packs/alpaca/en.yaml            intro: "Below is an instruction ..."
    packs/alpaca/fr.yaml            intro: "Voici une instruction ..."

Two types:
- `prompt`: `prompt` and `completion` Jinja sources over the record fields
  (instruction, context, output, system, ...) plus the wrapper strings.
- `chat`: a `chat` source over `messages` (like a Hugging Face chat template)
  and a `user` source that turns instruction + context into the user turn.

Loading never renders; it parses and compiles (see `render.py`) and remembers
on which line of which file each Jinja source starts, so errors point there.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dataforge.errors import ConfigError
from dataforge.yamlfile import YAMLShapeError, compose, construct

BUILTIN_DIR = Path(__file__).resolve().parent / "packs"
TYPES = ("prompt", "chat")
SOURCES = {"prompt": ("prompt", "completion"), "chat": ("chat", "user")}
OPTIONAL_SOURCES = {"prompt": (), "chat": ("user",)}
META_KEYS = {"description", "type", "strings", "strings_from", "default_system", "special_tokens",
             "end_of_turn", "eos_token", "example"}
# Names the renderer provides; a wrapper string may not shadow them.
RECORD_VARS = ("instruction", "context", "output", "system", "id", "lang", "category")
CHAT_VARS = ("messages", "add_generation_prompt", "bos_token", "eos_token", "raise_exception")
DEFAULT_EOS = "</s>"


class PackError(ConfigError):
    """A pack file is wrong; `where` is `file:line` when known."""

    def __init__(self, message: str, hint: str | None = None, where: str = ""):
        super().__init__(f"{where}: {message}" if where else message, hint)
        self.where = where
        self.detail = message


@dataclass
class Source:
    """One Jinja source and where it came from (for error messages)."""

    name: str          # "prompt", "completion", "chat", "user"
    text: str
    file: str
    line: int          # 1-based file line of the source's first line

    def where(self, template_line: int = 1) -> str:
        return f"{self.file}:{self.line + max(template_line, 1) - 1}"


@dataclass
class Pack:
    name: str
    path: Path
    type: str
    description: str = ""
    strings: tuple[str, ...] = ()
    sources: dict[str, Source] = field(default_factory=dict)
    languages: dict[str, dict[str, str]] = field(default_factory=dict)  # lang -> strings
    language_files: dict[str, str] = field(default_factory=dict)
    default_system: bool = False
    special_tokens: tuple[str, ...] = ()
    end_of_turn: str = ""
    eos_token: str = DEFAULT_EOS
    builtin: bool = False
    compiled: object = field(default=None, repr=False, compare=False)

    @property
    def multilingual(self) -> bool:
        return bool(self.strings)

    def strings_for(self, lang: str) -> dict[str, str] | None:
        """The wrapper strings in `lang`, or None when the pack lacks that language."""
        if not self.strings:
            return {}
        return self.languages.get(lang)


def _yaml_file(path: Path) -> tuple[dict, yaml.MappingNode | None]:
    """Parse a YAML mapping, keeping the node tree for line numbers."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PackError(f"not UTF-8 text ({exc.reason})", "save the file as UTF-8", where=f"{path}:1") from exc
    try:
        node = compose(text)  # alias bombs and recursive anchors refused before anything is built
        data = construct(node)
    except YAMLShapeError as exc:
        raise PackError(exc.message, exc.hint, where=f"{path}:{exc.line or 1}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise PackError(f"invalid YAML: {exc.problem or exc.context}", "fix the YAML syntax",
                        where=f"{path}:{line}") from exc
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        raise PackError("must be a YAML mapping of keys to values", where=f"{path}:1")
    return data, node


def _value_line(node: yaml.MappingNode | None, key: str) -> int:
    """1-based line where the value of `key` starts (block scalars start on the next line)."""
    if node is None:
        return 1
    for k, v in node.value:
        if k.value == key:
            line = v.start_mark.line + 1
            return line + 1 if getattr(v, "style", None) in ("|", ">") else line
    return 1


def _key_line(node: yaml.MappingNode | None, key: str) -> int:
    if node is None:
        return 1
    for k, _v in node.value:
        if k.value == key:
            return k.start_mark.line + 1
    return 1


def load_pack(path: str | os.PathLike, *, builtin: bool = False, _seen: tuple = ()) -> Pack:
    """Read one pack folder (no rendering); raises PackError naming file and line."""
    path = Path(path)
    meta_file = path / "template.yaml"
    if not meta_file.is_file():
        raise PackError(f"{path} has no template.yaml", "a pack is a folder with template.yaml and <lang>.yaml files",
                        where=str(path))
    meta, node = _yaml_file(meta_file)
    where = functools.partial(lambda k: f"{meta_file}:{_key_line(node, k)}")
    unknown = sorted(set(meta) - META_KEYS - {s for srcs in SOURCES.values() for s in srcs})
    if unknown:
        raise PackError(f"unknown key '{unknown[0]}'", f"allowed keys: {', '.join(sorted(META_KEYS))},"
                        " and the sources prompt/completion (type prompt) or chat/user (type chat)",
                        where=where(unknown[0]))
    ptype = meta.get("type", "prompt")
    if ptype not in TYPES:
        raise PackError(f"type must be 'prompt' or 'chat', not {ptype!r}", where=where("type"))
    strings = meta.get("strings") or []
    if not isinstance(strings, list) or not all(isinstance(s, str) and s.isidentifier() for s in strings):
        raise PackError("strings must be a list of names (letters, digits, _)", where=where("strings"))
    clash = sorted(set(strings) & set(RECORD_VARS + CHAT_VARS))
    if clash:
        raise PackError(f"string name '{clash[0]}' clashes with a record field",
                        "rename it, e.g. instruction_header", where=where("strings"))
    pack = Pack(name=path.name, path=path, type=ptype, description=str(meta.get("description", "")),
                strings=tuple(strings), builtin=builtin,
                default_system=bool(meta.get("default_system", False)),
                end_of_turn=str(meta.get("end_of_turn") or ""),
                eos_token=str(meta.get("eos_token") or DEFAULT_EOS))
    specials = meta.get("special_tokens") or []
    if not isinstance(specials, list) or not all(isinstance(s, str) and s for s in specials):
        raise PackError("special_tokens must be a list of non-empty strings", where=where("special_tokens"))
    pack.special_tokens = tuple(specials)
    if pack.default_system and "default_system" not in pack.strings:
        raise PackError("default_system: true needs a 'default_system' entry in strings",
                        where=where("default_system"))
    for name in SOURCES[ptype]:
        if name not in meta:
            if name in OPTIONAL_SOURCES[ptype]:
                continue
            raise PackError(f"a {ptype} template needs a '{name}' source",
                            "see the built-in packs (dataforge templates show alpaca)", where=f"{meta_file}:1")
        text = meta[name]
        if not isinstance(text, str):
            raise PackError(f"'{name}' must be a text (Jinja source)", where=where(name))
        pack.sources[name] = Source(name, text, str(meta_file), _value_line(node, name))
    _load_languages(pack, meta, where, _seen)
    return pack


def _load_languages(pack: Pack, meta: dict, where, seen: tuple) -> None:
    base = meta.get("strings_from")
    if base:
        if base in seen or base == pack.name:
            raise PackError(f"strings_from '{base}' refers back to itself", where=where("strings_from"))
        other = find_pack(str(base), [pack.path.parent], _seen=seen + (pack.name,))
        for lang, strings in other.languages.items():
            pack.languages[lang] = dict(strings)
            pack.language_files[lang] = other.language_files[lang]
    for file in sorted(pack.path.glob("*.yaml")):
        if file.name == "template.yaml":
            continue
        lang = file.stem
        data, node = _yaml_file(file)
        for key, value in data.items():
            if not isinstance(value, str):
                raise PackError(f"'{key}' must be a text, not {type(value).__name__}",
                                where=f"{file}:{_key_line(node, key)}")
        pack.languages[lang] = {**pack.languages.get(lang, {}), **data}
        pack.language_files[lang] = str(file)


def pack_dirs(template_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where packs are looked up, user folder first."""
    dirs = []
    if template_dir:
        d = Path(template_dir)
        if not d.is_dir():
            raise ConfigError(f"--template-dir {d} is not a folder", "pass a folder holding template packs")
        dirs.append(d)
    dirs.append(BUILTIN_DIR)
    return dirs


def _pack_folders(d: Path) -> list[Path]:
    if (d / "template.yaml").is_file():  # the folder is itself one pack
        return [d]
    return sorted(p for p in d.iterdir() if (p / "template.yaml").is_file())


def available(template_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Template name -> pack folder (user packs shadow built-in ones)."""
    found: dict[str, Path] = {}
    for d in reversed(pack_dirs(template_dir)):
        for p in _pack_folders(d):
            found[p.name] = p
    return dict(sorted(found.items()))


def find_pack(name: str, dirs: list[Path] | None = None, _seen: tuple = ()) -> Pack:
    dirs = dirs if dirs is not None else [BUILTIN_DIR]
    for d in [*dirs, BUILTIN_DIR]:
        candidates = {p.name: p for p in _pack_folders(d)} if d.is_dir() else {}
        if name in candidates:
            return _cached_load(str(candidates[name]), d == BUILTIN_DIR, _mtime(candidates[name]), _seen)
    names = sorted({p.name for d in [*dirs, BUILTIN_DIR] if d.is_dir() for p in _pack_folders(d)})
    raise ConfigError(f"unknown template '{name}'",
                      f"use one of: {', '.join(names)}, chat, chat:<tokenizer folder>;"
                      " or add a pack with --template-dir")


def _mtime(path: Path) -> float:
    return max((f.stat().st_mtime for f in path.iterdir()), default=0.0)


@functools.lru_cache(maxsize=64)
def _cached_load(path: str, builtin: bool, _mtime_key: float, seen: tuple) -> Pack:
    return load_pack(path, builtin=builtin, _seen=seen)
