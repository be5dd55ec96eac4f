"""The local backend: a sequence-to-sequence translation model folder, run in this process.

    dataforge translate data.jsonl -o es.jsonl --to es --backend transformers --model ./opus-mt-en-es

Three families are recognised from the folder, each told the languages its own way:

- Marian (opus-mt): `model_type` "marian". A multi-target model has `>>spa<<`-style tokens in its
  vocabulary and gets one prefixed to every input; a single-pair model must match the pair asked for.
- NLLB-200: `model_type` "m2m_100" with FLORES-200 codes (`spa_Latn`) in the vocabulary; the source
  is set on the tokenizer, the target is forced as the first generated token.
- M2M-100: `model_type` "m2m_100" with `__es__` tokens; the same, with ISO codes.

Machine-translation models translate sentences, not documents, so each field is
cut at line breaks (and very long lines at sentence ends), translated in
batches sorted by length, and put back together with its blank lines and
indentation. Protected spans travel as `⟦n⟧` tokens when the tokenizer can
spell them; otherwise (and on the retry of a row whose tokens were mangled) the
text between protected spans is translated piece by piece, which keeps every
span by construction. torch and transformers are imported only here, lazily.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

from dataforge.errors import ConfigError, InputError, require
from dataforge.llm import ChatRequest, Completion, LLMError, Usage
from dataforge.llm.gather import GatherQueue
from dataforge.translate import langs
from dataforge.translate.batching import Item
from dataforge.translate.protect import TOKEN_PATTERN as _TOKEN

FAMILIES = ("marian", "nllb", "m2m100")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
MAX_LINE_CHARS = 600


def detect_family(model_dir: Path) -> str:
    """'marian', 'nllb' or 'm2m100' from the folder's config and tokenizer files."""
    config_path = model_dir / "config.json"
    if not config_path.is_file():
        raise InputError(f"{model_dir}: no config.json, so this is not a model folder",
                         "pass the folder that save_pretrained() wrote (config.json, weights, tokenizer files)")
    model_type = json.loads(config_path.read_text(encoding="utf-8")).get("model_type", "")
    if model_type == "marian":
        return "marian"
    if model_type == "m2m_100":
        tok_cfg = model_dir / "tokenizer_config.json"
        text = tok_cfg.read_text(encoding="utf-8") if tok_cfg.is_file() else ""
        tok_json = model_dir / "tokenizer.json"
        if "Nllb" in text or "eng_Latn" in text or (tok_json.is_file() and "eng_Latn" in tok_json.read_text(
                encoding="utf-8", errors="replace")):
            return "nllb"
        return "m2m100"
    raise ConfigError(f"{model_dir}: model type '{model_type or '?'}' is not a translation model dataforge knows",
                      "use a Marian (opus-mt), NLLB-200 or M2M-100 folder, or --backend openai")


def _fingerprint(path: Path) -> str:
    """A short hash of the config and the weight files' names and sizes: a changed model, a new journal key."""
    import hashlib

    h = hashlib.blake2b(digest_size=4)
    h.update((path / "config.json").read_bytes())
    for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    return h.hexdigest()


class Seq2SeqBackend:
    """A local translation model behind the LLM layer's `complete(request)` protocol.

    Requests that arrive together (the runner's window) are translated in one pass:
    their segments are pooled per language pair, sorted by length and generated
    `batch_size` at a time in a worker thread while the event loop keeps going.
    """

    name = "transformers"

    def __init__(self, model_dir: str, *, batch_size: int = 16, max_new_tokens: int = 256, num_beams: int = 1,
                 device: str | None = None):
        self.path = Path(model_dir)
        if not self.path.is_dir():
            raise InputError(f"--model {model_dir}: no such folder",
                             "--backend transformers needs a local model folder (nothing is downloaded)")
        _check_files(self.path)
        self.model = f"{self.path.name}@{_fingerprint(self.path)}"  # journal key and meta: name + content
        self.family = detect_family(self.path)
        self.batch_size, self.max_new_tokens, self.num_beams = max(1, batch_size), max_new_tokens, num_beams
        self.generate_calls = 0
        self.segments = 0
        # the runner's window, translated in one pass (llm/gather.py, shared with the chat backend)
        self._gather = GatherQueue(self._run_batch, what="translation", settle=0.005)
        torch = require("torch", feature="--backend transformers")
        transformers = require("transformers", feature="--backend transformers")
        self._torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        transformers.utils.logging.set_verbosity_error()  # our bar, not per-shard loading bars
        transformers.utils.logging.disable_progress_bar()
        self.tokenizer, self._model = _load(transformers, self.path, self.device)
        self._model.generation_config.max_length = None  # max_new_tokens decides
        self.tokens_ok = self._spells_tokens()

    def describe(self) -> str:
        return f"{self.model} (local {self.family}, batch {self.batch_size})"

    def make_request(self, items: list[Item], source: str, target: str, reminder: str = "") -> ChatRequest:
        """The request this backend reads: the rows as JSON plus the language pair.

        An ordinary ChatRequest, so the LLM layer's journal, resume and retries apply to the
        local model too; the generation settings are in `params`, so changing them changes the
        hash. A retry (reminder set) asks for piece-by-piece mode.
        """
        payload = {"from": source, "to": target, "pieces": bool(reminder),
                   "items": [{"id": it.id, **it.fields} for it in items]}
        return ChatRequest([{"role": "user", "content": json.dumps(payload, ensure_ascii=False)}],
                           params={"task": "translate", "num_beams": self.num_beams,
                                   "max_new_tokens": self.max_new_tokens})

    # -- languages ----------------------------------------------------------------------------
    def check_target(self, target: str) -> None:
        """ConfigError before any work when the model cannot write `target`."""
        self._target_setup(target)

    def _vocab(self) -> dict:
        return self.tokenizer.get_vocab()

    def _source_code(self, source: str) -> str:
        if self.family in ("nllb", "m2m100") and not source:
            raise ConfigError(f"the row's source language could not be detected and {self.family} needs it",
                              "pass --from LANG (the language of the input)")
        if self.family == "nllb":
            code = langs.nllb_code(source)
            if code not in self._vocab():
                raise ConfigError(f"this NLLB model has no source language {code}", "check --from")
            return code
        if self.family == "m2m100":
            code = langs.m2m_code(source)
            if code not in getattr(self.tokenizer, "lang_code_to_id", {}):
                raise ConfigError(f"this M2M-100 model has no language '{code}'", "check --from")
            return code
        known = _pair_side(self.tokenizer, "source_lang")
        if known and source and langs.normalize(known) != source:
            raise ConfigError(f"this Marian model translates from '{known}', not '{source}'",
                              "use a model for the input's language, or --from to say what it is")
        return source

    def _target_setup(self, target: str) -> dict:
        """Generation settings for a target: a text prefix (Marian) or a forced first token."""
        vocab = self._vocab()
        if self.family == "marian":
            codes = [t for t in vocab if t.startswith(">>") and t.endswith("<<")]
            if codes:
                for cand in langs.marian_tokens(target):
                    if cand in vocab:
                        return {"prefix": cand + " "}
                raise ConfigError(f"this Marian model has no target token for '{target}'",
                                  f"its targets: {', '.join(sorted(codes)[:40])}")
            known = _pair_side(self.tokenizer, "target_lang")
            if known and langs.normalize(known) != target:
                raise ConfigError(f"this Marian model translates into '{known}', not '{target}'",
                                  "Marian models are one language pair each: use the model for this target")
            return {}
        if self.family == "nllb":
            code = langs.nllb_code(target)
            if code not in vocab:
                raise ConfigError(f"this NLLB model has no target language {code}", "check --to")
            return {"forced_bos_token_id": self.tokenizer.convert_tokens_to_ids(code)}
        code = langs.m2m_code(target)
        if code not in getattr(self.tokenizer, "lang_code_to_id", {}):
            raise ConfigError(f"this M2M-100 model has no language '{code}'", "check --to")
        return {"forced_bos_token_id": self.tokenizer.get_lang_id(code)}

    def _spells_tokens(self) -> bool:
        probe = "a ⟦1⟧ b ⟦2⟧"
        ids = self.tokenizer(probe, add_special_tokens=False)["input_ids"]
        back = self.tokenizer.decode(ids, skip_special_tokens=True)
        return "⟦1⟧" in back and "⟦2⟧" in back

    # -- the LLM layer's protocol ----------------------------------------------------------------
    async def complete(self, request: ChatRequest) -> Completion:
        try:
            payload = json.loads(request.messages[-1]["content"])
            payload["items"], payload["to"]  # noqa: B018 - shape check
        except (ValueError, KeyError, TypeError, IndexError):
            raise LLMError("not a translation request (the local translation backend serves only"
                           " dataforge translate)") from None
        return await self._gather.submit(payload)

    def _run_batch(self, payloads: list[dict]) -> list:
        groups: dict[tuple[str, str], list[int]] = {}
        for i, p in enumerate(payloads):
            groups.setdefault((p.get("from") or "", p["to"]), []).append(i)
        outs: list = [None] * len(payloads)
        for (source, target), idx in groups.items():
            try:
                results = self._translate_payloads([payloads[i] for i in idx], source, target)
            except ConfigError as exc:  # this pair cannot be done by this model: those rows fail with why
                results = [LLMError(f"{exc.message} ({exc.hint})" if exc.hint else exc.message)] * len(idx)
            for i, res in zip(idx, results):
                outs[i] = res
        return outs

    def _translate_payloads(self, payloads: list[dict], source: str, target: str) -> list[Completion]:
        layouts = []
        todo: list[_Seg] = []
        for p in payloads:
            by_pieces = bool(p.get("pieces")) or not self.tokens_ok
            rows = []
            for item in p["items"]:
                fields = {k: _layout(v, by_pieces) for k, v in item.items() if k != "id"}
                for layout in fields.values():
                    todo.extend(seg for seg in layout if isinstance(seg, _Seg))
                rows.append((item["id"], fields))
            layouts.append(rows)
        done, usage = self.translate_texts([seg.text for seg in todo], source, target) if todo else ([], Usage())
        for seg, out in zip(todo, done):
            seg.out = out
        completions = []
        for rows in layouts:
            reply = [{"id": row_id, **{k: _join(layout) for k, layout in fields.items()}} for row_id, fields in rows]
            share = Usage(usage.prompt_tokens // len(layouts), usage.completion_tokens // len(layouts))
            completions.append(Completion(json.dumps(reply, ensure_ascii=False), "stop", share, self.model))
        return completions

    def translate_texts(self, texts: list[str], source: str, target: str) -> tuple[list[str], Usage]:
        """Plain texts in, translations out (same order), generated in length-sorted batches."""
        setup = self._target_setup(target)
        prefix = setup.pop("prefix", "")
        if self.family in ("nllb", "m2m100"):
            self.tokenizer.src_lang = self._source_code(source)
        else:
            self._source_code(source)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[str] = [""] * len(texts)
        usage = Usage()
        torch = self._torch
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            enc = self.tokenizer([prefix + texts[i] for i in idx], return_tensors="pt", padding=True,
                                 truncation=True, max_length=512).to(self.device)
            with torch.inference_mode():
                gen = self._model.generate(**enc, max_new_tokens=self.max_new_tokens, num_beams=self.num_beams,
                                           do_sample=False, **setup)
            self.generate_calls += 1
            self.segments += len(idx)
            usage.add(Usage(int(enc["attention_mask"].sum()), int(gen.numel())))
            for i, text in zip(idx, self.tokenizer.batch_decode(gen, skip_special_tokens=True)):
                out[i] = text.strip()
        return out, usage


class _Seg:
    """A piece of text to translate, with the whitespace around it kept aside."""

    __slots__ = ("text", "lead", "trail", "out")

    def __init__(self, raw: str):
        stripped = raw.strip()
        start = raw.find(stripped) if stripped else 0
        self.lead, self.text, self.trail = raw[:start], stripped, raw[start + len(stripped):]
        self.out = ""


def _join(layout: list) -> str:
    return "".join(part if isinstance(part, str) else part.lead + part.out + part.trail for part in layout)


def _layout(text: str, by_pieces: bool) -> list:
    """The text as kept strings and _Seg pieces to translate (lines, long lines cut at sentence ends)."""
    out: list = []
    for line in text.splitlines(keepends=True):
        chunks = [line] if len(line) <= MAX_LINE_CHARS else _SENTENCE_END.split(line)
        for i, chunk in enumerate(chunks):
            if i:
                out.append(" ")
            pieces = _split_tokens(chunk) if by_pieces else [chunk]
            for piece in pieces:
                prose = _TOKEN.sub("", piece)
                out.append(_Seg(piece) if any(ch.isalpha() for ch in prose) else piece)
    return out


def _split_tokens(text: str) -> list[str]:
    """Text split so that every ⟦n⟧ token is a piece of its own."""
    out, pos = [], 0
    for m in _TOKEN.finditer(text):
        if m.start() > pos:
            out.append(text[pos:m.start()])
        out.append(m.group(0))
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def _pair_side(tokenizer, attr: str) -> str:
    value = getattr(tokenizer, attr, None) or (getattr(tokenizer, "init_kwargs", {}) or {}).get(attr)
    return str(value) if value else ""


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "source.spm", "sentencepiece.bpe.model",
                   "spiece.model", "vocab.json")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")


HINT = ("--backend transformers needs a folder saved with save_pretrained (model and tokenizer):"
        " a Marian (opus-mt), NLLB-200 or M2M-100 model")


def _check_files(path: Path) -> None:
    """A folder without tokenizer files or weights is named before torch is even imported."""
    missing = []
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        missing.append("tokenizer files (e.g. " + ", ".join(TOKENIZER_FILES[:3]) + ")")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        missing.append("weights (model.safetensors or pytorch_model.bin)")
    if missing:
        raise InputError(f"--model {path}: cannot load a translation model: no {' and no '.join(missing)}"
                         " in the folder", HINT)


def _load(transformers, path: Path, device: str):
    """The tokenizer and model of a local folder; one transformers cannot load is an InputError naming the
    folder and what went wrong (transformers raises TypeError, OSError, ValueError... for these)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "install sacremoses": Marian works without it
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
            model = transformers.AutoModelForSeq2SeqLM.from_pretrained(str(path)).to(device).eval()
    except (OSError, ValueError, TypeError, KeyError, AttributeError, ImportError) as exc:
        raise InputError(f"--model {path}: cannot load the model or its tokenizer:"
                         f" {type(exc).__name__}: {' '.join(str(exc).split())[:300]}", HINT) from exc
    return tokenizer, model
