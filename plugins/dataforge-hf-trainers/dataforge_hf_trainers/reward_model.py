"""A dataforge reward model as an RL reward: answers scored exactly as the reward backend trained on them.

The reward backend trained on token ids dataforge made: the pair rendered with
the run's template, BOS where the template did not write one, EOS after the
answer. TRL's own reward-model path instead scores `prompt + completion` text
tokenized without special tokens, which the model never saw (no BOS, no EOS):
on a real run that dropped held-out pairwise accuracy from 0.973 to 0.671.
`RewardModelScore` re-renders each answer through the same code the reward
backend's data went through (`render_preference` / `render_sft`, then
dataforge's tokenization) and reads the score the same way its trainer did
(right-padded batch, the classifier's last non-pad position).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import torch

from dataforge.errors import ConfigError
from dataforge.records import ConversationRecord, PreferenceRecord
from dataforge.train.data import _Tokenize, stop_token_ids
from dataforge.train.render import render_preference, render_sft
from dataforge_hf_trainers.family_data import as_answer_record, load_record

RECORD = "dataforge_train.json"


def read_reward_folder(folder) -> dict:
    """The reward run's record (dataforge_train.json); ConfigError when `folder` is not a reward model."""
    path = Path(folder)
    rec_path = path / RECORD
    if not rec_path.is_file():
        raise ConfigError(f"reward_model {folder}: not a dataforge training output (no {RECORD})",
                          "train one with `dataforge train -b reward`, and pass its -o folder")
    record = json.loads(rec_path.read_text(encoding="utf-8"))
    if record.get("backend") != "reward":
        raise ConfigError(f"reward_model {folder} was trained with backend '{record.get('backend')}', not reward",
                          "pass the -o folder of a `dataforge train -b reward` run")
    return record


def _base_dir(record: dict, folder: Path) -> Path | None:
    base = Path(str((record.get("base_model") or {}).get("path") or ""))
    for candidate in (base, folder / base):
        if str(base) and (candidate / "config.json").is_file():
            return candidate
    return None


class RewardModelScore:
    """TRL reward function: the reward model's score of each sampled answer (see the module doc)."""

    __name__ = "reward_model"

    def __init__(self, folder, answers=None, *, device=None, batch_size: int = 16):
        from transformers import AutoModelForSequenceClassification
        from trl.trainer.reward_trainer import suppress_seqcls_warning

        from dataforge.train.run import load_tokenizer

        self.folder = Path(folder)
        record = read_reward_folder(self.folder)
        opts = record.get("options") or {}
        self.template = opts.get("template", "chat_template")
        self.lang = opts.get("lang", "en")
        self.tok = load_tokenizer(self.folder)
        base = _base_dir(record, self.folder)
        self.tk = _Tokenize(self.tok, SimpleNamespace(add_eos=opts.get("add_eos", True)),
                            stop_token_ids(self.tok, base or self.folder))
        self.answers = answers
        self.batch_size = batch_size
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        with suppress_seqcls_warning():
            if (record.get("result") or {}).get("kind") == "adapter":
                from peft import PeftModel

                if base is None:
                    raise ConfigError(f"reward_model {folder} is an adapter but its base model "
                                      f"{(record.get('base_model') or {}).get('path')} is not there",
                                      "keep the base model where the reward run found it")
                model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1,
                                                                           dtype=torch.float32)
                model = PeftModel.from_pretrained(model, str(self.folder))
            else:
                model = AutoModelForSequenceClassification.from_pretrained(str(self.folder), num_labels=1,
                                                                           dtype=torch.float32)
        model.config.pad_token_id = self.tok.pad_token_id
        self.model = model.to(self.device).eval()

    def ids(self, record, answer: str) -> list[int]:
        """The token ids the reward backend would have trained on for `answer` to `record`'s prompt."""
        if isinstance(record, ConversationRecord):
            prompt, completion = render_sft(as_answer_record(record, answer), self.template, self.tok, self.lang)
        else:
            pair = PreferenceRecord(instruction=record.instruction, chosen=answer, rejected=answer,
                                    context=record.context, id=record.id, lang=record.lang, meta=dict(record.meta))
            prompt, completion, _ = render_preference(pair, self.template, self.tok, self.lang)
        return self.tk.ids(prompt, completion)[0]

    @torch.no_grad()
    def score_ids(self, batch: list[list[int]]) -> list[float]:
        out = []
        pad = self.tok.pad_token_id
        for start in range(0, len(batch), self.batch_size):
            chunk = batch[start:start + self.batch_size]
            width = max(len(ids) for ids in chunk)
            input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids in chunk], device=self.device)
            mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids in chunk], device=self.device)
            out.extend(self.model(input_ids=input_ids, attention_mask=mask).logits[:, 0].float().tolist())
        return out

    def score(self, records, answers: list[str]) -> list[float]:
        return self.score_ids([self.ids(r, a) for r, a in zip(records, answers)])

    def __call__(self, prompts, completions, completion_ids, reference=None, record=None, **_):
        if record is None:
            raise ConfigError("the reward model needs each row's record (prepared by the rloo/grpo backends)")
        answers = [self.answers(ids) for ids in completion_ids] if self.answers else list(completions)
        return self.score([load_record(r) for r in record], answers)
