"""backtranslate: write the instruction a document answers, then let the model grade the pair.

After Li et al. (2023), "Self-Alignment with Instruction Backtranslation"
(Humpback): each document becomes the `output` of a new row whose
`instruction` the model writes (self-augmentation). The pair is then scored
on a 5-point rubric by the judge model (`--judge-model`, default the same
model: self-curation), and only pairs scoring at least `min_score` are kept;
the others go to the rejects file with their score.
"""

from __future__ import annotations

from dataclasses import dataclass

from dataforge.errors import ConfigError
from dataforge.records import InstructionRecord
from dataforge.synth.engine import Job, SynthOptions, SynthSummary
from dataforge.synth.parse import labelled, score
from dataforge.synth.sources import input_files, read_documents


@dataclass
class BacktranslateOptions:
    min_score: int = 4  # keep pairs the judge scores at least this (1-5)
    judge_model: str | None = None
    text_field: str | None = None
    split: str = "auto"  # Markdown/HTML/PDF by headings (pages) and length, text by paragraph
    min_words: int = 20  # shorter documents make poor answers

    def __post_init__(self):
        if not 1 <= self.min_score <= 5:
            raise ConfigError(f"--min-score must be from 1 to 5 (got {self.min_score})")


def parse_instruction(text: str, _request=None) -> str:
    instruction = labelled(text, "Instruction")
    if len(instruction.split()) > 300:
        from dataforge.llm.types import ParseError

        raise ParseError("the instruction is longer than 300 words")
    return instruction


def backtranslate(docs, out, options: SynthOptions, opts: BacktranslateOptions | None = None) -> SynthSummary:
    opts = opts or BacktranslateOptions()
    with Job("backtranslate", out, options, inputs=input_files(docs, out)) as job:
        source = read_documents(docs, out=out, rejects=job.rejects, text_field=opts.text_field, split=opts.split,
                                min_words=opts.min_words)
        for batch in job.batches(source):
            _batch(job, opts, batch)
        return job.finish()


def _batch(job: Job, opts: BacktranslateOptions, docs) -> None:
    made = job.run([job.request("backtranslate_instruction", tag=i, document=d.text) for i, d in enumerate(docs)],
                   parse_instruction, "backtranslate: instructions")
    pairs = []
    for doc, res in zip(docs, made):
        if res.ok:
            pairs.append((doc, res))
        else:
            job.reject_result("instruction", res, row={"document": doc.text, "source": doc.source}, id=doc.id)
    grades = job.run([job.request("backtranslate_curate", tag=i, instruction=res.value, document=doc.text,
                                  model=opts.judge_model, temperature=0.0, max_tokens=512)
                      for i, (doc, res) in enumerate(pairs)],
                     lambda text, _r: score(text, 1, 5), "backtranslate: self-curation")
    for (doc, res), grade in zip(pairs, grades):
        row = {"instruction": res.value, "document": doc.text, "source": doc.source}
        if not grade.ok:
            job.reject_result("curation", grade, row=row, id=doc.id)
        elif grade.value < opts.min_score:
            job.reject(f"low self-curation score: {grade.value} < --min-score {opts.min_score}",
                       row={**row, "score": grade.value, "judge_output": grade.content}, id=doc.id)
        else:
            job.add(InstructionRecord(instruction=res.value, output=doc.text, category="backtranslate",
                                      meta=job.lineage([res, grade], score=grade.value, source=doc.source,
                                                       source_id=doc.id, judge_model=grade.request.model,
                                                       position=doc.position)))
