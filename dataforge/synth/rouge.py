"""ROUGE-L (longest common subsequence F-measure) and the novelty pool of self-instruct.

Self-Instruct keeps a new instruction only if its ROUGE-L F1 with every
instruction already in the pool is below 0.7. The LCS length is computed
bit-parallel (Hyyrö's algorithm on Python integers): one pass over the other
sequence with a few integer operations per token, instead of an m×n table.

Tokens are lower-cased words; CJK characters count as one token each (a
whitespace tokenizer would make a whole Chinese sentence one token).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W_]+", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _masks(seq: list[str]) -> dict[str, int]:
    masks: dict[str, int] = {}
    for i, tok in enumerate(seq):
        masks[tok] = masks.get(tok, 0) | (1 << i)
    return masks


def lcs_length(a: list[str], b: list[str], masks: dict[str, int] | None = None) -> int:
    """Length of the longest common subsequence of token lists a and b."""
    m = len(a)
    if m == 0 or not b:
        return 0
    masks = masks if masks is not None else _masks(a)
    full = (1 << m) - 1
    v = full
    for tok in b:
        u = v & masks.get(tok, 0)
        v = ((v + u) | (v - u)) & full
    return m - v.bit_count()


def rouge_l(candidate: str | list[str], reference: str | list[str]) -> float:
    """ROUGE-L F1 between two texts (or token lists)."""
    a = tokens(candidate) if isinstance(candidate, str) else candidate
    b = tokens(reference) if isinstance(reference, str) else reference
    lcs = lcs_length(a, b)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


class NoveltyPool:
    """Texts seen so far; `check(text)` gives the highest ROUGE-L against them and that text."""

    def __init__(self, texts=(), threshold: float = 0.7):
        self.threshold = threshold
        self._texts: list[str] = []
        self._tokens: list[list[str]] = []
        for text in texts:
            self.add(text)

    def __len__(self) -> int:
        return len(self._texts)

    def add(self, text: str) -> None:
        self._texts.append(text)
        self._tokens.append(tokens(text))

    def most_similar(self, text: str) -> tuple[float, str | None]:
        a = tokens(text)
        m = len(a)
        if m == 0:
            return 0.0, None
        masks = _masks(a)
        best, best_text = 0.0, None
        for ref, other in zip(self._texts, self._tokens):
            n = len(other)
            # F1 <= 2*min(m,n)/(m+n): skip pairs whose lengths alone keep them below the best so far
            if n == 0 or 2 * min(m, n) / (m + n) <= best:
                continue
            lcs = lcs_length(a, other, masks)
            if lcs:
                f1 = 2 * lcs / (m + n)  # = 2PR/(P+R) with P=lcs/m, R=lcs/n
                if f1 > best:
                    best, best_text = f1, ref
        return best, best_text

    def is_novel(self, text: str) -> tuple[bool, float, str | None]:
        score, similar = self.most_similar(text)
        return score < self.threshold, score, similar
