"""The hot path of `format --style text|prompt-completion`: a batch of rows rendered without Jinja.

A prompt pack whose sources only print variables and choose sections with
`if` (alpaca, dolly, qa, completion, and user packs like them) compiles to
format strings per language and per truth of the tested fields
(`dataforge.templates.fastform`). A batch then costs one `str.format` per
row, plus one scan of the whole batch for special tokens.

Everything that is not plain goes the way it always went, so the rows, the
rejects and the counts are the same (tests/formatting/test_format_fastpath.py
compares the two paths byte for byte):
- a batch in which any text holds a special token (or a field is not text)
  is formatted by `Formatter.pairs` (reject or escape per row);
- a record that is not an instruction row, a language whose strings a user
  pack lacks, and a row whose text is over the template output limit are
  formatted one by one by `Formatter.pair` (Jinja, with its error or limit);
- chat packs, model chat templates and packs with real Jinja logic keep
  their Jinja render (`simple_form` returns None for them).
"""

from __future__ import annotations

from itertools import chain

from dataforge.formatting.core import Formatter
from dataforge.io.shapes import RowError
from dataforge.records import InstructionRecord
from dataforge.templates.fastform import simple_form
from dataforge.templates.limits import current_limits
from dataforge.templates.render import environment

ENABLED = True  # tests switch it off to compare with the Jinja path
ROW = ("instruction", "context", "output", "system", "id", "category")  # the values each format string takes
_SEP = "\x00"  # joins a batch's texts for the special-token scan


class FastPack:
    """A prompt pack's prompt and completion as format strings, built per language on first use."""

    def __init__(self, fmt: Formatter):
        pack = fmt.pack
        constants = tuple(pack.strings) + ("lang", "eos_token", "bos_token")
        env = environment()
        self.prompt = simple_form(env, pack.sources["prompt"].text, ROW, constants)
        self.completion = simple_form(env, pack.sources["completion"].text, ROW, constants)
        self.ok = self.prompt is not None and self.completion is not None and not any(
            _SEP in s for s in fmt.specials)
        if not self.ok:
            return
        self.strings, self.eos = tuple(pack.strings), fmt.eos_token
        self.specials = tuple(sorted(fmt.specials))
        self.tests = tuple(dict.fromkeys(self.prompt.tests + self.completion.tests))
        idx = tuple(ROW.index(n) for n in self.tests)
        self.key = _key_function(idx)
        self._tables: dict[str, dict] = {}

    def constants(self, lang: str, strings: tuple) -> dict[str, str]:
        """The names that are the same for every row in `lang` (bos_token renders empty, see render.py)."""
        return {**dict(zip(self.strings, strings)), "lang": lang, "eos_token": self.eos, "bos_token": ""}

    def table(self, lang: str, strings: tuple) -> dict:
        """truth of the tested fields -> (prompt format, completion format, text format, prompt parts,
        completion parts) in `lang`."""
        found = self._tables.get(lang)
        if found is None:
            constants = self.constants(lang, strings)
            found = {}
            for bits in range(1 << len(self.tests)):
                truth = tuple(bool(bits >> i & 1) for i in range(len(self.tests)))
                given = dict(zip(self.tests, truth))
                p = self.prompt.parts(constants, tuple(given[n] for n in self.prompt.tests))
                c = self.completion.parts(constants, tuple(given[n] for n in self.completion.tests))
                pf, cf = _format_string(p), _format_string(c)
                found[truth] = (pf, cf, pf + cf, p, c)
            self._tables[lang] = found
        return found


def _format_string(parts: list) -> str:
    """Parts as one `str.format` string: its own braces doubled, the row values go in as arguments."""
    return "".join(p.replace("{", "{{").replace("}", "}}") if type(p) is str else "{%d}" % p for p in parts)


def _key_function(idx: tuple[int, ...]):
    """values -> the truth of the tested fields (a tuple of bools), as cheap as Python allows."""
    if not idx:
        return lambda v: ()
    if len(idx) == 1:
        a, = idx
        return lambda v: (v[a] != "",)
    if len(idx) == 2:
        a, b = idx
        return lambda v: (v[a] != "", v[b] != "")
    if len(idx) == 3:
        a, b, c = idx
        return lambda v: (v[a] != "", v[b] != "", v[c] != "")
    return lambda v: tuple(v[i] != "" for i in idx)


def fast_pack(fmt: Formatter) -> FastPack | None:
    """The formatter's FastPack, or None when its template needs Jinja."""
    found = getattr(fmt, "_fast", False)
    if found is False:
        found = None
        if fmt.pack.type == "prompt" and not fmt.use_tokenizer_template:
            made = FastPack(fmt)
            found = made if made.ok else None
        fmt._fast = found
    return found


def fast_text_rows(fmt: Formatter, records: list, style: str) -> list | None:
    """styles.text_rows for a batch without Jinja, or None when the batch must take `Formatter.pairs`."""
    fast = fast_pack(fmt) if ENABLED else None
    if fast is None:
        return None
    fixed = fmt.languages.fixed()
    table = None
    if fixed is not None:
        strings = fmt._strings_tuple(*fixed)
        if strings is None:
            return None  # a user pack missing a string: the per-row path names the error
        table = fast.table(fixed[0], strings)
        if style == "text" and all(type(r) is InstructionRecord for r in records):
            rows = _fixed_text_rows(fmt, fast, table, records)
            if rows is not None:
                return rows
    out: list = [None] * len(records)
    todo, values = [], []
    for i, rec in enumerate(records):
        if type(rec) is not InstructionRecord:
            continue
        ctx = rec.context
        if ctx and ctx.isspace():
            ctx = ""  # a blank context gets no header at all
        meta = rec.meta
        values.append((rec.instruction, ctx, rec.output, meta.get("system", "") if meta else "", rec.id,
                       rec.category))
        todo.append(i)
    try:
        joined = _SEP.join(chain.from_iterable(values))  # also: every value is text, as format needs
    except TypeError:
        return None
    if any(s in joined for s in fast.specials):
        return None  # reject or escape row by row, exactly as before
    del joined
    cap = current_limits().max_output
    key, text_style, one = fast.key, style == "text", _one_row(fmt, style)
    n_fixed = 0
    for i, v in zip(todo, values):
        rec = records[i]
        if table is None:
            lang, strings = fmt.choose(rec)
            st = fmt._strings_tuple(lang, strings)
            if st is None:
                out[i] = one(rec)
                continue
            forms = fast.table(lang, st)[key(v)]
        else:
            forms = table[key(v)]
        if text_style:
            text = forms[2].format(*v)
            if len(text) > cap:  # maybe over the limit: Jinja says which render and why
                out[i] = one(rec)
                continue
            out[i] = {"id": v[4], "text": text}
        else:
            prompt, completion = forms[0].format(*v), forms[1].format(*v)
            if len(prompt) > cap or len(completion) > cap:
                out[i] = one(rec)
                continue
            out[i] = {"id": v[4], "prompt": prompt, "completion": completion}
        n_fixed += 1
    if table is not None:
        fmt.languages.count_fixed(n_fixed)  # one() counted its own rows
    for i, rec in enumerate(records):
        if out[i] is None:
            out[i] = one(rec)
    return out


def _fixed_text_rows(fmt: Formatter, fast: FastPack, table: dict, records: list) -> list | None:
    """The common case in two comprehensions: one language, text style, instruction records only.
    None when the general loop must decide (a special token, a value that is not text, a long row)."""
    try:  # a blank context gets no header at all ("".isspace() is False: an empty one stays)
        values = [(r.instruction, "" if r.context.isspace() else r.context, r.output,
                   r.meta.get("system", "") if r.meta else "", r.id, r.category) for r in records]
        joined = _SEP.join(chain.from_iterable(values))  # also: every value is text, as format needs
    except (AttributeError, TypeError):
        return None
    if any(s in joined for s in fast.specials):
        return None
    key = fast.key
    texts = [table[key(v)][2].format(*v) for v in values]
    if texts and max(map(len, texts)) > current_limits().max_output:
        return None
    fmt.languages.count_fixed(len(texts))
    return [{"id": v[4], "text": t} for v, t in zip(values, texts)]


def _one_row(fmt: Formatter, style: str):
    def one(rec):
        try:
            p, c = fmt.pair(rec)
        except RowError as exc:
            return exc
        if style == "text":
            return {"id": rec.id, "text": p + c}
        return {"id": rec.id, "prompt": p, "completion": c}
    return one
