"""qa: question-answer pairs written from context passages (closed QA with the passage kept).

Each passage gets one request asking for `per_passage` pairs as a JSON array.
Every pair becomes a row with the passage in `context`, so a model trained on
it learns to answer from the given text. Pairs repeating a question already
asked about the same passage are rejected; a reply that is not the asked-for
JSON is asked again once, then rejected with the parser's reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from dataforge.errors import ConfigError
from dataforge.records import InstructionRecord
from dataforge.synth.engine import Job, SynthOptions, SynthSummary
from dataforge.synth.parse import qa_pairs
from dataforge.synth.sources import input_files, read_documents


@dataclass
class QAOptions:
    per_passage: int = 3
    text_field: str | None = None
    split: str = "auto"  # Markdown/HTML/PDF by headings (pages) and length, text by paragraph
    min_words: int = 20

    def __post_init__(self):
        if self.per_passage < 1:
            raise ConfigError(f"--per-passage must be at least 1 (got {self.per_passage})")


def qa(passages, out, options: SynthOptions, opts: QAOptions | None = None) -> SynthSummary:
    opts = opts or QAOptions()
    with Job("qa", out, options, inputs=input_files(passages, out)) as job:
        source = read_documents(passages, out=out, rejects=job.rejects, text_field=opts.text_field, split=opts.split,
                                min_words=opts.min_words)
        for batch in job.batches(source, rows_per_item=opts.per_passage):
            _batch(job, opts, batch)
        return job.finish()


def _batch(job: Job, opts: QAOptions, docs) -> None:
    requests = [job.request("qa_generate", tag=i, passage=d.text, count=opts.per_passage) for i, d in enumerate(docs)]
    results = job.run(requests, lambda text, _r: qa_pairs(text), "qa: pairs")
    for doc, res in zip(docs, results):
        if not res.ok:
            job.reject_result("pairs", res, row={"passage": doc.text, "source": doc.source}, id=doc.id)
            continue
        asked: set[str] = set()
        for n, (question, answer) in enumerate(res.value[: opts.per_passage], 1):
            norm = " ".join(question.lower().split())
            if norm in asked:
                job.reject("duplicate question for the same passage",
                           row={"question": question, "answer": answer, "source": doc.source}, id=doc.id)
                continue
            asked.add(norm)
            job.add(InstructionRecord(instruction=question, output=answer, context=doc.text, category="closed_qa",
                                      meta=job.lineage(res, source=doc.source, source_id=doc.id, pair=n,
                                                       position=doc.position)))
