"""Prompt templates: Jinja2 files shipped in `dataforge/synth/prompts/`, overridable per file.

`Templates(override_dir).messages("qa_generate", passage=..., count=3)` renders
`qa_generate.j2` as the user turn (and `qa_generate.system.j2`, when there is
one, as the system turn). A file of the same name in `--prompts DIR` replaces
the built-in one. Templates are rendered in dataforge's bounded Jinja2 sandbox
(dataforge.templates.sandbox: limits on output size, loops and time) with
StrictUndefined, so a template naming a variable that does not exist, or one
that would blow up, fails with one error line before any request is sent. The rendered text is part of the request hash:
editing a template means new requests, not stale journal answers.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from dataforge.errors import ConfigError

BUILTIN = resources.files("dataforge.synth") / "prompts"


def builtin_names() -> list[str]:
    return sorted(p.name[:-3] for p in BUILTIN.iterdir() if p.name.endswith(".j2"))


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import StrictUndefined

    from dataforge.templates.sandbox import BoundedSandbox

    return BoundedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False,
                          trim_blocks=True, lstrip_blocks=True)


class Templates:
    """The prompt set of a run: built-ins, with files from `override_dir` taking precedence."""

    def __init__(self, override_dir: str | Path | None = None):
        self.override_dir = Path(override_dir) if override_dir else None
        known = set(builtin_names())
        known |= {f"{name}.system" for name in known if not name.endswith(".system")}  # a system turn may be added
        if self.override_dir is not None:
            if not self.override_dir.is_dir():
                raise ConfigError(f"--prompts {override_dir}: not a folder",
                                  "pass a folder holding .j2 files named like the built-in prompts")
            for path in self.override_dir.glob("*.j2"):
                if path.name[:-3] not in known:
                    raise ConfigError(f"{path}: no built-in prompt is called '{path.name[:-3]}'",
                                      f"name it after one of: {', '.join(sorted(known))}")
        self._cache: dict[str, object] = {}

    def source(self, name: str) -> tuple[str, str] | None:
        """(text, where) of template `name`, or None when there is none (e.g. no system part)."""
        if self.override_dir is not None:
            path = self.override_dir / f"{name}.j2"
            if path.exists():
                return path.read_text(encoding="utf-8"), str(path)
        builtin = BUILTIN / f"{name}.j2"
        if builtin.is_file():
            return builtin.read_text(encoding="utf-8"), f"built-in {name}.j2"
        return None

    def _template(self, name: str):
        if name not in self._cache:
            found = self.source(name)
            if found is None:
                self._cache[name] = None
            else:
                text, where = found
                from jinja2 import TemplateSyntaxError

                try:
                    self._cache[name] = (_environment().from_string(text), where)
                except TemplateSyntaxError as exc:
                    raise ConfigError(f"{where}: template syntax error on line {exc.lineno}: {exc.message}",
                                      "fix the template (Jinja2 syntax)") from exc
        return self._cache[name]

    def render(self, name: str, **variables) -> str:
        entry = self._template(name)
        if entry is None:
            raise ConfigError(f"no prompt template '{name}'")
        template, where = entry
        from jinja2 import TemplateError

        from dataforge.templates.limits import TemplateLimitError

        try:
            return template.render(**variables).strip()
        except TemplateLimitError as exc:
            raise ConfigError(f"{where}: {exc}", "fix the template; the limits are described in docs/format.md") \
                from None
        except TemplateError as exc:
            raise ConfigError(f"{where}: {exc}",
                              f"the variables available to this prompt are: {', '.join(sorted(variables))}") from exc

    def messages(self, name: str, **variables) -> list[dict]:
        """[system?, user] chat messages for template `name`."""
        out = []
        if self._template(f"{name}.system") is not None:
            out.append({"role": "system", "content": self.render(f"{name}.system", **variables)})
        out.append({"role": "user", "content": self.render(name, **variables)})
        return out
