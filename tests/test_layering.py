"""The package's import graph: no circles, and the library never imports the CLI.

Every `import` counts, including those inside functions: a function-level import
still makes the two modules depend on each other, it only hides the circle until
the function runs. Dynamic imports (importlib with a string) are not seen.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dataforge"


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under `root` (a package folder)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The module `name` refers to: itself, or the closest enclosing module we know (a name inside it)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports anywhere in its file."""
    modules = module_names(root)
    top = root.name
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the package this module is in
                    base = mod.split(".")
                    base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                # `from pkg import sub` imports the submodule; `from mod import name` imports mod
                names = [f"{prefix}.{a.name}" for a in node.names]
            for name in names:
                if name != top and not name.startswith(top + "."):
                    continue
                target = _target(name, modules)
                if target and target != mod:
                    graph[mod].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def cli_importers(graph: dict[str, set[str]], top: str = "dataforge") -> list[str]:
    """Modules outside `top.cli` that import anything under it (`python -m top` is the CLI's own door)."""
    cli = f"{top}.cli"
    inside = lambda m: m == cli or m.startswith(cli + ".")  # noqa: E731
    return sorted(f"{m} -> {t}" for m, targets in graph.items() if not inside(m) and m != f"{top}.__main__"
                  for t in targets if inside(t))


def test_no_import_cycles():
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_library_never_imports_the_cli():
    assert cli_importers(import_graph(PACKAGE)) == []


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_checker_names_a_function_level_circle(tmp_path):
    # The circle this repo had: recipes imported recipe_stages inside a function, recipe_stages
    # imported recipes at the top.
    _write(tmp_path, {
        "dataforge/__init__.py": "",
        "dataforge/errors.py": "",
        "dataforge/recipes.py": "import os\nfrom dataforge.errors import X\n"
                                "def kinds():\n    from dataforge import recipe_stages\n",
        "dataforge/recipe_stages.py": "from dataforge.recipes import StageKind, register_stage\n",
    })
    graph = import_graph(tmp_path / "dataforge")
    assert graph["dataforge.recipes"] == {"dataforge.errors", "dataforge.recipe_stages"}
    assert find_cycle(graph) == ["dataforge.recipe_stages", "dataforge.recipes", "dataforge.recipe_stages"]


def test_checker_resolves_relative_and_package_imports(tmp_path):
    _write(tmp_path, {
        "dataforge/__init__.py": "",
        "dataforge/__main__.py": "from dataforge.cli.main import main\n",
        "dataforge/cli/__init__.py": "",
        "dataforge/cli/main.py": "from . import helpers\n",
        "dataforge/cli/helpers.py": "",
        "dataforge/train/__init__.py": "from .run import train\n",
        "dataforge/train/run.py": "def train():\n    from ..cli.main import x\n",
    })
    graph = import_graph(tmp_path / "dataforge")
    assert graph["dataforge.cli.main"] == {"dataforge.cli.helpers"}
    assert graph["dataforge.train"] == {"dataforge.train.run"}
    assert find_cycle(graph) is None
    assert cli_importers(graph) == ["dataforge.train.run -> dataforge.cli.main"]
