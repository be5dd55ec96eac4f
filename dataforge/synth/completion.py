"""completion: self-supervised prefix/completion pairs cut from raw text, no LLM at all.

"Listen to your" -> "heart": a sentence is cut where a reader could guess
what comes next, and the model learns to continue it. Three kinds of cut
(`--cut`, default `any` = one of them per sentence, picked with the seed):
- word: the completion is the sentence's last 1 to `max_tail_words` words;
- clause: the cut is at a clause boundary (, ; : or a dash, or before a
  conjunction such as "because" or "which");
- sentence: the completion is the next whole sentence, the prefix the
  `context_sentences` sentences before it.
Length controls (words) keep prefixes and completions in range; pieces that
cannot be cut within them are counted as skipped (they are text, not rows, so
they do not go to the rejects file). The prefix is `instruction`, the
completion `output`, and `meta.sep` is the text that joins them (" ", or ""
for Chinese/Japanese), so `prefix + sep + completion` is the original text.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from dataforge.errors import ConfigError
from dataforge.records import InstructionRecord
from dataforge.synth.engine import Job, SynthOptions, SynthSummary
from dataforge.synth.sources import input_files, read_documents

CUTS = ("word", "clause", "sentence", "any")
_ABBREV = {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "fig", "no", "approx"}
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？])")
_CLAUSE = re.compile(r"(?<=[,;:])\s+|\s+[—–-]\s+|\s+(?=(?:because|which|although|while|but|so that|whereas|"
                     r"unless|since|when|where)\b)|(?<=[，；：])")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@dataclass
class CompletionOptions:
    cut: str = "any"
    min_prefix_words: int = 3
    max_prefix_words: int = 200
    min_completion_words: int = 1
    max_completion_words: int = 60
    max_tail_words: int = 3  # word cuts: the completion is the last 1..this many words
    context_sentences: int = 1  # sentence cuts: sentences of prefix before the completion
    text_field: str | None = None
    split: str = "paragraph"

    def __post_init__(self):
        if self.cut not in CUTS:
            raise ConfigError(f"unknown --cut '{self.cut}'", f"use one of: {', '.join(CUTS)}")
        if self.min_prefix_words > self.max_prefix_words or self.min_completion_words > self.max_completion_words:
            raise ConfigError("a --min-*-words limit is above its --max-*-words limit")
        if self.max_tail_words < 1 or self.context_sentences < 1:
            raise ConfigError("--max-tail-words and --context-sentences must be at least 1")


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph; a period after a common abbreviation or an initial does not end one."""
    parts = [p for p in _SENTENCE_END.split(text.strip()) if p and p.strip()]
    merged: list[str] = []
    for part in parts:
        if merged:
            last = merged[-1].rstrip()
            word = last.split()[-1].rstrip(".").lower() if last.split() else ""
            if last.endswith(".") and (word in _ABBREV or (len(word) == 1 and word.isalpha())):
                merged[-1] = f"{last} {part.strip()}"
                continue
        merged.append(part.strip())
    return merged


def _words(text: str) -> int:
    # CJK text has no spaces: count characters as words there
    cjk = len(_CJK.findall(text))
    return len(text.split()) + (cjk - 1 if cjk > 1 else 0)


def _sep(prefix: str, completion: str) -> str:
    return "" if _CJK.search(prefix[-1:] + completion[:1]) else " "


def cut_sentence(sentence: str, cut: str, rng: random.Random, opts: CompletionOptions):
    """A random (prefix, completion) of kind `cut` within the length limits, or None."""
    if cut == "word":
        words = sentence.split()
        if len(words) == 1 and _CJK.search(sentence):
            words, joiner = list(sentence), ""  # no spaces: cut between characters
        else:
            joiner = " "
        options = [(joiner.join(words[:-t]), joiner.join(words[-t:]))
                   for t in range(1, min(opts.max_tail_words, len(words) - 1) + 1)]
    else:
        options = [(sentence[: m.start()].rstrip(), sentence[m.end():].lstrip())
                   for m in _CLAUSE.finditer(sentence) if 0 < m.start() and m.end() < len(sentence)]
    options = [pair for pair in options if _fits(pair, opts)]
    return rng.choice(options) if options else None


def _fits(pair, opts: CompletionOptions) -> bool:
    return bool(pair and pair[0] and pair[1]
                and opts.min_prefix_words <= _words(pair[0]) <= opts.max_prefix_words
                and opts.min_completion_words <= _words(pair[1]) <= opts.max_completion_words)


def pairs_from_text(text: str, rng: random.Random, opts: CompletionOptions):
    """Yield (prefix, completion, cut) per sentence of `text`, or None where no cut fits the limits.

    With `any`, the cut is picked at random and the other kinds are tried when it does not fit.
    """
    sentences = split_sentences(text)
    for i, sentence in enumerate(sentences):
        kinds = ["word", "clause"] + (["sentence"] if i >= opts.context_sentences else [])
        rng.shuffle(kinds)
        found = None
        for cut in (kinds if opts.cut == "any" else [opts.cut]):
            if cut == "sentence":
                pair = (" ".join(sentences[i - opts.context_sentences:i]), sentence) if i >= opts.context_sentences \
                    else None
            else:
                pair = cut_sentence(sentence, cut, rng, opts)
            if _fits(pair, opts):
                found = (*pair, cut)
                break
        yield found


def completion(docs, out, options: SynthOptions, opts: CompletionOptions | None = None) -> SynthSummary:
    """Cut prefix/completion pairs from the documents in `docs` (no model, no requests)."""
    opts = opts or CompletionOptions()
    with Job("completion", out, options, inputs=input_files(docs, out), llm=False) as job:
        for doc in read_documents(docs, out=out, rejects=job.rejects, text_field=opts.text_field, split=opts.split):
            if job.need == 0:
                break
            rng = random.Random(f"{options.seed}:{doc.id}")
            for n, found in enumerate(pairs_from_text(doc.text, rng, opts)):
                if found is None:
                    job.skipped += 1
                    continue
                if job.need == 0:
                    break
                prefix, completion_text, cut = found
                job.add(InstructionRecord(
                    instruction=prefix, output=completion_text, category="completion",
                    meta=job.lineage(cut=cut, sep=_sep(prefix, completion_text), source=doc.source,
                                     source_id=doc.id, sentence=n)))
        return job.finish()
