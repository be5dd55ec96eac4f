"""The library calls other steps use: one record in, training text out.

    >>> from dataforge.records import InstructionRecord
    >>> r = InstructionRecord(instruction="Say hi", output="hi")
    >>> format_record(r, "alpaca")["completion"]
    'hi</s>'
    >>> format_record(r, "chatml")["completion"]
    'hi<|im_end|>'

The prompt is what the model conditions on (masked from the loss); the
completion is what it is trained on and ends with the template's
end-of-turn / EOS marker. Neither contains a BOS token: tokenize
prompt + completion with the tokenizer's usual BOS (exactly one), or use
`tokenize_example`, which does that and builds the loss mask.
"""

from __future__ import annotations

import collections
import os

from dataforge.errors import InputError
from dataforge.formatting.core import Formatter
from dataforge.io.shapes import RowError


class RowRejected(InputError):
    """This record cannot be formatted (the reason says why); other records can go on."""

    def __init__(self, reason: str, field: str | None = None, record_id: str = ""):
        where = f"record {record_id}" if record_id else "record"
        super().__init__(f"{where}: {reason}" + (f" (field '{field}')" if field else ""),
                         "fix or drop this row; `dataforge format` sends such rows to the rejects file")
        self.reason = reason
        self.field = field


_CACHE: collections.OrderedDict = collections.OrderedDict()


def get_formatter(template: str = "chatml", lang: str = "en", tokenizer=None, *,
                  template_dir: str | os.PathLike | None = None, default_system: bool | None = None,
                  escape_special: bool = False) -> Formatter:
    """A Formatter, reused across calls with the same settings (templates compile once)."""
    key = (template, lang, id(tokenizer) if tokenizer is not None and not isinstance(tokenizer, (str, os.PathLike))
           else tokenizer, str(template_dir), default_system, escape_special)
    found = _CACHE.get(key)
    if found is not None and (found[1] is tokenizer or not hasattr(tokenizer, "encode")):
        _CACHE.move_to_end(key)
        return found[0]
    fmt = Formatter(template, lang, tokenizer, template_dir=template_dir, default_system=default_system,
                    escape_special=escape_special)
    _CACHE[key] = (fmt, tokenizer)  # holding the tokenizer keeps its id() from being reused
    while len(_CACHE) > 16:
        _CACHE.popitem(last=False)
    return fmt


def format_record(record, template: str = "chatml", lang: str = "en", tokenizer=None, **options) -> dict:
    """{"prompt": str, "completion": str} for an InstructionRecord (or a conversation).

    `template`: a pack name (alpaca, dolly, qa, completion, chatml, llama3,
    mistral, or one under `template_dir=`), "chat" (the tokenizer's own chat
    template) or "chat:<tokenizer folder>". With a tokenizer that has a chat
    template, the chat packs defer to it. `lang`: "auto" or a language code.
    Keyword options: template_dir, default_system (None: only where the pack asks for it, see
    dataforge.formatting.core; True: every row without one; False: never), escape_special (False).
    Raises RowRejected for a record that cannot be formatted, ConfigError for bad settings.
    """
    fmt = get_formatter(template, lang, tokenizer, **options)
    try:
        prompt, completion = fmt.pair(record)
    except RowError as exc:
        raise RowRejected(exc.reason, exc.field, getattr(record, "id", "")) from None
    return {"prompt": prompt, "completion": completion}


def format_preference(record, template: str = "chatml", lang: str = "en", tokenizer=None, **options) -> dict:
    """{"prompt", "chosen", "rejected"} for a PreferenceRecord; both answers end with the EOS marker."""
    fmt = get_formatter(template, lang, tokenizer, **options)
    try:
        prompt, chosen, rejected = fmt.preference(record)
    except RowError as exc:
        raise RowRejected(exc.reason, exc.field, getattr(record, "id", "")) from None
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}
