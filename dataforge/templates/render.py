"""Compile and render packs in the bounded Jinja2 sandbox with StrictUndefined.

Each pack's sources are compiled once (per process) and reused for every
row and every language: the wrapper strings are variables, not baked in.
The environment matches Hugging Face chat templates (trim_blocks,
lstrip_blocks), so a chat template pasted from a model card behaves the same.

A template never writes the BOS token: `bos_token` renders as "" and the
tokenizer adds exactly one BOS when the text is tokenized (see
dataforge.formatting.tokens). This is what keeps BOS from doubling.

Every render runs under the limits of `limits.py` (output size, loops, time);
a row that hits one is rejected with a reason naming the limit.
"""

from __future__ import annotations

import functools
import re

import jinja2

from dataforge.io.shapes import RowError
from dataforge.templates.limits import TemplateLimitError
from dataforge.templates.pack import Pack, PackError, Source
from dataforge.templates.sandbox import BoundedSandbox


class LimitRowError(RowError):
    """A row whose render hit a template limit (the reason names it)."""


class TemplateRaised(Exception):
    """`raise_exception(...)` called by a chat template (HF convention)."""


def _raise_exception(message):
    raise TemplateRaised(message)


@functools.lru_cache(maxsize=1)
def environment() -> BoundedSandbox:
    env = BoundedSandbox(undefined=jinja2.StrictUndefined, trim_blocks=True,
                         lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.globals["raise_exception"] = _raise_exception
    return env


def compile_source(src: Source) -> jinja2.Template:
    """Compile one source; a syntax error becomes a PackError with file and line."""
    try:
        return environment().from_string(src.text)
    except jinja2.TemplateSyntaxError as exc:
        raise PackError(f"invalid Jinja in '{src.name}': {exc.message}", "fix the template syntax",
                        where=src.where(exc.lineno or 1)) from exc


def template_line(exc: BaseException) -> int | None:
    """The template line a Jinja runtime error happened on (from the rewritten traceback)."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def describe_error(exc: BaseException, src: Source) -> PackError:
    """A rendering failure as a one-line PackError naming the variable and where it is used."""
    line = template_line(exc)
    where = src.where(line) if line else src.file
    if isinstance(exc, jinja2.UndefinedError):
        return PackError(f"'{src.name}' uses an undefined variable: {exc.message}",
                         "use only record fields (instruction, context, output, system, id, lang, category),"
                         " bos_token/eos_token and the names listed under strings", where=where)
    if isinstance(exc, TemplateRaised):
        return PackError(f"the template refused this input: {exc}", where=where)
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return PackError(f"'{src.name}' does something the sandbox forbids: {exc}", where=where)
    return PackError(f"'{src.name}' failed to render: {type(exc).__name__}: {exc}", where=where)


SEP = "\x00"  # between rows of a batch render; not whitespace, so {%- -%} cannot eat it
_NOT_BATCHABLE = re.compile(r"\{%-?\s*(extends|block|macro|import|from|include|call)\b")


class CompiledPack:
    """A pack with its sources compiled; render one row (a dict) or a batch of rows (tuples)."""

    def __init__(self, pack: Pack):
        self.pack = pack
        self.templates = {name: compile_source(src) for name, src in pack.sources.items()}
        self._batch: dict[tuple, jinja2.Template | None] = {}

    def render(self, name: str, variables: dict) -> str:
        try:
            return self.templates[name].render(variables)
        except TemplateRaised as exc:  # the template refuses this row (HF raise_exception): reject it
            raise RowError(f"the template refused this row: {exc}") from None
        except TemplateLimitError as exc:  # too big or too slow for this row: reject it, keep the run
            raise LimitRowError(exc.row_reason(f"template '{name}'")) from None
        except Exception as exc:  # noqa: BLE001 - every template failure becomes one line
            raise describe_error(exc, self.pack.sources[name]).with_traceback(None) from exc

    def render_many(self, name: str, keys: tuple[str, ...], rows: list[tuple]) -> list:
        """Render many rows in one Jinja call (per-row context setup dominates otherwise).

        The source is wrapped in `{% for <keys> in rows %}...SEP{% endfor %}`; when
        that cannot be split back into exactly one text per row (a SEP inside the
        content) or fails, the rows are rendered one by one, which also gives
        the per-row error: a row the template refuses comes back as a RowError.
        The batch may loop as much as its rows together, but its output has the
        limit of one render: a batch over it is redone row by row.
        """
        batch = self._batch_template(name, keys)
        if batch is not None and len(rows) > 1:
            try:
                parts = batch.render_scaled(len(rows), __rows__=rows).split(SEP)
            except Exception:  # noqa: BLE001 - redo row by row for the precise error
                parts = []
            if len(parts) == len(rows) + 1:
                return parts[:-1]
        out: list = []
        for row in rows:
            try:
                out.append(self.render(name, dict(zip(keys, row))))
            except RowError as exc:  # this row only; the caller rejects it
                out.append(exc)
        return out

    def _batch_template(self, name: str, keys: tuple[str, ...]) -> jinja2.Template | None:
        key = (name, keys)
        if key not in self._batch:
            text = self.pack.sources[name].text
            ok = not _NOT_BATCHABLE.search(text) and not text.startswith("\n") and "loop" not in keys
            source = "{% for " + ", ".join(keys) + " in __rows__ %}" + text + SEP + "{% endfor %}"
            try:
                self._batch[key] = environment().from_string(source) if ok else None
            except jinja2.TemplateError:
                self._batch[key] = None
        return self._batch[key]


def compiled(pack: Pack) -> CompiledPack:
    """The compiled form of a pack, made once per loaded pack object."""
    if pack.compiled is None:
        pack.compiled = CompiledPack(pack)
    return pack.compiled
