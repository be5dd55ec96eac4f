"""Parts of a text that are not its own language: special-token markup, and quoted or bracketed spans.

    >>> strip_markup("unflattering<|endoftext|>")
    'unflattering '
    >>> unquoted("'compleja e intelectualmente retadora' How does the reviewer feel?")
    '  How does the reviewer feel?'

Markup such as `<|endoftext|>`, `</s>` or `[INST]` is letters to langdetect
("endoftext" made "unflattering<|endoftext|>" Swedish): always removed.

A quote or a bracket holds someone else's words or a gloss: an English
instruction that quotes a Spanish review is English, and "欺骗他人(trick
somebody)" is Chinese. `unquoted` removes such spans; the caller keeps the
whole text when too little is left (a text that is only a quote).
"""

from __future__ import annotations

import re

# Chat and tokenizer markup: <|endoftext|>, <|im_start|>, <s>, </s>, [INST], [/INST], <<SYS>>, <unk>, ...
_MARKUP = re.compile(r"<\|[^|<>\s]{1,40}\|>|</?s>|\[/?INST\]|<</?SYS>>|</?(?:unk|pad|eos|bos|mask|sep|cls)>"
                     r"|<(?:start|end)_of_turn>", re.I)
# A single quote opens only where no letter precedes it ("Locke's view" holds no quote) and closes only
# where none follows; paired marks need no such care. One line at most, so a stray mark costs little.
_QUOTED = re.compile(r"(?<![\w'])'[^'\n]+'(?![\w])|\"[^\"\n]*\"|“[^”\n]*”|„[^“”\n]*[“”]|«[^»\n]*»|‹[^›\n]*›"
                     r"|「[^」]*」|『[^』]*』|\([^()\n]*\)|（[^（）]*）|\[[^\[\]\n]*\]|【[^【】]*】")


def strip_markup(text: str) -> str:
    """`text` with special-token markup replaced by spaces."""
    if "<" not in text and "[" not in text:
        return text
    return _MARKUP.sub(" ", text)


def unquoted(text: str) -> str:
    """`text` with quoted and bracketed spans replaced by spaces."""
    return _QUOTED.sub(" ", text)
