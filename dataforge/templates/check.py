"""`dataforge templates check DIR`: say what is wrong with a user's pack, with file and line.

Checks, per pack: template.yaml parses and has the keys its type needs; every
Jinja source compiles and uses only variables it will get; every language file
defines exactly the strings the template lists (en.yaml is required); every
language renders an example with and without context; a context/input header
never shows when the context is empty; a chat template's prompt is a prefix
of the full conversation (so the completion can be split off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import nodes

from dataforge.records import InstructionRecord
from dataforge.templates.pack import (
    CHAT_VARS,
    RECORD_VARS,
    Pack,
    PackError,
    _key_line,
    _pack_folders,
    _yaml_file,
    load_pack,
)
from dataforge.templates.render import LimitRowError, environment

GLOBALS = {"raise_exception", "namespace", "range", "dict", "lipsum", "cycler", "joiner", "loop", "super",
           "caller", "varargs", "kwargs", "self"}
EXAMPLE = InstructionRecord(instruction="What is the capital of France?",
                            context="France is a country in Western Europe. Its capital and largest city is Paris.",
                            output="The capital of France is Paris.", id="example")


@dataclass
class Problem:
    where: str      # file:line
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_pack_dir(folder: str | Path) -> list[Problem]:
    """Every problem found in the pack(s) under `folder` (empty list: all good)."""
    folder = Path(folder)
    if not folder.is_dir():
        return [Problem(str(folder), "not a folder")]
    packs = _pack_folders(folder)
    if not packs:
        return [Problem(str(folder), "no template.yaml here or in its sub-folders (a pack is a folder with"
                                     " template.yaml and <lang>.yaml files)")]
    problems: list[Problem] = []
    for path in packs:
        problems += check_pack(path)
    return problems


def check_pack(path: Path) -> list[Problem]:
    try:
        pack = load_pack(path)
    except PackError as exc:
        return [Problem(exc.where or str(path), exc.detail)]
    problems = _check_sources(pack)
    if problems:
        return problems  # rendering would only repeat the same errors
    problems += _check_languages(pack)
    if not problems:
        problems += _check_rendering(pack)
    return problems


def _allowed(pack: Pack, source: str) -> set[str]:
    if source == "chat":
        return set(CHAT_VARS) | GLOBALS
    return set(RECORD_VARS) | set(pack.strings) | {"bos_token", "eos_token"} | GLOBALS


def _check_sources(pack: Pack) -> list[Problem]:
    problems = []
    env = environment()
    for name, src in pack.sources.items():
        try:
            tree = env.parse(src.text)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Problem(src.where(exc.lineno or 1), f"invalid Jinja in '{name}': {exc.message}"))
            continue
        assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
        allowed = _allowed(pack, name) | assigned
        reported = set()
        for node in tree.find_all(nodes.Name):
            if node.ctx == "load" and node.name not in allowed and node.name not in reported:
                reported.add(node.name)
                hint = (" (the chat source gets messages, add_generation_prompt, bos_token, eos_token)"
                        if name == "chat" else " (not a record field, and not listed under strings)")
                problems.append(Problem(src.where(node.lineno), f"'{name}' uses unknown variable '{node.name}'{hint}"))
    return problems


def _check_languages(pack: Pack) -> list[Problem]:
    problems = []
    if not pack.strings:
        return problems
    if "en" not in pack.languages:
        problems.append(Problem(str(pack.path / "en.yaml"), "missing: every pack with strings needs en.yaml"
                                                           " (the fallback for languages it lacks)"))
    own = {f.stem for f in pack.path.glob("*.yaml") if f.name != "template.yaml"}
    for lang in sorted(own):
        file = Path(pack.language_files[lang])
        data, node = _yaml_file(file)
        for key in sorted(set(data) - set(pack.strings)):
            problems.append(Problem(f"{file}:{_key_line(node, key)}",
                                    f"unknown string '{key}' (template.yaml lists: {', '.join(pack.strings)})"))
        missing = [k for k in pack.strings if k not in pack.languages[lang]]
        if missing:
            problems.append(Problem(f"{file}:1", f"missing string(s): {', '.join(missing)}"))
    return problems


def _check_rendering(pack: Pack) -> list[Problem]:
    from dataforge.formatting.core import Formatter

    problems = []
    langs = sorted(pack.languages) or ["en"]
    for lang in langs:
        fmt = Formatter(pack, lang if pack.strings else "auto")
        where = pack.language_files.get(lang, str(pack.path / "template.yaml"))
        try:
            with_ctx = "".join(fmt.pair(EXAMPLE))
            bare = EXAMPLE.__class__(instruction=EXAMPLE.instruction, output=EXAMPLE.output, id="example")
            without = "".join(fmt.pair(bare))
        except PackError as exc:
            problems.append(Problem(exc.where or where, f"[{lang}] {exc.detail}"))
            continue
        except LimitRowError as exc:  # the template's own doing: other languages would only repeat it
            problems.append(Problem(where, f"[{lang}] rendering the example hit a limit: {exc.reason}"))
            break
        except Exception as exc:  # noqa: BLE001 - RowError and friends: report, do not crash
            problems.append(Problem(where, f"[{lang}] rendering the example failed: {getattr(exc, 'reason', exc)}"))
            continue
        # A string that introduces the context (the context follows it) must vanish without context.
        for key, value in pack.languages.get(lang, {}).items():
            value = value.strip()
            if value and re.search(re.escape(value) + r"\s*" + re.escape(EXAMPLE.context), with_ctx) \
                    and value in without:
                problems.append(Problem(where, f"[{lang}] '{key}' is rendered even when the context is empty"
                                               " (an empty header is left behind); wrap it in {% if context %}"))
        if EXAMPLE.context not in with_ctx:
            problems.append(Problem(pack.sources[next(iter(pack.sources))].where(),
                                    f"[{lang}] a non-empty context does not appear in the rendered example"))
    return problems


def render_example(name: str, lang: str = "en", template_dir=None, with_context: bool = True,
                   tokenizer=None) -> dict:
    """{"prompt", "completion", "lang", "pack"}: the built-in example record rendered with a template."""
    from dataforge.errors import ConfigError
    from dataforge.formatting.core import Formatter
    from dataforge.io.shapes import RowError

    fmt = Formatter(name, lang, tokenizer, template_dir=template_dir)
    record = EXAMPLE if with_context else InstructionRecord(instruction=EXAMPLE.instruction,
                                                            output=EXAMPLE.output, id="example")
    try:
        prompt, completion = fmt.pair(record)
    except RowError as exc:
        raise ConfigError(f"template '{name}' cannot render the example: {exc.reason}",
                          f"check it with: dataforge templates check {fmt.pack.path}") from None
    used = next(iter(fmt.languages.used), lang)
    return {"prompt": prompt, "completion": completion, "lang": used, "pack": fmt.pack,
            "fell_back": bool(fmt.languages.fallbacks)}
