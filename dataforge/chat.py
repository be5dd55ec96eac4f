"""Trying what you trained: answers from a model and its adapters, prompted as training prompted them.

    >>> from dataforge.chat import Chat, chat_file
    >>> chat = Chat("models/tiny", adapters=["out/lora-a", "out/lora-b"])        # doctest: +SKIP
    >>> chat.reply("Reverse the order of these three words.\\n\\nred green blue")  # doctest: +SKIP
    >>> chat.reply("...", adapter="lora-b")                                        # doctest: +SKIP
    >>> chat_file("models/tiny", "prompts.jsonl", "answers.jsonl", adapters=["out/lora-a"])  # doctest: +SKIP

Each prompt is rendered with the template its model was trained with, read
from the training output folder (`dataforge_train.json`: template, language,
EOS rule), through the same code `dataforge eval` uses (eval/scoring.py), so
what you try is what training taught. The base model is loaded once and
frozen; every adapter is attached to it under its own name (peft
`load_adapter`) and selected per request with `set_adapter`: many light
adapters on one base. The name "base" means the base with adapters disabled.

Generation is greedy unless a temperature is given. Adapters and the base
are checked against each other before any weight is loaded (eval/models.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from dataforge.errors import ConfigError, DataforgeError, InputError
from dataforge.eval.models import (
    AdapterSet,
    check_model_dir,
    device_and_dtype,
    inspect_adapter,
    load_causal_lm,
    model_shapes,
    read_json,
    train_record,
    unique_names,
)
from dataforge.records import ConversationRecord, InstructionRecord

BASE = "base"  # the request name of the base model with every adapter disabled
_PROBE = "XQZANSWERZQX"  # a stand-in answer: only the prompt part of the rendering is used


def _split_spec(spec: str) -> tuple[str | None, str]:
    """`NAME=PATH` -> (NAME, PATH); a plain path (even one holding '=') -> (None, PATH)."""
    name, sep, path = str(spec).partition("=")
    if sep and name and not Path(spec).exists() and all(c.isalnum() or c in "_-" for c in name):
        return name, path
    return None, str(spec)


class Chat:
    """One loaded base model with its adapters; `reply` answers one prompt, `replies` a batch."""

    def __init__(self, model, adapters: Iterable[str] = (), *, template: str | None = None, use: str | None = None,
                 max_new_tokens: int = 128, batch_size: int = 8, temperature: float = 0.0, top_p: float = 1.0,
                 seed: int = 0, device: str | None = None):
        if max_new_tokens < 1 or batch_size < 1:
            raise ConfigError("--max-new-tokens and --batch-size must be at least 1")
        if temperature < 0 or not 0 < top_p <= 1:
            raise ConfigError("--temperature must be 0 (greedy) or more, and --top-p in (0, 1]")
        self.model_dir = check_model_dir(model)
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        self.temperature, self.top_p, self.seed = temperature, top_p, seed
        specs = [_split_spec(a) for a in adapters]
        paths = [p for _, p in specs]
        names = [given or auto for (given, _), auto in zip(specs, unique_names(paths))]
        if len(set(names)) != len(names) or BASE in names:
            raise ConfigError(f"--adapter names must be unique and not '{BASE}' (got: {', '.join(names)})",
                              "name them: -a NAME=PATH")
        base_cfg = read_json(self.model_dir / "config.json")
        shapes = model_shapes(self.model_dir)
        self.adapters = [inspect_adapter(p, self.model_dir, base_cfg, shapes, n) for p, n in zip(paths, names)]
        self.notes = [n for a in self.adapters for n in a.notes]
        self.current = use or (names[0] if names else BASE)
        self._check_name(self.current, "--use")
        self._setup_templates(template)
        self.device, dtype = device_and_dtype(device)
        self.holder = AdapterSet(load_causal_lm(self.model_dir, self.device, dtype), self.adapters)
        self.max_positions = base_cfg.get("max_position_embeddings") or base_cfg.get("n_positions")

    # ----- names and templates ---------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [BASE] + [a.name for a in self.adapters]

    def _check_name(self, name: str, flag: str) -> None:
        if name not in self.names:
            raise ConfigError(f"{flag} {name}: no such adapter loaded", f"choose one of: {', '.join(self.names)}")

    def _setup_templates(self, template: str | None) -> None:
        """Per name: the training options (template, lang, EOS) and where they were read from."""
        from dataforge.eval.scoring import Renderer, default_template, options_from_record
        from dataforge.train.run import RECORD, load_tokenizer

        self.tok = load_tokenizer(self.model_dir)
        # Each answers as it was trained: an adapter by its own record, the base (and an adapter
        # without one) by the model folder's record, else the tokenizer's default. Never another
        # adapter's: what loads alongside must not change an answer.
        own = (train_record(self.model_dir), self.model_dir)
        sources = {BASE: own}
        sources.update({a.name: (a.record, a.path) if a.record else own for a in self.adapters})
        self.renderers, self.template_source, cache = {}, {}, {}
        for name, (record, where) in sources.items():
            options = options_from_record(record, template or (None if record else default_template(self.tok)))
            key = options.model_dump_json()
            if key not in cache:
                cache[key] = Renderer(self.tok, options, self.model_dir)
            self.renderers[name] = cache[key]
            if template:
                how = "set with --template"
            elif record and name != BASE and where == self.model_dir:
                how = f"the adapter has no training record; the model's, from {Path(where) / RECORD}"
            elif record:
                how = f"as trained, from {Path(where) / RECORD}"
            else:
                how = "no training record found: the model's default"
            self.template_source[name] = f"{options.template} ({how})"

    def use(self, name: str) -> None:
        """Make `name` (an adapter, or "base") the one requests without an adapter go to."""
        self._check_name(name, "adapter")
        self.current = name

    # ----- prompts and answers -----------------------------------------------------------------
    def prompt_ids(self, record, adapter: str | None = None) -> list[int]:
        """Token ids of the prompt as training rendered it (raises RenderError / InputError)."""
        ids = self.renderers[adapter or self.current].render(_with_probe(record)).prompt_ids
        if self.max_positions and len(ids) >= self.max_positions:
            raise InputError(f"the prompt is {len(ids)} tokens, the model has {self.max_positions} positions")
        return ids

    def prompt_text(self, record, adapter: str | None = None) -> str:
        """The rendered prompt as text (what the model sees)."""
        return self.tok.decode(self.prompt_ids(record, adapter))

    def reply(self, text: str, *, context: str = "", adapter: str | None = None) -> str:
        return self.replies([InstructionRecord(instruction=text, context=context, output="")], adapter=adapter)[0]

    def replies(self, records: list, *, adapter: str | None = None) -> list[str]:
        """Answers for records (instruction or chat) from one adapter (default: the current one)."""
        name = adapter or self.current
        self._check_name(name, "adapter")
        prompts = [self.prompt_ids(r, name) for r in records]
        return self._generate(prompts, name)

    def _generate(self, prompts: list[list[int]], name: str) -> list[str]:
        from dataforge.eval.scoring import Rendered, generate

        renderer = self.renderers[name]
        with self.holder.use(None if name == BASE else name) as net:
            if not self.temperature:  # greedy: exactly what `dataforge eval` generates
                rows = [Rendered(p, p, []) for p in prompts]
                return generate(net, renderer, rows, max_new_tokens=self.max_new_tokens,
                                batch_size=self.batch_size, device=self.device, max_positions=self.max_positions)
            return [self._sample(net, renderer, p) for p in prompts]

    def _sample(self, net, renderer, prompt: list[int]) -> str:
        """One sampled answer (one row at a time: no padding to reason about)."""
        import torch
        from transformers import GenerationConfig

        torch.manual_seed(self.seed)
        room = self.max_new_tokens
        if self.max_positions:
            room = max(1, min(room, self.max_positions - len(prompt)))
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else self.tok.eos_token_id
        config = GenerationConfig(max_new_tokens=room, do_sample=True, temperature=self.temperature,
                                  top_p=self.top_p, pad_token_id=pad, eos_token_id=sorted(renderer.stop_ids) or None)
        ids = torch.tensor([prompt], device=self.device)
        with torch.inference_mode():
            out = net.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config)
        return renderer.clean(out[0, len(prompt):].tolist())


def _with_probe(record):
    """The record with a stand-in final answer, so the renderer's training rules apply to the prompt."""
    if isinstance(record, ConversationRecord):
        msgs = list(record.messages)
        if msgs and msgs[-1].get("role") == "assistant":
            msgs = msgs[:-1]
        return ConversationRecord(messages=msgs + [{"role": "assistant", "content": _PROBE}], id=record.id,
                                  lang=record.lang, meta=record.meta)
    return InstructionRecord(instruction=record.instruction, context=record.context, output=_PROBE, id=record.id,
                             lang=record.lang, meta=record.meta)


# ----- the interactive prompt ------------------------------------------------------------------
HELP = ("one line = one request (no history is kept); commands: /adapter NAME (switch; 'base' = the model "
        "without adapters), /adapters (list), /template (show the next request's rendered prompt), /help, /quit")


def interact(chat: Chat, lines: Iterable[str], say: Callable[[str], None], note: Callable[[str], None],
             ask: Callable[[], None] = lambda: None) -> int:
    """Answer each line from `lines` with `say`; commands and messages go to `note`. Returns answers given."""
    answered, show_prompt = 0, False
    ask()
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            ask()
            continue
        if line.startswith("/"):
            cmd, _, arg = line[1:].strip().partition(" ")
            if cmd in ("quit", "exit", "q"):
                break
            if cmd == "adapter" and arg.strip():
                try:
                    chat.use(arg.strip())
                    note(f"using {chat.current}: template {chat.template_source[chat.current]}")
                except ConfigError as exc:
                    note(f"{exc.message}; {exc.hint}")
            elif cmd in ("adapter", "adapters"):
                note(", ".join(f"{n}{' (in use)' if n == chat.current else ''}" for n in chat.names))
            elif cmd == "template":
                show_prompt = True
                note("the next request's rendered prompt will be shown")
            else:
                note(HELP)
            ask()
            continue
        record = InstructionRecord(instruction=line, output="")
        try:
            if show_prompt:
                note("prompt: " + repr(chat.prompt_text(record)))
                show_prompt = False
            say(chat.replies([record])[0])
            answered += 1
        except DataforgeError as exc:  # a prompt the template refuses or too long: say so and go on
            note(f"cannot answer: {exc.message}")
        ask()
    return answered


# ----- batch: a file of prompts in, a file of answers out --------------------------------------
_PROMPT_KEYS = ("messages", "instruction", "prompt", "question")
_ANSWER_KEYS = ("output", "response", "completion", "answer")


@dataclass
class ChatFileResult:
    output: Path
    read: int
    written: int
    rejected: int
    by_adapter: dict
    rejects: Path | None = None

    def line(self) -> str:
        per = ", ".join(f"{n}: {c}" for n, c in self.by_adapter.items())
        out = f"{self.read} prompts read, {self.written} answered ({per}) -> {self.output}"
        if self.rejected:
            out += f"; {self.rejected} rejected -> {self.rejects}"
        return out


def _request(row: dict) -> tuple[object, dict, str | None]:
    """(record, the row's prompt fields to keep, reference or None); ValueError says what is missing."""
    from dataforge.records import content_id

    rid = row.get("id")
    rid = str(rid) if isinstance(rid, (str, int)) and not isinstance(rid, bool) and str(rid) != "" else ""
    reference = next((row[k] for k in _ANSWER_KEYS if isinstance(row.get(k), str)), None)
    if "messages" in row:
        from dataforge.io import RowError
        from dataforge.io.chat import chat_to_record

        msgs = row["messages"]
        if not isinstance(msgs, list) or not msgs or not all(
                isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
                for m in msgs):
            raise ValueError("'messages' must be a list of {role, content} texts")
        msgs = [{"role": m["role"], "content": m["content"]} for m in msgs]
        if msgs[-1]["role"] == "assistant":  # a chat with its answer: the answer is the reference
            reference, msgs = msgs[-1]["content"], msgs[:-1]
        if not msgs or msgs[-1]["role"] != "user":
            raise ValueError("the chat does not end with a user turn to answer")
        try:  # one exchange becomes an instruction record, as the readers make it for training
            record = chat_to_record(msgs + [{"role": "assistant", "content": _PROBE}],
                                    {"id": rid or content_id("c", msgs), "meta": {}}, "messages")
        except RowError as exc:
            raise ValueError(exc.reason) from None
        return record, {"messages": msgs}, reference
    key = next((k for k in _PROMPT_KEYS[1:] if isinstance(row.get(k), str) and row[k].strip()), None)
    if key is None:
        raise ValueError("no prompt: the row needs a non-empty 'instruction', 'prompt', 'question' or 'messages'")
    context = row.get("context", row.get("input", ""))
    context = context if isinstance(context, str) else ""
    keep = {key: row[key], "context": context} if key == "instruction" else {key: row[key]}
    record = InstructionRecord(instruction=row[key], context=context, output="", id=rid)
    if not rid:
        record.id = content_id("p", row[key], context)
    return record, keep, reference


def chat_file(model, data, output, *, adapters: Iterable[str] = (), use: str | None = None,
              template: str | None = None, max_new_tokens: int = 128, batch_size: int = 8,
              temperature: float = 0.0, top_p: float = 1.0, seed: int = 0, fmt: str | None = None,
              strict: bool = False, device: str | None = None) -> ChatFileResult:
    """Answer every prompt of `data` into `output` (one row per answered prompt, input ids kept).

    A row's `adapter` column picks the adapter for it ("base": none); otherwise `use`,
    else the first adapter. Unreadable rows, rows without a prompt, unknown adapter names and
    prompts too long for the model go to OUT.rejects.jsonl.
    """
    from dataforge.io import Reject, RejectSink, rejects_path_for, resolve, write_rows
    from dataforge.io.rawread import iter_raw
    from dataforge.io.safety import check_outputs

    adapters = list(adapters)
    check_outputs([output], [str(model), [_split_spec(a)[1] for a in adapters], data], kind="file",
                  labels=["-o"])
    sink = RejectSink(rejects_path_for(output), strict=strict)
    with sink:
        files = resolve(data, fmt)
        requests, read = [], 0
        for df in files:
            for line, row in iter_raw(df):
                read += 1
                where = dict(file=str(df.path), line=line)
                if isinstance(row, Reject):
                    sink.add(row)
                    continue
                try:
                    record, keep, reference = _request(row)
                except ValueError as exc:
                    sink.add(Reject(str(exc), row=row, **where))
                    continue
                name = row.get("adapter") if isinstance(row.get("adapter"), str) and row["adapter"] else None
                requests.append((record, keep, reference, name, row, where))
        if not read:
            raise InputError(f"{data}: no prompts in it", "pass a file of rows with 'instruction' or 'messages'")
        chat = Chat(model, adapters, template=template, use=use, max_new_tokens=max_new_tokens,
                    batch_size=batch_size, temperature=temperature, top_p=top_p, seed=seed, device=device)
        groups: dict[str, list[int]] = {}
        prompts: dict[int, list[int]] = {}
        for i, (record, _, _, name, row, where) in enumerate(requests):
            name = name or chat.current
            if name not in chat.names:
                sink.add(Reject(f"adapter '{name}' is not loaded (loaded: {', '.join(chat.names)})",
                                field="adapter", id=record.id, row=row, **where))
                continue
            try:
                prompts[i] = chat.prompt_ids(record, name)
            except DataforgeError as exc:
                sink.add(Reject(exc.message, id=record.id, row=row, **where))
                continue
            groups.setdefault(name, []).append(i)
        answers: dict[int, tuple[str, str]] = {}
        for name, idx in groups.items():
            for i, answer in zip(idx, chat._generate([prompts[i] for i in idx], name)):
                answers[i] = (name, answer)
        rows = []
        for i in sorted(answers):  # input order
            record, keep, reference, _, _, _ = requests[i]
            out = {"id": record.id, "adapter": answers[i][0], **keep, "answer": answers[i][1]}
            if reference is not None:
                out["reference"] = reference
            rows.append(out)
        if rows:
            write_rows(rows, output)
    if not rows:  # after the sink closed, so the rejects file it names is there
        reasons = ", ".join(f"{k} ({v})" for k, v in sink.by_reason.most_common(3))
        raise InputError(f"no prompt could be answered: {read} read, all rejected: {reasons}",
                         f"see {sink.path} for each row and its reason")
    by_adapter = {n: len(groups[n]) for n in groups}
    return ChatFileResult(Path(output), read, len(rows), sink.count, by_adapter,
                          sink.path if sink.count else None)
