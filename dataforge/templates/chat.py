"""A model folder's own chat template, rendered in dataforge's bounded sandbox.

transformers' `apply_chat_template` renders a tokenizer's `chat_template` in
its own Jinja environment: no limits on output, loops or time, and undefined
names render as empty text. A chat template comes with a downloaded model, so
it is code from someone else: `render_chat()` renders the same template
string, with the same globals and variables transformers gives it, in the
bounded sandbox (dataforge.templates.sandbox), where

- an undefined *name* (`{{ sytem_message }}`) is an error, as in packs;
- a key a message lacks (`message.tool_calls`) is falsy and empty when
  tested or looped over, as in transformers, but printing it is an error;
- output size, loops and time have the limits of every other template.

Kept in step with transformers' chat_template_utils (`raise_exception`,
`strftime_now`, the `tojson` filter, a restricted `dict` and `namespace`,
loop controls, `{% generation %}` blocks; the special tokens, `tools` and
`documents` as variables; message keys whose value is None dropped).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.utils import Namespace, missing

from dataforge.templates.render import TemplateRaised, _raise_exception
from dataforge.templates.sandbox import BoundedSandbox, bound_filter


class ChatUndefined(jinja2.Undefined):
    """Strict for names; for a message's missing key only printing is an error (see module doc)."""

    __slots__ = ()

    def _name_missing(self) -> bool:
        return self._undefined_obj is missing

    def __str__(self) -> str:
        return self._fail_with_undefined_error()

    def __bool__(self) -> bool:
        if self._name_missing():
            self._fail_with_undefined_error()
        return False

    def __iter__(self):
        if self._name_missing():
            self._fail_with_undefined_error()
        return iter(())

    def __len__(self) -> int:
        if self._name_missing():
            self._fail_with_undefined_error()
        return 0

    def __eq__(self, other) -> bool:
        if self._name_missing():
            self._fail_with_undefined_error()
        return type(self) is type(other)

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    __hash__ = jinja2.Undefined.__hash__


class _Generation(Extension):
    """`{% generation %}...{% endgeneration %}` (transformers' assistant-mask marker): renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

    def _body(self, caller):
        return caller()


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers' own tojson: no HTML escaping, and its extra options
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(format):  # noqa: A002 - the name templates call it with
    return datetime.now().strftime(format)


class _TemplateDict:
    """`dict(...)` and `dict.fromkeys(...)` without the class itself (as transformers does)."""

    def __call__(self, *args, **kwargs):
        return dict(*args, **kwargs)

    def fromkeys(self, *args, **kwargs):
        return dict.fromkeys(*args, **kwargs)


class _Namespace(Namespace):
    """A namespace that refuses underscore names (as transformers' does)."""

    def __init__(*args, **kwargs):  # noqa: N805 - jinja's Namespace signature trick
        self, args = args[0], args[1:]
        attrs = dict(*args, **kwargs)
        for name in attrs:
            _Namespace._check(name)
        Namespace.__init__(self, attrs)

    def __setitem__(self, name, value):
        _Namespace._check(name)
        Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check(name):
        if isinstance(name, str) and name.startswith("_"):
            raise jinja2.exceptions.SecurityError(f"a chat template cannot store {name!r} on a namespace")


@functools.lru_cache(maxsize=1)
def chat_environment() -> BoundedSandbox:
    env = BoundedSandbox(trim_blocks=True, lstrip_blocks=True, undefined=ChatUndefined,
                         extensions=[_Generation, "jinja2.ext.loopcontrols"])
    bound_filter(env, "tojson", _tojson)
    env.globals.update(raise_exception=_raise_exception, strftime_now=_strftime_now, dict=_TemplateDict(),
                       namespace=_Namespace)
    return env


@functools.lru_cache(maxsize=16)
def compile_chat_template(source: str) -> jinja2.Template:
    return chat_environment().from_string(source)


def template_source(tokenizer) -> str:
    """The tokenizer's chat template string (the 'default' one of a model with several)."""
    get = getattr(tokenizer, "get_chat_template", None)
    if get is not None:
        return get()
    source = getattr(tokenizer, "chat_template", None)
    if not isinstance(source, str):
        raise ValueError("the tokenizer has no chat template")
    return source


def render_chat(tokenizer, messages: list[dict], add_generation_prompt: bool = False, **extra) -> str:
    """What `tokenizer.apply_chat_template(messages, tokenize=False, ...)` renders, within the limits.

    Raises TemplateRaised (the template refused the input), TemplateLimitError,
    or a jinja2 error (UndefinedError for an undefined name).
    """
    template = compile_chat_template(template_source(tokenizer))
    specials = dict(getattr(tokenizer, "special_tokens_map", None) or {})
    for name in getattr(tokenizer, "SPECIAL_TOKENS_ATTRIBUTES", ()):  # a token the tokenizer lacks is "",
        specials.setdefault(name, "")                                # as transformers renders it
    chat = [{k: v for k, v in m.items() if v is not None} for m in messages]
    return template.render(**specials, **extra, messages=chat, tools=None, documents=None,
                           add_generation_prompt=add_generation_prompt)


__all__ = ["ChatUndefined", "TemplateRaised", "chat_environment", "render_chat", "template_source"]
