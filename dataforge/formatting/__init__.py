"""Formatting records for training: templates, styles, tokenizer checks, exports.

    format_record(record, template="chatml", lang="en", tokenizer=None) -> {"prompt", "completion"}
    format_preference(record, template, lang, tokenizer=None)           -> {"prompt", "chosen", "rejected"}
    tokenize_example(tokenizer, prompt, completion, max_length=None)     -> input_ids + completion_mask
    format_dataset(data, out, template=..., style=..., ...)              -> the `dataforge format` command
    validate_openai(rows, epochs=None, price_per_1m_tokens=None)         -> OpenAI fine-tuning readiness
"""

from dataforge.formatting.api import RowRejected, format_preference, format_record, get_formatter

__all__ = ["format_record", "format_preference", "get_formatter", "RowRejected", "format_dataset",
           "tokenize_example", "validate_openai"]


def __getattr__(name):  # heavier parts load on first use
    if name == "format_dataset":
        from dataforge.formatting.dataset import format_dataset

        return format_dataset
    if name == "tokenize_example":
        from dataforge.formatting.tokens import tokenize_example

        return tokenize_example
    if name == "validate_openai":
        from dataforge.formatting.openai_check import validate_openai

        return validate_openai
    raise AttributeError(name)
