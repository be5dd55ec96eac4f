"""Hosted OpenAI fine-tuning as a dataforge trainer backend (`dataforge train --backend openai`).

    >>> from dataforge_openai_finetune import finetune, cancel
    >>> run = finetune("gpt-4o-mini-2024-07-18", "data.jsonl", "out/ft", sets=["suffix=demo"])  # doctest: +SKIP
    >>> cancel("out/ft")                                                                         # doctest: +SKIP
"""

from __future__ import annotations

from dataforge_openai_finetune.backend import BACKEND, OpenAIFineTune
from dataforge_openai_finetune.options import OpenAIOptions

__all__ = ["BACKEND", "OpenAIFineTune", "OpenAIOptions", "finetune", "cancel"]


def finetune(*args, **kwargs):
    """See dataforge_openai_finetune.hosted.finetune."""
    from dataforge_openai_finetune.hosted import finetune as _finetune

    return _finetune(*args, **kwargs)


def cancel(*args, **kwargs):
    """See dataforge_openai_finetune.hosted.cancel."""
    from dataforge_openai_finetune.hosted import cancel as _cancel

    return _cancel(*args, **kwargs)
