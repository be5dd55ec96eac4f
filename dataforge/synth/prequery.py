"""Magpie's pre-query templates: the text of a chat up to where the user's message begins.

An aligned model that is given only this text (through the completions
endpoint, no chat formatting by the server) goes on as the user would and
writes an instruction. The template comes from

- a tokenizer folder (`--tokenizer DIR`): its chat template (tokenizer_config.json's
  `chat_template`, or `chat_template.jinja` as newer transformers save it) is
  rendered with a sentinel user message, with the same Jinja2 settings as
  transformers' `apply_chat_template`, and cut before the sentinel; the text
  after the sentinel names the end-of-turn token (the stop string);
- a named chat format (`--template llama3|chatml|qwen2|mistral|gemma|phi3`),
  written out below from the models' own chat templates (sources noted).

Servers add the BOS token themselves when they tokenize a prompt (vLLM,
llama.cpp and TGI all do), so a leading BOS is left out unless `keep_bos`:
sent as text it would be there twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.errors import ConfigError, InputError

SENTINEL = "\u2063dataforge-magpie-sentinel\u2063"  # text no chat template writes on its own


@dataclass(frozen=True)
class _Named:
    bos: str
    user: str  # start of a user turn
    user_end: str  # end of a user turn
    assistant: str  # start of an assistant turn
    system: str | None  # system turn with {s}; None: the system text goes before the first user message
    stop: tuple[str, ...]
    special: tuple[str, ...]  # tokens that must never appear in an instruction
    default_system: str = ""
    source: str = ""


NAMED = {
    "llama3": _Named(
        "<|begin_of_text|>", "<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>",
        "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|start_header_id|>system<|end_header_id|>\n\n{s}<|eot_id|>",
        ("<|eot_id|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>"),
        ("<|begin_of_text|>", "<|eom_id|>", "<|python_tag|>", "<|finetune_right_pad_id|>"),
        source="Meta-Llama-3(.1)-Instruct tokenizer_config.json; stop tokens as in magpie-align/magpie "
               "configs/model_configs.json"),
    "chatml": _Named(
        "", "<|im_start|>user\n", "<|im_end|>\n", "<|im_start|>assistant\n", "<|im_start|>system\n{s}<|im_end|>\n",
        ("<|im_end|>", "<|im_start|>", "<|endoftext|>"), (),
        source="ChatML (OpenAI); Qwen/Yi/Hermes tokenizers; magpie-align/magpie Qwen2 config"),
    "qwen2": _Named(
        "", "<|im_start|>user\n", "<|im_end|>\n", "<|im_start|>assistant\n", "<|im_start|>system\n{s}<|im_end|>\n",
        ("<|im_end|>", "<|im_start|>", "<|endoftext|>"), (), default_system="You are a helpful assistant.",
        source="Qwen2-Instruct tokenizer_config.json (ChatML with its default system turn; Magpie's own Qwen2 "
               "config leaves that turn out: use chatml for that)"),
    "mistral": _Named(
        "<s>", "[INST] ", "[/INST]", "", None, ("</s>", "[INST]", "[/INST]"), ("<s>",),
        source="Mistral-7B-Instruct-v0.3 tokenizer_config.json (no system role: it is put before the message)"),
    "gemma": _Named(
        "<bos>", "<start_of_turn>user\n", "<end_of_turn>\n", "<start_of_turn>model\n", None,
        ("<end_of_turn>", "<start_of_turn>", "<eos>"), ("<bos>",),
        source="gemma-2-it tokenizer_config.json (no system role: it is put before the message, as gemma-3 does)"),
    "phi3": _Named(
        "<s>", "<|user|>\n", "<|end|>\n", "<|assistant|>\n", "<|system|>\n{s}<|end|>\n",
        ("<|end|>", "<|user|>", "<|assistant|>", "<|endoftext|>"), ("<|system|>", "<s>", "</s>"),
        source="Phi-3-mini-instruct tokenizer_config.json; magpie-align/magpie phi3 config"),
}


@dataclass
class PreQuery:
    """What Magpie sends and checks for one chat format."""

    name: str  # the named format, or the tokenizer folder
    text: str  # the pre-query string sent as the prompt
    stop: list[str]
    special: list[str] = field(default_factory=list)  # in an instruction = a template leak
    _full: object = None  # instruction -> the whole prompt up to the assistant's answer

    def answer_prompt(self, instruction: str) -> str:
        return self._full(instruction)

    def leak(self, text: str) -> str | None:
        """The first special token of the template found in `text`, or None."""
        return next((tok for tok in self.special if tok and tok in text), None)


def named(name: str, system: str | None = None, keep_bos: bool = False) -> PreQuery:
    if name not in NAMED:
        raise ConfigError(f"unknown --template '{name}'", f"use one of: {', '.join(NAMED)}, or --tokenizer DIR")
    t = NAMED[name]
    system = system if system is not None else (t.default_system or None)
    head = t.bos if keep_bos else ""
    before_user = ""
    if system and t.system is not None:
        head += t.system.format(s=system)
    elif system:
        before_user = f"{system}\n\n"
    text = head + t.user + before_user

    def full(instruction: str) -> str:
        return text + instruction + t.user_end + t.assistant

    markers = {t.bos, t.user.strip(), t.user_end.strip(), t.assistant.strip()}
    special = _ordered([*t.stop, *t.special, *(m for m in markers if _looks_special(m))])
    return PreQuery(name, text, list(t.stop), special, full)


def _looks_special(text: str) -> bool:
    return len(text) > 2 and (text.startswith("<") and text.endswith(">") or text.startswith("[") and text.endswith("]"))


def _ordered(items) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _token_text(value) -> str:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else ""


def from_tokenizer(folder: str | Path, system: str | None = None, keep_bos: bool = False) -> PreQuery:
    """The pre-query template of the chat template in a tokenizer (or model) folder."""
    folder = Path(folder)
    config_path = folder / "tokenizer_config.json"
    if not folder.is_dir():
        raise InputError(f"--tokenizer {folder}: not a folder", "pass the model's (or tokenizer's) folder")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
    except (OSError, ValueError) as exc:
        raise InputError(f"{config_path}: cannot read it as JSON ({exc})") from None
    if not isinstance(config, dict):
        raise InputError(f"{config_path}: not a JSON object")
    template = config.get("chat_template")
    jinja_file = folder / "chat_template.jinja"
    if jinja_file.exists():  # transformers >= 4.43 saves the template there
        template = jinja_file.read_text(encoding="utf-8")
    if isinstance(template, list):  # [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
        template = next((t.get("template") for t in template if isinstance(t, dict) and t.get("name") == "default"),
                        None)
    if not isinstance(template, str) or not template.strip():
        raise InputError(f"--tokenizer {folder}: no chat template (tokenizer_config.json's chat_template or "
                         "chat_template.jinja)", "a base model has none: use an instruction-tuned one, or --template")
    tokens = {k: _token_text(config.get(k)) for k in ("bos_token", "eos_token", "unk_token", "pad_token")}
    special = _special_tokens(folder, config)
    render = _renderer(template, tokens, folder)
    head = [{"role": "system", "content": system}] if system else []
    convo = render(head + [{"role": "user", "content": SENTINEL}], False)
    at = convo.find(SENTINEL)
    if at < 0:
        raise InputError(f"--tokenizer {folder}: the chat template does not write the user's message",
                         "use --template NAME instead")
    text, after = convo[:at], convo[at + len(SENTINEL):]
    bos = tokens["bos_token"]
    if bos and text.startswith(bos) and not keep_bos:
        text = text[len(bos):]
    # the end-of-turn token: the first special token after the message, else what the template writes there
    specials = _ordered([*special, bos, tokens["eos_token"]])
    ends = sorted((after.find(t), t) for t in specials if t in after)
    end = ends[0][1] if ends else after.strip()
    starts = [t for t in specials if t in text and t != bos]  # a new turn starting is the end of the instruction
    stop = _ordered([end, tokens["eos_token"], *starts])

    def full(instruction: str) -> str:
        prompt = render(head + [{"role": "user", "content": instruction}], True)
        return prompt[len(bos):] if bos and prompt.startswith(bos) and not keep_bos else prompt

    return PreQuery(str(folder), text, stop, _ordered([*specials, *stop]), full)


def _special_tokens(folder: Path, config: dict) -> list[str]:
    """Special tokens named by tokenizer_config.json (added_tokens_decoder, additional/extra_special_tokens,
    as transformers 4 and 5 write them) and tokenizer.json's added tokens."""
    found = [v for v in (config.get("added_tokens_decoder") or {}).values() if isinstance(v, dict) and v.get("special")]
    for key in ("additional_special_tokens", "extra_special_tokens"):
        value = config.get(key) or []
        found += list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, list) else []
    tokenizer_json = folder / "tokenizer.json"
    if tokenizer_json.exists():
        try:
            added = json.loads(tokenizer_json.read_text(encoding="utf-8")).get("added_tokens") or []
        except (OSError, ValueError, AttributeError):
            added = []
        found += [t for t in added if isinstance(t, dict) and t.get("special")]
    return [t for t in map(_token_text, found) if t]


def _renderer(template: str, tokens: dict, folder: Path):
    """render(messages, add_generation_prompt) with transformers' settings for chat templates."""
    from datetime import datetime

    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    try:
        compiled = env.from_string(template)
    except jinja2.TemplateError as exc:
        raise InputError(f"--tokenizer {folder}: the chat template does not parse ({exc})") from None

    def render(messages, add_generation_prompt: bool) -> str:
        try:
            return compiled.render(messages=messages, add_generation_prompt=add_generation_prompt, **tokens)
        except jinja2.TemplateError as exc:
            raise InputError(f"--tokenizer {folder}: the chat template failed: {exc}",
                             "without --system, or with --template NAME") from None

    return render
