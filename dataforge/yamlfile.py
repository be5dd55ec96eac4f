"""Reading YAML (recipes, training configs, template packs) with errors that point at the line.

YAML anchors and aliases let a few lines stand for a huge structure (the
"billion laughs": nine aliases to nine aliases ... is 10^9 values) or for a
recursive one (an alias inside its own anchor). Either hangs or crashes
whatever walks the result, so every document is composed first and its node
graph measured before anything is built from it: aliases may add at most
MAX_ALIAS_VALUES values, and a recursive anchor is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from dataforge.errors import ConfigError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present (also caps nesting depth)
MAX_ALIAS_VALUES = 10_000  # values that aliases may add to a document: plenty for reuse, far from a bomb


class YAMLShapeError(ConfigError):
    """An alias bomb or a recursive anchor; `line` is where (1-based) when one line is to blame."""

    def __init__(self, message: str, hint: str, line: int | None = None):
        super().__init__(message, hint)
        self.line = line


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_node_graph(root: yaml.Node | None) -> None:
    """Refuse a recursive anchor, or aliases that expand to more than MAX_ALIAS_VALUES extra values."""
    if root is None:
        return
    sizes: dict[int, int] = {}   # node id -> values in its fully expanded tree
    open_nodes: set[int] = set()  # nodes whose subtree is being measured (ancestors of the current one)
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            open_nodes.discard(key)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise YAMLShapeError("an alias (*name) refers to the anchor (&name) that contains it: a recursive"
                                 " structure", "write the values out instead of the alias",
                                 node.start_mark.line + 1)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    extra = sizes[id(root)] - len(sizes)
    if extra > MAX_ALIAS_VALUES:
        raise YAMLShapeError(f"its aliases (*name) expand to {extra:,} more values, over the limit of"
                             f" {MAX_ALIAS_VALUES:,} (an alias bomb?)",
                             "write the values out, or use fewer nested aliases")


def compose(text: str) -> yaml.Node | None:
    """The checked node tree of one YAML document (line numbers for error messages)."""
    node = yaml.compose(text, Loader=_LOADER)
    check_node_graph(node)
    return node


def construct(node: yaml.Node | None):
    """Python values from a checked node tree (safe types only)."""
    if node is None:
        return None
    loader = _LOADER("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def safe_load(text: str):
    """yaml.safe_load with alias bombs and recursive anchors refused (YAMLShapeError)."""
    return construct(compose(text))


def load_yaml_mapping(path: str | os.PathLike, *, missing_hint: str, shape_message: str) -> dict:
    """The mapping in `path`; a missing file, bad YAML (with its line) or a non-mapping is a ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file", missing_hint)
    try:
        data = safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})", "save the file as UTF-8") from None
    except YAMLShapeError as exc:
        where = f":{exc.line}" if exc.line else ""
        raise ConfigError(f"{path}{where}: {exc.message}", exc.hint) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: {shape_message}")
    return data


def parse_scalar(text: str):
    """A `--set key=VALUE` value read as YAML (`2` -> 2, `[a, b]` -> list), or the text as it is."""
    try:
        return safe_load(text)
    except YAMLShapeError as exc:
        raise ConfigError(f"--set value {text[:40]!r}: {exc.message}", exc.hint) from None
    except yaml.YAMLError:
        return text
