"""From one source row to its translated rows: what to send, what to keep, what to write.

A row is planned once: its source language (declared or detected), the
targets it goes to (every `--to` language, or one drawn by `--mix`), the
targets skipped because the row is already in that language, and per field
whether it is sent (masked), kept empty, or kept as code. A translated row is
assembled only from a complete set of translated fields (all or nothing), so
a preference pair is never half translated.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from dataforge.records import content_id
from dataforge.translate.fields import looks_like_code, texts_of, with_texts
from dataforge.translate.langcheck import MIN_LETTERS, source_language
from dataforge.translate.protect import Masked, mask


@dataclass(slots=True)
class RowPlan:
    record: object
    index: int
    source_lang: str
    targets: list[str]                       # languages to translate into
    skipped: list[str]                       # targets the row is already in
    send: dict[str, Masked]                  # field -> masked text to translate
    kept: dict[str, str]                     # field -> text kept as is (empty or code only)
    write_source: bool = False               # write the original row too (--keep-source / --mix remainder)
    done: dict[str, object] = field(default_factory=dict)     # lang -> translated record
    failed: dict[str, str] = field(default_factory=dict)      # lang -> reason

    @property
    def finished(self) -> bool:
        return len(self.done) + len(self.failed) == len(self.targets)


def mix_choice(record_id: str, mix: dict[str, float], seed: int = 0) -> str | None:
    """The language `--mix` draws for a row (None: it stays in the source language).

    Drawn from a hash of (seed, row id), so a row gets the same language in every run.
    """
    digest = hashlib.blake2b(f"{seed}:{record_id}".encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64
    acc = 0.0
    for lang, ratio in mix.items():
        acc += ratio
        if u < acc:
            return lang
    return None


def plan_row(record, index: int, *, fields: tuple[str, ...], targets: list[str],
             mix: dict[str, float] | None = None, seed: int = 0, keep_source: bool = False,
             source_lang: str = "", min_letters: int = MIN_LETTERS) -> RowPlan:
    """Decide what happens to one source row (no request is made here)."""
    texts = texts_of(record, fields)
    send: dict[str, Masked] = {}
    kept: dict[str, str] = {}
    for name, text in texts.items():
        if not text.strip():
            kept[name] = text
            continue
        masked = mask(text)
        if not masked.has_prose or looks_like_code(text):
            kept[name] = text
        else:
            send[name] = masked
    src = source_lang or source_language([m.text for m in send.values()], getattr(record, "lang", ""),
                                         min_letters)
    write_source = keep_source
    if mix is not None:
        choice = mix_choice(record.id, mix, seed)
        wanted = [choice] if choice else []
        write_source = keep_source or choice is None or choice == src
    else:
        wanted = list(targets)
    skipped = [t for t in wanted if t == src]
    todo = [t for t in wanted if t != src]
    return RowPlan(record, index, src, todo, skipped, send, kept, write_source)


def translated_record(plan: RowPlan, lang: str, texts: dict[str, str], *, backend: str, model: str,
                      extra: dict | None = None):
    """The translated row: every requested field, `lang` set, lineage in meta["translation"]."""
    missing = set(plan.send) - set(texts)
    if missing:  # all or nothing: never assemble a partly translated row
        raise ValueError(f"fields not translated: {', '.join(sorted(missing))}")
    record = plan.record
    lineage = {"source_id": record.id, "source_lang": plan.source_lang or None, "backend": backend,
               "model": model}
    kept = sorted(k for k, v in plan.kept.items() if v.strip())
    if kept:  # fields left as they were because they are code only
        lineage["kept_fields"] = kept
    lineage.update(extra or {})
    meta = {**(record.meta or {}), "translation": lineage}
    new_texts = {**plan.kept, **{k: texts[k] for k in plan.send}}
    return with_texts(record, new_texts, lang=lang, meta=meta, id=content_id("translation", record.id, lang))


def source_record(plan: RowPlan):
    """The original row as written with --keep-source (its language filled in when it was detected)."""
    record = plan.record
    if plan.source_lang and not getattr(record, "lang", ""):
        return with_texts(record, {}, lang=plan.source_lang)
    return record
