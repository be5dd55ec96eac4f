"""The in-process backend: a local Hugging Face model folder, batched generation.

    >>> backend = TransformersBackend("path/to/model", batch_size=8)     # doctest: +SKIP
    >>> run_requests(requests, backend, "out.journal.sqlite")            # doctest: +SKIP

It speaks the same `complete(request)` protocol as the HTTP backend, so the
runner, journal and validation are shared. Requests arriving together are
gathered into one `generate` call (up to `batch_size`, same sampling
parameters) that runs in a worker thread while the event loop keeps taking
requests (llm/gather.py, shared with the local translation backend). Prompts
go through the tokenizer's own chat template, and the templated text is
tokenized without adding special tokens a second time.
torch and transformers are imported only when the first batch runs.
"""

from __future__ import annotations

import threading
from pathlib import Path

from dataforge.errors import ConfigError, require
from dataforge.llm.gather import GatherQueue
from dataforge.llm.types import ChatRequest, Completion, LLMError, Usage

DEFAULT_NEW_TOKENS = 256


class TransformersBackend:
    name = "transformers"

    def __init__(self, model_dir: str | Path, *, batch_size: int = 8, device: str | None = None,
                 dtype: str = "auto", max_new_tokens: int = DEFAULT_NEW_TOKENS):
        path = Path(model_dir)
        if not (path / "config.json").exists():
            raise ConfigError(f"{model_dir}: not a Hugging Face model folder (no config.json)",
                              "pass --model with the folder saved by save_pretrained")
        self.path = path
        self.model = path.name  # the name recorded in the journal and in meta
        self.batch_size = max(1, batch_size)
        self.device, self.dtype, self.max_new_tokens = device, dtype, max_new_tokens
        self._gather = GatherQueue(self._generate, what="generation", settle=0.01, pick=self._pick)
        self._lock = threading.Lock()
        self._tok = self._lm = None

    def describe(self) -> str:
        return f"{self.model} (local, transformers, batch {self.batch_size})"

    async def complete(self, request: ChatRequest) -> Completion:
        return await self._gather.submit(request)

    @property
    def batches(self) -> int:  # generate() calls so far
        return self._gather.batches

    def _pick(self, queued: list[ChatRequest]) -> list[int]:
        """One generate() call takes requests with the head's sampling parameters, up to batch_size."""
        head = _sampling(queued[0])
        return [i for i, r in enumerate(queued) if _sampling(r) == head][: self.batch_size]

    def _load(self):
        with self._lock:
            if self._lm is None:
                torch = require("torch", feature="--backend transformers")
                transformers = require("transformers", feature="--backend transformers")
                tok = transformers.AutoTokenizer.from_pretrained(str(self.path))
                if not getattr(tok, "chat_template", None):
                    raise LLMError(f"{self.path}: the tokenizer has no chat template", fatal=True)
                tok.padding_side = "left"  # generation continues from the right end
                if tok.pad_token_id is None:
                    tok.pad_token = tok.eos_token
                device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
                dtype = self.dtype
                if dtype == "auto":
                    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
                elif isinstance(dtype, str):
                    dtype = getattr(torch, dtype)
                lm = transformers.AutoModelForCausalLM.from_pretrained(str(self.path), dtype=dtype)
                self._tok, self._lm, self._device = tok, lm.to(device).eval(), device
        return self._tok, self._lm

    def _generate(self, requests: list[ChatRequest]) -> list[Completion]:
        import torch

        tok, lm = self._load()
        texts = [tok.apply_chat_template(r.messages, tokenize=False, add_generation_prompt=True) for r in requests]
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self._device)
        params = requests[0].params
        limit = int(params.get("max_tokens") or self.max_new_tokens)
        temperature = float(params.get("temperature", 1.0))
        kwargs = {"max_new_tokens": limit, "pad_token_id": tok.pad_token_id,
                  "do_sample": temperature > 0}
        if temperature > 0:
            kwargs.update(temperature=temperature, top_p=float(params.get("top_p", 1.0)))
        if params.get("seed") is not None:
            torch.manual_seed(int(params["seed"]))
        with torch.inference_mode():
            out = lm.generate(**enc, **kwargs)
        eos = {tok.eos_token_id} | set(_ids(lm.generation_config.eos_token_id))
        width = enc["input_ids"].shape[1]
        results = []
        for i in range(len(requests)):
            new = out[i, width:].tolist()
            stop_at = next((j for j, t in enumerate(new) if t in eos), None)
            finish = "stop" if stop_at is not None else "length"
            kept = new if stop_at is None else new[:stop_at]
            kept = [t for t in kept if t != tok.pad_token_id]
            text = tok.decode(kept, skip_special_tokens=True)
            for stop in _ids(params.get("stop")):
                if isinstance(stop, str) and stop in text:
                    text, finish = text.split(stop, 1)[0], "stop"
            prompt_tokens = int(enc["attention_mask"][i].sum())
            results.append(Completion(text, finish, Usage(prompt_tokens, len(kept) + (finish == "stop")),
                                      self.model))
        return results

    async def aclose(self) -> None:
        self._lm = self._tok = None


def _sampling(request: ChatRequest) -> tuple:
    p = request.params
    return (p.get("temperature"), p.get("top_p"), p.get("max_tokens"), p.get("seed"), str(p.get("stop")))


def _ids(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]
