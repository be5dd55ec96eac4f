"""Token counts: exact with `--tokenizer`, an estimate without.

`--tokenizer` takes a Hugging Face tokenizer folder (its `tokenizer.json` is
read with the `tokenizers` library, without importing transformers), a
`tokenizer.json` file, or a SentencePiece `.model` file. Texts are counted
without special tokens or chat-template markup, which add a few tokens per
message on top.

Without a tokenizer the count is estimated from per-script rates measured on
OpenAI's o200k_base vocabulary (dataforge.tokencount: within 25% of the real
count per language on held-out real text in 75 languages, see
bench/RESULTS.md). Other models' tokenizers differ (by up to 1.5x on Chinese
between o200k_base and cl100k_base), so the report labels it as an estimate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

from dataforge.errors import ConfigError, require
from dataforge.tokencount import DEFAULT_ENCODING, estimate

BATCH = 10_000
_HINT = ("give a Hugging Face tokenizer folder (with tokenizer.json or tokenizer.model), a tokenizer.json"
         " file, or a SentencePiece .model file; or leave --tokenizer out to estimate tokens")


@dataclass
class TokenCounter:
    name: str  # what was loaded, for the report
    exact: bool
    _count: Callable[[list[str]], list[int]] | None = None

    @property
    def note(self) -> str:
        if self.exact:
            return f"tokens counted with {self.name} (no special tokens or chat template)"
        return (f"tokens estimated from per-script rates of OpenAI's {DEFAULT_ENCODING} tokenizer"
                " (pass --tokenizer for your model's exact counts)")

    def count(self, texts: pl.Series, bar=None) -> np.ndarray:
        """Token count of each text (0 for empty)."""
        if not self.exact:
            raise RuntimeError("an estimating counter has no tokenizer; use estimate()")
        out = np.zeros(len(texts), np.uint32)
        for start in range(0, len(texts), BATCH):
            part = texts.slice(start, BATCH).fill_null("").to_list()
            out[start:start + len(part)] = self._count(part)
            if bar is not None:
                bar.advance(len(part))
        return out


def estimate_expr(field: str) -> pl.Expr:
    """The estimated tokens of each text in the `field` column (dataforge.tokencount)."""
    return pl.col(field).map_batches(lambda s: pl.Series(s.name, estimate(s.to_list()), pl.UInt32),
                                     return_dtype=pl.UInt32)


def load_tokenizer(path: str | os.PathLike | None) -> TokenCounter:
    """A counter for `path` (see the module doc); None gives the per-script estimate."""
    if path is None:
        return TokenCounter("estimate", exact=False)
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"--tokenizer {path}: no such file or folder", _HINT)
    if p.is_dir():
        if (p / "tokenizer.json").is_file():
            return _hf_json(p / "tokenizer.json", str(p))
        if (p / "tokenizer.model").is_file():
            return _sentencepiece(p / "tokenizer.model", str(p))
        raise ConfigError(f"--tokenizer {path}: the folder has neither tokenizer.json nor tokenizer.model",
                          _HINT)
    if p.name.endswith(".json"):
        return _hf_json(p, str(p))
    if p.suffix == ".model":
        return _sentencepiece(p, str(p))
    raise ConfigError(f"--tokenizer {path}: not a tokenizer file (expected tokenizer.json or a .model file)",
                      _HINT)


def _hf_json(file: Path, name: str) -> TokenCounter:
    tokenizers = require("tokenizers", feature="counting tokens with a tokenizer.json")
    try:
        tok = tokenizers.Tokenizer.from_file(str(file))
    except Exception as exc:  # the Rust side raises a bare Exception for a malformed file
        raise ConfigError(f"--tokenizer {name}: {file.name} could not be loaded ({exc})", _HINT) from exc

    def count(texts: list[str]) -> list[int]:
        return [len(e.ids) for e in tok.encode_batch_fast(texts, add_special_tokens=False)]

    return TokenCounter(name, True, count)


def _sentencepiece(file: Path, name: str) -> TokenCounter:
    spm = require("sentencepiece", feature="counting tokens with a SentencePiece model")
    try:
        sp = spm.SentencePieceProcessor(model_file=str(file))
    except Exception as exc:  # OSError / RuntimeError depending on what is wrong with the file
        raise ConfigError(f"--tokenizer {name}: not a readable SentencePiece model ({exc})", _HINT) from exc
    threads = os.cpu_count() or 1

    def count(texts: list[str]) -> list[int]:
        return [len(ids) for ids in sp.encode(texts, num_threads=threads)]

    return TokenCounter(name, True, count)
