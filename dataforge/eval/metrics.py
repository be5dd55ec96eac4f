"""Text metrics for generated answers: exact match, ROUGE-L, chrF and language faithfulness.

Pure Python (plus sacrebleu and langdetect), no torch, so they can score any
model's outputs:

    >>> exact_match("The Pacific Ocean.", "pacific ocean")
    1.0
    >>> round(rouge_l("the cat sat on the mat", "the cat is on the mat"), 4)
    0.8333
    >>> round(chrf(["abc"], ["abd"]), 3)
    38.889

- exact match compares normalised answers: Unicode NFKC, lower case,
  punctuation removed, English articles dropped (for English or unlabelled
  rows), whitespace collapsed (the SQuAD convention).
- ROUGE-L is the F1 of the longest common subsequence of word tokens of the
  normalised texts; CJK text, which has no spaces, is split per character.
- chrF is sacrebleu's (character 6-grams, beta 2), corpus-level over the set
  and sentence-level per row; on the usual 0-100 scale.
- language faithfulness: dataforge.langid (the script first, then seeded
  langdetect among that script's languages, so repeatable) on answers of at
  least MIN_LANG_CHARS characters; shorter answers, and answers it is not
  clearly sure of, are not judged and are left out of the share.
"""

from __future__ import annotations

import re
import unicodedata

MIN_LANG_CHARS = 20
_ARTICLES = {"a", "an", "the"}
# One token per CJK / kana / hangul character, otherwise runs of word characters.
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|\w+", re.UNICODE)


def _strip_punct(text: str) -> str:
    return "".join(" " if unicodedata.category(ch).startswith(("P", "S")) else ch for ch in text)


def normalize_answer(text: str, lang: str = "") -> str:
    """The form exact match compares: NFKC, lower case, no punctuation, no English articles."""
    text = _strip_punct(unicodedata.normalize("NFKC", text or "").lower())
    words = text.split()
    if lang in ("", "en"):
        words = [w for w in words if w not in _ARTICLES]
    return " ".join(words)


def exact_match(prediction: str, reference: str, lang: str = "") -> float:
    """1.0 when the normalised prediction equals the normalised reference, else 0.0."""
    return float(normalize_answer(prediction, lang) == normalize_answer(reference, lang))


def tokens(text: str) -> list[str]:
    """Word tokens for ROUGE-L: lower case, punctuation dropped, CJK characters one by one."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text or "").lower())


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (two-row dynamic programme)."""
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (beta 1) in [0, 1]; two empty texts score 1, one empty text 0."""
    p, r = tokens(prediction), tokens(reference)
    if not p or not r:
        return float(not p and not r)
    lcs = lcs_length(p, r)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(p), lcs / len(r)
    return 2 * precision * recall / (precision + recall)


def _chrf_metric():
    from sacrebleu.metrics import CHRF

    return CHRF()  # char order 6, word order 0, beta 2: the standard chrF


def chrf(predictions: list[str], references: list[str]) -> float:
    """Corpus-level chrF (0-100) of predictions against one reference each."""
    if not predictions:
        return 0.0
    return float(_chrf_metric().corpus_score(list(predictions), [list(references)]).score)


def chrf_sentence(prediction: str, reference: str) -> float:
    return float(_chrf_metric().sentence_score(prediction, [reference]).score)


def detect_language(text: str) -> str | None:
    """ISO code from dataforge.langid (script first, seeded langdetect within it), or None for text too
    short or not clearly one language. The same detector as report and translate, so a Chinese answer is
    judged Chinese here too (plain langdetect sometimes says Korean)."""
    text = (text or "").strip()
    if len(text) < MIN_LANG_CHARS:
        return None
    from dataforge.langid import identify

    guess = identify(text)
    return _base_code(guess.lang) if guess.status == "ok" else None


def _base_code(code: str) -> str:
    """langdetect says zh-cn / zh-tw; records say zh. Compare on the base code."""
    return code.split("-")[0].lower()


def language_faithful(answer: str, lang: str) -> bool | None:
    """Whether the answer is in `lang`; None when it cannot be judged (unknown lang, short answer)."""
    if not lang or lang in ("unknown", "mixed"):
        return None
    found = detect_language(answer)
    if found is None:
        return None
    return found == _base_code(lang)


def row_scores(prediction: str, reference: str, lang: str, which: set[str]) -> dict:
    """The per-row scores asked for (`which` holds metric names: exact, rouge, chrf, lang)."""
    out: dict = {}
    if "exact" in which:
        out["exact_match"] = exact_match(prediction, reference, lang)
    if "rouge" in which:
        out["rouge_l"] = rouge_l(prediction, reference)
    if "chrf" in which:
        out["chrf"] = chrf_sentence(prediction, reference)
    if "lang" in which:
        out["lang_ok"] = language_faithful(prediction, lang)
    return out


def aggregate(rows: list[dict], predictions: list[str], references: list[str], which: set[str]) -> dict:
    """Set-level scores from per-row scores (chrF recomputed at corpus level)."""
    out: dict = {}
    n = len(rows)
    if "exact" in which:
        out["exact_match"] = sum(r["exact_match"] for r in rows) / n if n else None
    if "rouge" in which:
        out["rouge_l"] = sum(r["rouge_l"] for r in rows) / n if n else None
    if "chrf" in which:
        out["chrf"] = chrf(predictions, references) if n else None
    if "lang" in which:
        judged = [r["lang_ok"] for r in rows if r.get("lang_ok") is not None]
        out["lang_faithfulness"] = sum(judged) / len(judged) if judged else None
        out["lang_judged"] = len(judged)
    return out
