"""Token estimates without a tokenizer: per-script rates measured on OpenAI's BPE vocabularies.

A BPE tokenizer spends very different numbers of tokens on different scripts:
English words are mostly one token each, a Chinese character about one, a
Hindi or Thai character often one or more. So a text's estimate is a sum over
character classes (Latin, Han, kana, Hangul, Cyrillic, Arabic, Devanagari,
Thai, digits, punctuation, whitespace, ...) of

    rate per character x characters of the class + rate per run x runs of the class

where a run is a maximal stretch of one class (for letters: about a word).
Latin and Cyrillic are written with many languages that one vocabulary serves
very unequally (an English word is usually one token, a Zulu word three), so a
Latin or Cyrillic word that is itself a token of the vocabulary (the most
frequent ones, stored in `dataforge/data/token_words.json`) counts as one
"known word" instead of its letters. The rates were fitted once against the real tokenizers (`bench/bench_tokens.py`,
which also prints how close they come per language on held-out text) and are
stored in `dataforge/data/token_rates.json`, one set per encoding:
`o200k_base` (gpt-4o, gpt-4.1 and later fine-tunable models; the default) and
`cl100k_base` (gpt-3.5-turbo, gpt-4).

    >>> estimate(["Hello world", "你好，世界"]).tolist()       # doctest: +SKIP
    [2, 4]
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

DEFAULT_ENCODING = "o200k_base"
RATES_FILE = Path(__file__).resolve().parent / "data" / "token_rates.json"
WORDS_FILE = RATES_FILE.with_name("token_words.json")
BATCH_CHARS = 1 << 16  # code points per numpy pass: small enough for its arrays to stay in cache

# Character classes: (name, [(first, last) code point ranges]). Later entries win where ranges
# overlap, so the specific ones come after the broad ones. Anything unlisted is "other".
CLASSES: list[tuple[str, list[tuple[int, int]]]] = [
    ("other", []),
    ("symbol", [(0x00A1, 0x00BF), (0x00D7, 0x00D7), (0x00F7, 0x00F7), (0x2000, 0x2BFF), (0x02B0, 0x036F)]),
    ("space", [(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x2000, 0x200B), (0x2028, 0x2029),
               (0x202F, 0x202F), (0x205F, 0x205F)]),
    ("digit", [(0x30, 0x39)]),
    ("punct", [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)]),
    ("latin", [(0x41, 0x5A), (0x61, 0x7A)]),
    ("latin_ext", [(0x00C0, 0x00D6), (0x00D8, 0x00F6), (0x00F8, 0x02AF), (0x1E00, 0x1EFF)]),
    ("greek", [(0x0370, 0x03FF), (0x1F00, 0x1FFF)]),
    ("cyrillic", [(0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)]),
    ("armenian", [(0x0530, 0x058F)]),
    ("hebrew", [(0x0590, 0x05FF), (0xFB1D, 0xFB4F)]),
    ("arabic", [(0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)]),
    ("devanagari", [(0x0900, 0x097F), (0xA8E0, 0xA8FF)]),
    ("bengali", [(0x0980, 0x09FF)]),
    ("indic_other", [(0x0A00, 0x0B7F), (0x0C80, 0x0DFF)]),  # Gurmukhi, Gujarati, Oriya, Kannada, Malayalam, Sinhala
    ("tamil_telugu", [(0x0B80, 0x0C7F)]),
    ("thai", [(0x0E00, 0x0E7F)]),
    ("georgian", [(0x10A0, 0x10FF), (0x1C90, 0x1CBF)]),
    ("hangul", [(0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF)]),
    ("cjk_punct", [(0x3000, 0x303F), (0xFF00, 0xFF65), (0xFFE0, 0xFFEF)]),
    ("kana", [(0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)]),
    ("han", [(0x2E80, 0x2FDF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF)]),
    ("emoji", [(0x1F000, 0x1FAFF), (0xFE00, 0xFE0F)]),
]
NAMES = [name for name, _ in CLASSES]
K = len(CLASSES)
FEATURES = [f"{n}_chars" for n in NAMES] + [f"{n}_runs" for n in NAMES] + ["known_words"]
WORD_CLASSES = {"latin": 1, "latin_ext": 1, "cyrillic": 2}  # class -> script of its words
_HASH_BASE = 0x100000001B3  # FNV's prime: odd, so multiplying by it mod 2**64 loses no bits
_MASK = (1 << 64) - 1


@functools.lru_cache(maxsize=1)
def _table() -> np.ndarray:
    """Class index of every code point (1.1 MB, built once)."""
    table = np.zeros(0x110000, np.uint8)
    for index, (_name, ranges) in enumerate(CLASSES):
        for first, last in ranges:
            table[first:last + 1] = index
    return table


@functools.lru_cache(maxsize=1)
def _word_script() -> np.ndarray:
    """Per class: 0, or the script (1 Latin, 2 Cyrillic) whose words are looked up."""
    out = np.zeros(K, np.uint8)
    for name, script in WORD_CLASSES.items():
        out[NAMES.index(name)] = script
    return out


def word_hash(word: str) -> int:
    """The hash `_features` computes for a run of letters: sum of code point x BASE**position, mod 2**64."""
    h, p = 0, 1
    for ch in word:
        h = (h + ord(ch) * p) & _MASK
        p = (p * _HASH_BASE) & _MASK
    return h


@functools.lru_cache(maxsize=None)
def known_hashes(encoding: str) -> np.ndarray:
    """The hashes of the stored words that are single tokens of `encoding`, as an open-addressing
    table (slot = hash mod size, then the next slots; 0 = empty), a sixteenth full."""
    data = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    hashes = {word_hash(w) for w in data["both"] + data.get(encoding, [])} - {0}
    size = 1 << max(4, (len(hashes) * 16).bit_length())
    table = np.zeros(size, np.uint64)
    for h in hashes:
        slot = h & (size - 1)
        while table[slot]:
            slot = (slot + 1) & (size - 1)
        table[slot] = h
    return table


def _lookup(table: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Which hashes are in the table (vectorised linear probing)."""
    mask = np.uint64(table.size - 1)
    slot = hashes & mask
    found = np.zeros(hashes.size, bool)
    todo = np.arange(hashes.size)
    while todo.size:
        value = table[slot[todo]]
        found[todo[value == hashes[todo]]] = True
        todo = todo[(value != 0) & (value != hashes[todo])]  # an occupied slot of another word: probe on
        slot[todo] = (slot[todo] + np.uint64(1)) & mask
    return found


def features(texts, encoding: str = DEFAULT_ENCODING) -> np.ndarray:
    """(len(texts), 2K+1) float64 per text: characters of each class, runs of each class, known words
    (whose characters and runs are not counted in their classes)."""
    texts = ["" if t is None else t for t in texts]
    known = known_hashes(encoding)
    out = np.zeros((len(texts), 2 * K + 1), np.float64)
    start = 0
    while start < len(texts):
        stop, chars = start, 0
        while stop < len(texts) and (stop == start or chars + len(texts[stop]) <= BATCH_CHARS):
            chars += len(texts[stop])
            stop += 1
        out[start:stop] = _features(texts[start:stop], known)
        start = stop
    return out


def _features(texts: list[str], known: np.ndarray) -> np.ndarray:
    n = len(texts)
    lengths = np.fromiter(map(len, texts), np.int64, n)
    # surrogatepass: a lone surrogate (possible in JSON text) is one "other" character, not a crash
    cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)
    out = np.zeros((n, 2 * K + 1))
    if cps.size == 0:
        return out
    cats = _table()[cps]
    begins = np.cumsum(lengths) - lengths
    boundary = np.zeros(cps.size, bool)
    boundary[begins[lengths > 0]] = True  # a run never continues into the next text
    starts = boundary.copy()
    starts[1:] |= cats[1:] != cats[:-1]
    seg = np.repeat(np.arange(n, dtype=np.intp), lengths)
    key = seg * K + cats
    known_pos, known_words = _known_letters(cps, cats, boundary, known)
    if known_pos is not None:
        keep = np.ones(cps.size, bool)
        keep[known_pos] = False
        out[:, :K] = np.bincount(key[keep], minlength=n * K).reshape(n, K)
        out[:, K:2 * K] = np.bincount(key[starts & keep], minlength=n * K).reshape(n, K)
        out[:, -1] = np.bincount(seg[known_words], minlength=n)
    else:
        out[:, :K] = np.bincount(key, minlength=n * K).reshape(n, K)
        out[:, K:2 * K] = np.bincount(key[starts], minlength=n * K).reshape(n, K)
    return out


def _known_letters(cps: np.ndarray, cats: np.ndarray, boundary: np.ndarray, known: np.ndarray):
    """(positions of letters in known words, position of each known word's first letter), or (None, None).

    A word is a run of letters of one script (Latin with its accented letters, or Cyrillic); it is
    known when its hash is among the stored single-token words' hashes.
    """
    script = _word_script()[cats]
    pos = np.flatnonzero(script)
    if pos.size == 0 or not known.any():
        return None, None
    letters = script[pos]
    starts = boundary[pos]
    starts[0] = True
    starts[1:] |= (letters[1:] != letters[:-1]) | (pos[1:] != pos[:-1] + 1)
    first = np.flatnonzero(starts)  # index (into pos) where each word begins
    word = np.cumsum(starts) - 1  # word number of each letter
    offset = np.arange(pos.size) - first[word]
    with np.errstate(over="ignore"):  # the polynomial hash is meant to wrap mod 2**64
        powers = np.empty(int(offset.max()) + 1, np.uint64)
        powers[0] = 1
        powers[1:] = _HASH_BASE
        powers = np.cumprod(powers)
        hashes = np.add.reduceat(cps[pos].astype(np.uint64) * powers[offset], first)
    hit = _lookup(known, hashes)
    return pos[hit[word]], pos[first[hit]]


@functools.lru_cache(maxsize=None)
def rates(encoding: str = DEFAULT_ENCODING) -> np.ndarray:
    """The stored rate vector (per FEATURES) of `encoding`."""
    data = json.loads(RATES_FILE.read_text(encoding="utf-8"))
    if encoding not in data["encodings"]:
        raise ValueError(f"no token rates for {encoding!r}; known: {', '.join(data['encodings'])}")
    stored = data["encodings"][encoding]["rates"]
    return np.array([float(stored.get(name, 0.0)) for name in FEATURES])


def encodings() -> list[str]:
    return list(json.loads(RATES_FILE.read_text(encoding="utf-8"))["encodings"])


def estimate(texts, encoding: str = DEFAULT_ENCODING) -> np.ndarray:
    """Estimated tokens of each text (uint32; 0 for an empty text, at least 1 otherwise)."""
    feats = features(texts, encoding)
    raw = feats @ rates(encoding)
    total_chars = feats[:, :K].sum(axis=1) + feats[:, -1]
    return np.where(total_chars > 0, np.maximum(1, np.rint(raw)), 0).astype(np.uint32)


def estimate_one(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    return int(estimate([text], encoding)[0]) if text else 0
