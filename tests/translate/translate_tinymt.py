"""Tiny seq2seq translation models built locally (random weights) for plumbing tests."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

TEXTS = [
    "Write a short poem about the sea.", "What is the capital of France?", "Explain how a rainbow forms.",
    "Escribe un poema corto sobre el mar.", "¿Cuál es la capital de Francia?", "Explica cómo se forma un arcoíris.",
    "Écris un court poème sur la mer.", "Quelle est la capitale de la France ?", "def add(a, b): return a + b",
    "Use {name} and %s and `code` here: https://example.com/docs", "1. Preheat the oven. 2. Mix the flour.",
]


def _spm(texts, vocab_size=200) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts * 20), model_writer=model, vocab_size=vocab_size, model_type="bpe",
        character_coverage=1.0, byte_fallback=False, pad_id=-1, unk_id=0, bos_id=-1, eos_id=-1,
        hard_vocab_limit=False, minloglevel=2)
    return model.getvalue()


def build_tiny_marian(out: Path, *, targets: list[str] | None = None, source_lang: str | None = None,
                      target_lang: str | None = None, seed: int = 0) -> Path:
    """A 1-layer random Marian; `targets` adds >>xx<< tokens (a multi-target model)."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    blob = _spm(TEXTS)
    for name in ("source.spm", "target.spm"):
        (out / name).write_bytes(blob)
    sp = spm.SentencePieceProcessor(model_proto=blob)
    vocab = {"</s>": 0, "<unk>": 1}
    for code in targets or []:
        vocab[f">>{code}<<"] = len(vocab)
    for i in range(sp.get_piece_size()):
        vocab.setdefault(sp.id_to_piece(i), len(vocab))
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "install sacremoses": not needed for a tiny test model
        tok = MarianTokenizer(str(out / "source.spm"), str(out / "target.spm"), str(out / "vocab.json"),
                              source_lang=source_lang, target_lang=target_lang)
    tok.save_pretrained(str(out))
    torch.manual_seed(seed)
    config = MarianConfig(vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                          decoder_ffn_dim=32, max_position_embeddings=128, pad_token_id=vocab["<pad>"],
                          eos_token_id=0, decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=0)
    model = MarianMTModel(config)
    model.generation_config.max_length = 64
    model.save_pretrained(str(out))
    return out


def _tiny_m2m_model(out: Path, vocab_size: int, pad: int, eos: int, bos: int, seed: int = 0) -> None:
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    torch.manual_seed(seed)
    config = M2M100Config(vocab_size=vocab_size, d_model=16, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                          decoder_ffn_dim=32, max_position_embeddings=128, pad_token_id=pad, eos_token_id=eos,
                          bos_token_id=bos, decoder_start_token_id=eos)
    M2M100ForConditionalGeneration(config).save_pretrained(str(out))


def build_tiny_m2m100(out: Path) -> Path:
    """A random M2M-100 (model_type m2m_100, `__es__` language tokens) with a local SentencePiece vocab."""
    import sentencepiece as spm
    from transformers import M2M100Tokenizer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    blob = _spm(TEXTS)
    (out / "sentencepiece.bpe.model").write_bytes(blob)
    sp = spm.SentencePieceProcessor(model_proto=blob)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(sp.get_piece_size()):
        vocab.setdefault(sp.id_to_piece(i), len(vocab))
    (out / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tok = M2M100Tokenizer(str(out / "vocab.json"), str(out / "sentencepiece.bpe.model"), src_lang="en")
    tok.save_pretrained(str(out))
    size = max(max(tok.get_vocab().values()), max(tok.lang_code_to_id.values())) + 1 + tok.num_madeup_words
    _tiny_m2m_model(out, size, tok.pad_token_id, tok.eos_token_id, tok.bos_token_id)
    return out


def build_tiny_nllb(out: Path) -> Path:
    """A random NLLB-style model (model_type m2m_100, FLORES-200 codes such as spa_Latn) with a char vocab."""
    from transformers import NllbTokenizer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chars = sorted({ch for t in TEXTS for ch in t if not ch.isspace()})
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "▁": 4}
    for ch in chars:
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault("▁" + ch, len(vocab))
    tok = NllbTokenizer(vocab=vocab, merges=[], src_lang="eng_Latn")
    tok.save_pretrained(str(out))
    _tiny_m2m_model(out, max(tok.get_vocab().values()) + 1, tok.pad_token_id, tok.eos_token_id, tok.bos_token_id)
    return out
