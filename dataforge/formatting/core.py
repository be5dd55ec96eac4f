"""Turn one record into the text a model conditions on and the text it trains on.

A `Formatter` holds one template (a pack, or a tokenizer's own chat template)
and a language mode. For every record it returns (prompt, completion): the
completion ends with the template's end-of-turn / EOS marker, because that
marker is what teaches the model to stop.

Which renderer is used:
- a `prompt` pack (alpaca, dolly, qa, completion): the pack, with the
  tokenizer's EOS when a tokenizer is given;
- a `chat` pack (chatml, llama3, mistral): the pack, unless a tokenizer with
  its own chat template is given, in which case that template decides the
  format (the model was trained on it) and the pack still decides the content
  (translated context header, default system prompt);
- `chat` / `chat:<tokenizer folder>`: the tokenizer's chat template.

The default system prompt (`default_system`): None (the default) adds the
pack's one only where the pack asks for it (`default_system: true`) and
renders the prompt of an instruction or preference row that has none; chat
data (conversation records) and chat-shaped output (`messages()`,
`prompt_messages()`) keep exactly their own messages. True adds it to every
row without a system prompt (the user asked), False never.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dataforge.errors import ConfigError
from dataforge.io.shapes import RowError
from dataforge.records import ConversationRecord, InstructionRecord, PreferenceRecord
from dataforge.templates.lang import LanguageChooser
from dataforge.templates.pack import Pack, find_pack, pack_dirs
from dataforge.templates.render import compiled

ZWSP = "\u200b"  # inserted after the first character of a special token to defuse it
# The variables every prompt/user source gets, in the order batch rendering passes them.
_RECORD_KEYS = ("instruction", "context", "output", "system", "id", "lang", "category", "eos_token", "bos_token")


def load_tokenizer(path):
    """A tokenizer object from a folder path (or the object itself)."""
    if path is None or not isinstance(path, (str, os.PathLike)):
        return path
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError(f"tokenizer folder {folder} does not exist",
                          "pass the folder a model/tokenizer was saved to (save_pretrained)")
    from dataforge.errors import require

    transformers = require("transformers", feature="--tokenizer")
    try:
        return transformers.AutoTokenizer.from_pretrained(str(folder))
    except Exception as exc:  # noqa: BLE001 - any load failure is the user's folder
        raise ConfigError(f"cannot load a tokenizer from {folder}: {type(exc).__name__}: {str(exc)[:200]}",
                          "the folder needs tokenizer files (tokenizer.json or tokenizer.model)") from exc


class Formatter:
    """Formats records with one template; counts languages, fallbacks and escapes."""

    def __init__(self, template: str | Pack = "chatml", lang: str = "en", tokenizer=None, *,
                 template_dir: str | os.PathLike | None = None, default_system: bool | None = None,
                 escape_special: bool = False):
        given_pack = template if isinstance(template, Pack) else None
        template = given_pack.name if given_pack else template
        self.template_name = template
        self.escape_special = escape_special
        self.default_system = default_system
        chat_dir = None
        if given_pack is None and (template == "chat" or template.startswith("chat:")):
            chat_dir = template[5:] or None
        self.chat_tokenizer = load_tokenizer(chat_dir) if chat_dir else None
        self.tokenizer = load_tokenizer(tokenizer) if tokenizer is not None else self.chat_tokenizer
        dirs = pack_dirs(template_dir)
        if given_pack is not None:
            self.pack = given_pack
            self.use_tokenizer_template = False
        elif template == "chat" or chat_dir is not None:
            if self.tokenizer is None:
                raise ConfigError("--template chat needs a tokenizer", "give --tokenizer DIR or --template chat:DIR")
            self.pack = find_pack("chatml", dirs)  # content strings (context header) only
            self.use_tokenizer_template = True
            self.default_system = False  # the model's template may add its own
        else:
            self.pack = find_pack(template, dirs)
            self.use_tokenizer_template = (self.pack.type == "chat" and self.tokenizer is not None
                                           and bool(getattr(self.tokenizer, "chat_template", None)))
        template_tok = self.chat_tokenizer or self.tokenizer
        if self.use_tokenizer_template and not getattr(template_tok, "chat_template", None):
            name = getattr(template_tok, "name_or_path", "") or ""
            raise ConfigError(f"the tokenizer {name} has no chat template".replace("  ", " "),
                              "use a template pack instead: --template chatml, llama3, mistral, alpaca, ...")
        self._template_tok = template_tok
        self.compiled = compiled(self.pack)
        self.languages = LanguageChooser(self.pack, lang)
        tok = self.tokenizer
        self.eos_token = (tok.eos_token if tok is not None and tok.eos_token else self.pack.eos_token)
        self.bos_token = tok.bos_token if tok is not None else None
        self.adds_bos = _adds_bos(tok)
        self.specials = self._special_strings()
        self._special_re = re.compile("|".join(re.escape(s) for s in sorted(self.specials, key=len, reverse=True))) \
            if self.specials else None
        self.escaped_rows = 0
        self._escaped_this_row = False
        self._last: tuple = (None, None)
        self._counted = None
        self._tuples: dict[str, tuple] = {}
        self.describe = (f"chat template of the tokenizer ({template} requested)"
                         if self.use_tokenizer_template and not template.startswith("chat") else
                         "chat template of the tokenizer" if self.use_tokenizer_template else f"pack '{self.pack.name}'")

    # ----- special tokens -------------------------------------------------
    def _special_strings(self) -> set[str]:
        out = set(self.pack.special_tokens) | {self.eos_token}
        if self.use_tokenizer_template:
            out -= set(self.pack.special_tokens)  # the chatml pack only lends strings here
        for tok in (self.tokenizer, self.chat_tokenizer):
            if tok is not None:
                out |= {t for t in getattr(tok, "all_special_tokens", []) if t}
                decoder = getattr(tok, "added_tokens_decoder", {}) or {}
                out |= {t.content for t in decoder.values() if getattr(t, "special", False) and t.content}
        return {s for s in out if s}

    def _clean(self, text: str, field: str) -> str:
        """Reject or defuse special tokens inside content (they could forge turns)."""
        if not text or self._special_re is None:
            return text
        found = self._special_re.search(text)
        if found is None:
            return text
        if not self.escape_special:
            raise RowError(f"contains the special token {found.group(0)!r}, which could forge a turn or end it"
                           " early; fix the row or pass --escape-special", field)
        self._escaped_this_row = True
        return self._special_re.sub(lambda m: m.group(0)[0] + ZWSP + m.group(0)[1:], text)

    # ----- building blocks ------------------------------------------------
    def _variables(self, record, strings: dict, lang: str) -> dict:
        context = record.context if record.context.strip() else ""  # blank context: no header at all
        return {**strings, "instruction": self._clean(record.instruction, "instruction"),
                "context": self._clean(context, "context"), "system": self._clean(record.system, "system"),
                "id": record.id, "lang": lang, "category": getattr(record, "category", ""),
                "eos_token": self.eos_token, "bos_token": ""}

    def _messages(self, record, strings: dict, lang: str, variables: dict | None = None,
                  chat: bool = False) -> list[dict]:
        """System (record's or default), user turn (instruction + translated context), no assistant.
        `chat`: the messages are the output (chat-shaped rows), not text this pack renders."""
        if isinstance(record, ConversationRecord):
            _plain_turns(record.messages, record.tools, "messages")
            msgs = [{"role": m["role"], "content": self._clean(m["content"], "messages")} for m in record.messages]
            default = self._default_system(strings, chat=True)  # chat data: only when the user asked
            if msgs and msgs[0]["role"] != "system" and default:
                msgs.insert(0, {"role": "system", "content": default})
            return msgs
        v = variables if variables is not None else self._variables(record, strings, lang)
        system = v["system"] or self._default_system(strings, chat)
        msgs = [{"role": "system", "content": system}] if system else []
        if "user" in self.compiled.templates:
            user = self.compiled.render("user", v)
        else:
            user = v["instruction"] + (f"\n\n{v['context']}" if v["context"] else "")
        history = getattr(record, "history", None)
        if history:  # a prompt of several turns (HH-RLHF, ShareGPT preference): its earlier turns in order
            if self.pack.type == "prompt" and not self.use_tokenizer_template:
                raise RowError(f"the prompt has several turns, which the '{self.pack.name}' template cannot"
                               " write; use chatml, llama3, mistral or chat", "history")
            _plain_turns(history, getattr(record, "tools", None), "history")
            msgs += [{"role": m["role"], "content": self._clean(m["content"], "history")} for m in history]
        return msgs + [{"role": "user", "content": user}]

    def _default_system(self, strings: dict, chat: bool = False) -> str:
        """The default system prompt for a row without one ("" for none; see the module doc)."""
        if self.default_system is None:
            asked = self.pack.default_system and not chat
        else:
            asked = self.default_system
        return strings.get("default_system", "") if asked else ""

    def _chat(self, messages: list[dict], add_generation_prompt: bool) -> str:
        if self.use_tokenizer_template:
            text = _render_tokenizer_template(self._template_tok, messages, add_generation_prompt)
            bos = self.bos_token
            if bos and self.adds_bos and text.startswith(bos):
                text = text[len(bos):]  # the tokenizer adds it back once
            return text
        return self.compiled.render("chat", {"messages": messages, "add_generation_prompt": add_generation_prompt,
                                             "eos_token": self.eos_token, "bos_token": ""})

    def _chat_pair(self, messages: list[dict], answer: str) -> tuple[str, str]:
        prompt = self._chat(messages, True)
        full = self._chat(messages + [{"role": "assistant", "content": answer}], False)
        if not full.startswith(prompt):
            raise RowError("the chat template renders the prompt differently on its own than inside the"
                           " conversation, so the completion cannot be split off; use another template")
        return prompt, self._end_turn(full[len(prompt):])

    def _end_turn(self, completion: str) -> str:
        """Completion ends exactly at its end-of-turn/EOS marker (added when the template wrote none)."""
        end = self.pack.end_of_turn if not self.use_tokenizer_template else ""
        stripped = completion.rstrip()
        if end and stripped.endswith(end):
            return stripped
        if self.use_tokenizer_template and self._special_re is not None:
            ends = [m.end() for m in self._special_re.finditer(stripped)]
            if ends and ends[-1] == len(stripped):  # the template's own end-of-turn token closes it
                return stripped
        if stripped.endswith(self.eos_token):
            return stripped
        return completion + self.eos_token

    # ----- public ---------------------------------------------------------
    def choose(self, record) -> tuple[str, dict]:
        # Several views of one record (messages + the text to check) count its language once.
        if record is self._last[0]:
            return self._last[1]
        self._escaped_this_row = False
        choice = self.languages.choose(record)
        self._last = (record, choice)
        return choice

    def pair(self, record) -> tuple[str, str]:
        """(prompt, completion) for an instruction or conversation record."""
        if isinstance(record, PreferenceRecord):
            raise RowError("preference rows (chosen/rejected) need --style preference")
        lang, strings = self.choose(record)
        if isinstance(record, ConversationRecord):
            msgs = self._messages(record, strings, lang)
            if msgs[-1]["role"] != "assistant":
                raise RowError("the conversation does not end with an assistant message", "messages")
            if self.pack.type != "chat" and not self.use_tokenizer_template:
                turns = sum(1 for m in msgs if m["role"] == "user")
                raise RowError(f"multi-turn conversation ({turns} user turns) cannot be written with the"
                               f" '{self.pack.name}' template; use chatml, llama3, mistral or chat", "messages")
            result = self._chat_pair(msgs[:-1], msgs[-1]["content"])
        elif self.pack.type == "prompt":
            v = self._variables(record, strings, lang)
            v["output"] = self._clean(record.output, "output")
            result = self.compiled.render("prompt", v), self.compiled.render("completion", v)
        else:
            v = self._variables(record, strings, lang)
            result = self._chat_pair(self._messages(record, strings, lang, v), self._clean(record.output, "output"))
        self._count_escape(record)
        return result

    def pairs(self, records: list) -> list[tuple[str, str] | RowError]:
        """`pair()` for many records; templates render once per batch, not once per row."""
        if self.use_tokenizer_template:
            return [self._one(r) for r in records]
        out: list = [None] * len(records)
        keys = tuple(self.pack.strings) + _RECORD_KEYS
        rows, where = [], []
        fixed = self.languages.fixed()  # (lang, strings) when every row gets the same language
        if fixed is not None:
            fixed_tuple = self._strings_tuple(*fixed)
        sre, eos = self._special_re, self.eos_token
        for i, rec in enumerate(records):
            if type(rec) is not InstructionRecord or (fixed is not None and fixed_tuple is None):
                out[i] = self._one(rec)
                continue
            if fixed is None:
                lang, strings = self.choose(rec)
                strings_tuple = self._strings_tuple(lang, strings)
                if strings_tuple is None:  # a user pack missing a string: the per-row path names the error
                    out[i] = self._one(rec)
                    continue
            else:
                lang, strings_tuple = fixed[0], fixed_tuple
            ins, ctx, ans = rec.instruction, rec.context, rec.output
            system = rec.meta.get("system", "") if rec.meta else ""
            if ctx and ctx.isspace():
                ctx = ""  # a blank context gets no header at all
            if sre is not None and (sre.search(ins) or sre.search(ans) or (ctx and sre.search(ctx))
                                    or (system and sre.search(system))):
                try:
                    self._escaped_this_row, self._counted = False, None
                    ins, ctx = self._clean(ins, "instruction"), self._clean(ctx, "context")
                    ans, system = self._clean(ans, "output"), self._clean(system, "system")
                    self._count_escape(rec)
                except RowError as exc:
                    out[i] = exc
                    continue
            rows.append(strings_tuple + (ins, ctx, ans, system, rec.id, lang, rec.category, eos, ""))
            where.append(i)
        if fixed is not None:
            self.languages.count_fixed(len(rows))
        if self.pack.type == "prompt":
            texts = zip(self.compiled.render_many("prompt", keys, rows),
                        self.compiled.render_many("completion", keys, rows))
        else:
            texts = self._chat_texts(keys, rows)
        for i, pair in zip(where, texts):
            if type(pair) is tuple and type(pair[0]) is not str:  # the template refused this row
                pair = pair[0]
            elif type(pair) is tuple and type(pair[1]) is not str:
                pair = pair[1]
            out[i] = pair
        return out

    def _chat_texts(self, keys: tuple, rows: list[tuple]) -> list:
        users = (self.compiled.render_many("user", keys, rows) if "user" in self.compiled.templates else
                 [r[-9] + (f"\n\n{r[-8]}" if r[-8] else "") for r in rows])
        chat_keys = ("messages", "add_generation_prompt", "eos_token", "bos_token")
        prompts, fulls, refused = [], [], {}
        for n, (row, user) in enumerate(zip(rows, users)):
            if isinstance(user, RowError):
                refused[n], user = user, ""
            strings = dict(zip(keys, row))
            system = strings["system"] or self._default_system(strings)
            msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
            prompts.append((msgs, True, self.eos_token, ""))
            fulls.append((msgs + [{"role": "assistant", "content": strings["output"]}], False, self.eos_token, ""))
        out = []
        for n, (prompt, full) in enumerate(zip(self.compiled.render_many("chat", chat_keys, prompts),
                                               self.compiled.render_many("chat", chat_keys, fulls))):
            bad = refused.get(n) or next((x for x in (prompt, full) if isinstance(x, RowError)), None)
            if bad is not None:
                out.append(bad)
            elif full.startswith(prompt):
                out.append((prompt, self._end_turn(full[len(prompt):])))
            else:
                out.append(RowError("the chat template renders the prompt differently on its own than inside"
                                    " the conversation, so the completion cannot be split off"))
        return out

    def _strings_tuple(self, lang: str, strings: dict) -> tuple | None:
        found = self._tuples.get(lang)
        if found is None:
            if any(k not in strings for k in self.pack.strings):
                return None
            found = self._tuples[lang] = tuple(strings[k] for k in self.pack.strings)
        return found

    def _one(self, record):
        try:
            return self.pair(record)
        except RowError as exc:
            return exc

    def preference(self, record) -> tuple[str, str, str]:
        """(prompt, chosen, rejected), each answer ending with the end-of-turn/EOS marker."""
        if not isinstance(record, PreferenceRecord):
            raise RowError(f"{record.kind} rows have no chosen/rejected answers; --style preference needs"
                           " preference data")
        if record.chosen_turns or record.rejected_turns:
            raise RowError("an answer continues over several turns (or calls tools), which format's templates do"
                           " not write; use `dataforge convert --to trl-chat`", "chosen")
        lang, strings = self.choose(record)
        v = self._variables(record, strings, lang)
        chosen, rejected = self._clean(record.chosen, "chosen"), self._clean(record.rejected, "rejected")
        if self.pack.type == "prompt" and not record.history:
            prompt = self.compiled.render("prompt", {**v, "output": chosen})
            out = (prompt, self.compiled.render("completion", {**v, "output": chosen}),
                   self.compiled.render("completion", {**v, "output": rejected}))
        else:
            msgs = self._messages(record, strings, lang, v)
            prompt, good = self._chat_pair(msgs, chosen)
            _same_prompt, bad = self._chat_pair(msgs, rejected)
            out = (prompt, good, bad)
        self._count_escape(record)
        return out

    def messages(self, record) -> list[dict]:
        """The record as chat messages (for --style messages), assistant answer last."""
        lang, strings = self.choose(record)
        if isinstance(record, PreferenceRecord):
            raise RowError("preference rows have no single answer; use --style preference")
        msgs = self._messages(record, strings, lang, chat=True)
        if isinstance(record, InstructionRecord):
            msgs.append({"role": "assistant", "content": self._clean(record.output, "output")})
        self._count_escape(record)
        return msgs

    def prompt_messages(self, record) -> list[dict]:
        """System + user turn of a preference or instruction record (conversational preference)."""
        lang, strings = self.choose(record)
        msgs = self._messages(record, strings, lang, chat=True)
        self._count_escape(record)
        return msgs

    def clean(self, text: str, field: str) -> str:
        return self._clean(text, field)

    def _count_escape(self, record) -> None:
        if self._escaped_this_row and self._counted is not record:  # once per record, however many views
            self.escaped_rows += 1
            self._counted = record


def _plain_turns(messages: list[dict], tools, field: str) -> None:
    """Templates here render role and text only: a row with tool calls, tool results or tools is
    refused rather than written without them."""
    if tools or any(len(m) != 2 for m in messages):
        raise RowError("has tool calls, tool results, tool definitions or other message fields, which format's"
                       " templates do not render; use `dataforge convert --to trl-chat` (TRL applies the model's"
                       " chat template with tools=) or format --to openai", field)


def _render_tokenizer_template(tok, messages: list[dict], add_generation_prompt: bool) -> str:
    """The model's chat template in the bounded sandbox; a failure rejects this row only."""
    import jinja2

    from dataforge.templates.chat import TemplateRaised, render_chat
    from dataforge.templates.limits import TemplateLimitError
    from dataforge.templates.render import LimitRowError

    try:
        return render_chat(tok, messages, add_generation_prompt)
    except TemplateRaised as exc:
        raise RowError(f"the tokenizer's chat template refused this row: {exc}") from None
    except TemplateLimitError as exc:
        raise LimitRowError(exc.row_reason("the tokenizer's chat template")) from None
    except jinja2.UndefinedError as exc:  # e.g. "'sytem_prompt' is undefined", first: the summary groups by it
        raise RowError(f"{exc.message} in the tokenizer's chat template") from None
    except Exception as exc:  # noqa: BLE001 - a template failing on a row rejects that row
        raise RowError(f"the tokenizer's chat template failed: {type(exc).__name__}: {exc}") from None


def _adds_bos(tok) -> bool:
    """Does this tokenizer put a BOS in front when asked to add special tokens?"""
    if tok is None or tok.bos_token_id is None:
        return False
    try:
        ids = tok("a", add_special_tokens=True)["input_ids"]
    except Exception:  # noqa: BLE001
        return False
    return bool(ids) and ids[0] == tok.bos_token_id
