"""How two texts are compared: one normalisation, tokens, shingles, hashes.

The same normalisation serves exact and near duplicates, so two rows that are
exact duplicates always have identical shingles too:

- Unicode NFKC (full-width letters, ligatures and compatibility forms fold to
  their plain form), then case folding;
- sentence punctuation and quote marks become spaces (`Hello, "world"!` ==
  `hello world`); operators and brackets stay, so `2+2` and `2*2` differ;
- whitespace runs collapse to one space.

Digits are kept as they are: in instruction data "What is 12*7?" and
"What is 3*4?" are different questions (datatrove's default text
simplification maps every number to 0, which would call them duplicates).

Tokens are words (runs of letters, marks and digits: punctuation and
symbols separate them, as in datatrove's and most tools' word shingles) for
space-separated scripts, and single characters for Chinese, Japanese, Thai,
Lao, Khmer and Myanmar, which do not put spaces between words; mixed text
gets both. Shingles are n-grams of tokens. A text of at most n tokens is one
shingle: its whole normalised form, symbols included, so "What is 2+2?" and
"What is 2*2?" stay apart while "Hi" and "hi!" match.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import regex
import xxhash

# Sentence punctuation and quotes (ASCII, typographic, CJK). NFKC has already mapped
# full-width forms such as ！？，：； to ASCII before this runs.
_FOLD = re.compile("[" + re.escape(".,;:!?¿¡\"'`«»‹›„“”‘’‚‛…·‧。、｡､「」『』〝〞〟〃") + "]+")
# Scripts written without spaces between words: one token per character.
_NO_SPACE = ("\u0e00-\u0e7f"  # Thai
             "\u0e80-\u0eff"  # Lao
             "\u1000-\u109f"  # Myanmar
             "\u1780-\u17ff"  # Khmer
             "\u3040-\u30ff"  # Hiragana, Katakana
             "\u31f0-\u31ff"  # Katakana extensions
             "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
             "\U00020000-\U0002fa1f")
_HAS_NO_SPACE = re.compile(f"[{_NO_SPACE}]")
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}_]+")
_TOKEN = regex.compile(f"[{_NO_SPACE}]|(?:(?![{_NO_SPACE}])[\\p{{L}}\\p{{M}}\\p{{N}}_])+")


_ASCII_WORD = re.compile(r"[A-Za-z0-9_]+")  # _WORD on ASCII text, with the faster `re`


def normalize(text: str) -> str:
    """The comparison form of a text (see the module docstring)."""
    # NFKC leaves ASCII as it is and casefold is lower() there: skip the Unicode tables
    text = text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_FOLD.sub(" ", text).split())


def tokens(normalized: str) -> list[str]:
    """Words, and single characters for scripts written without spaces."""
    if normalized.isascii():
        return _ASCII_WORD.findall(normalized)
    if _HAS_NO_SPACE.search(normalized) is None:
        return _WORD.findall(normalized)
    return _TOKEN.findall(normalized)


def exact_hash(normalized: str) -> int:
    """64-bit hash of a normalised text (a false match needs a 64-bit collision)."""
    return xxhash.xxh3_64_intdigest(normalized.encode("utf-8", "surrogatepass"))


def xxh64(text: str) -> int:
    """The 64-bit hash of a token or short text that shingles are made of (datatrove's xxhash config)."""
    return xxhash.xxh64_intdigest(text.encode("utf-8", "surrogatepass"))


def shingle_texts(normalized: str, n: int) -> list[str]:
    """The token n-grams of a normalised text; a text of at most n tokens is one shingle, itself.

    Without that rule a two-word instruction would have no shingles at all and
    could never be found as a near duplicate (or, in some tools, crash).
    """
    toks = tokens(normalized)
    if len(toks) <= n:
        return [normalized] if normalized else []
    return [" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1)]


class _TokenHashes(dict):
    """token -> 64-bit hash, computed once per process (words repeat a lot)."""

    def __init__(self, hash_func):
        super().__init__()
        self.hash_func = hash_func

    def __missing__(self, token: str) -> int:
        if len(self) >= 1_000_000:  # bound the memory on huge vocabularies
            self.clear()
        value = self[token] = self.hash_func(token)
        return value


_TOKEN_HASHES: dict = {}
_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier for combining token hashes


def shingle_hashes(text: str, n: int, hash_func) -> np.ndarray:
    """Hashed shingles of a raw text as a (count, 1) uint64 array, the layout datatrove expects.

    An n-gram's hash combines its tokens' hashes (h1*M + h2)*M + ... in uint64,
    vectorised: the same value for the same n tokens in every process, without
    building and hashing each n-gram string.
    """
    norm = normalize(text)
    toks = tokens(norm)
    if len(toks) <= n:
        if not norm:
            return np.empty((0, 1), dtype=np.uint64)
        return np.array([[hash_func(norm)]], dtype=np.uint64)
    cache = _TOKEN_HASHES.get(hash_func)
    if cache is None:
        cache = _TOKEN_HASHES[hash_func] = _TokenHashes(hash_func)
    h = np.fromiter(map(cache.__getitem__, toks), dtype=np.uint64, count=len(toks))
    m = len(toks) - n + 1
    acc = h[:m].copy()
    for k in range(1, n):
        acc = acc * _MUL + h[k:k + m]
    return acc.reshape((-1, 1))


def shingle_batch(texts, n: int, hash_func) -> tuple[np.ndarray, np.ndarray]:
    """`shingle_hashes` of many texts at once: (all shingle hashes, flat, in text order; count per text).

    The same values as `shingle_hashes(t).ravel()` for each text, concatenated, but the n-gram
    hashes of the whole batch are combined in a few numpy operations instead of a few per text.
    """
    cache = _TOKEN_HASHES.get(hash_func)
    if cache is None:
        cache = _TOKEN_HASHES[hash_func] = _TokenHashes(hash_func)
    counts = np.zeros(len(texts), dtype=np.int64)
    flat_tokens: list[str] = []
    long_rows, long_lens, short_rows, short_hashes = [], [], [], []
    for i, text in enumerate(texts):
        norm = normalize(text)
        toks = tokens(norm)
        if len(toks) > n:
            flat_tokens += toks
            long_rows.append(i)
            long_lens.append(len(toks))
            counts[i] = len(toks) - n + 1
        elif norm:  # at most n tokens: one shingle, the whole normalised text
            short_rows.append(i)
            short_hashes.append(hash_func(norm))
            counts[i] = 1
    out = np.empty(int(counts.sum()), dtype=np.uint64)
    offsets = np.cumsum(counts) - counts
    if short_rows:
        out[offsets[short_rows]] = np.array(short_hashes, dtype=np.uint64)
    if long_rows:
        h = np.fromiter(map(cache.__getitem__, flat_tokens), dtype=np.uint64, count=len(flat_tokens))
        m = h.size - n + 1
        acc = h[:m].copy()
        for k in range(1, n):  # n-grams that cross from one text into the next are never kept
            acc *= _MUL
            acc += h[k:k + m]
        lens = np.asarray(long_lens, dtype=np.int64)
        cnt = lens - n + 1
        firsts = np.cumsum(cnt) - cnt  # position of each text's first n-gram among the kept ones
        pos = np.arange(int(cnt.sum()), dtype=np.int64)
        keep_at = pos + np.repeat(np.cumsum(lens) - lens - firsts, cnt)
        out[pos + np.repeat(offsets[long_rows] - firsts, cnt)] = acc[keep_at]
    return out, counts


def shingle_set(text: str, n: int, hash_func) -> np.ndarray:
    """Sorted unique shingle hashes, for exact Jaccard similarity."""
    return np.unique(shingle_hashes(text, n, hash_func))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique hash arrays (0.0 when both are empty)."""
    if a.size == 0 or b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)
