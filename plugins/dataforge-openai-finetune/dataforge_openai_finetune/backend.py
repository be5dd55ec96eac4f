"""The `openai` backend object the entry point names. Light at import: the openai client loads in `run_hosted`.

A hosted backend sets `hosted = True`: `dataforge.train.train` then hands it
the raw arguments (`run_hosted`) instead of a TrainJob, because a service
trains on records and a model *name*, not on locally tokenized rows and a
model folder.
"""

from __future__ import annotations

from dataforge.errors import ConfigError
from dataforge_openai_finetune.options import OpenAIOptions


class OpenAIFineTune:
    name = "openai"
    description = "Hosted OpenAI fine-tuning (supervised, or DPO for chosen/rejected data); --model is a model name."
    options_model = OpenAIOptions
    hosted = True

    def check_environment(self, options: OpenAIOptions) -> list[str]:
        from dataforge_openai_finetune.jobs import environment_problems

        return environment_problems(options)

    def run_hosted(self, model, data, output, **kwargs):
        """Check, upload, create the job, follow it; see dataforge_openai_finetune.hosted.finetune."""
        from dataforge_openai_finetune.hosted import finetune

        return finetune(model, data, output, **kwargs)

    def train(self, job):
        raise ConfigError("backend 'openai' trains on OpenAI's servers from records and a model name, not from a "
                          "prepared TrainJob", "run it through `dataforge train --backend openai` or "
                          "dataforge.train.train('openai', MODEL_NAME, DATA, OUT)")


BACKEND = OpenAIFineTune()
