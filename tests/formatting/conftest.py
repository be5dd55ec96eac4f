"""Tokenizer variants built from the shared tiny tokenizer, and quiet progress bars."""

from __future__ import annotations

import pytest

from dataforge.progress import set_quiet

BOS_TEMPLATE = (  # a Llama-3-like template that writes the BOS itself
    "{{ bos_token }}{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@pytest.fixture(autouse=True)
def _quiet():
    set_quiet(True)
    yield
    set_quiet(False)


def _variant(tmp_path_factory, base, name, **changes):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(base))
    for key, value in changes.items():
        setattr(tok, key, value)
    out = tmp_path_factory.mktemp(name)
    tok.save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def tok(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_tokenizer_dir))


@pytest.fixture(scope="session")
def pad_eos_tokenizer_dir(tmp_path_factory, tiny_tokenizer_dir):
    """The tiny tokenizer with pad == eos (the setting that hides the EOS from the loss)."""
    return _variant(tmp_path_factory, tiny_tokenizer_dir, "pad_eos", pad_token="</s>")


@pytest.fixture(scope="session")
def bos_template_tokenizer_dir(tmp_path_factory, tiny_tokenizer_dir):
    """A chat template that writes {{ bos_token }} while the tokenizer also adds a BOS."""
    return _variant(tmp_path_factory, tiny_tokenizer_dir, "bos_template", chat_template=BOS_TEMPLATE)


@pytest.fixture(scope="session")
def no_template_tokenizer_dir(tmp_path_factory, tiny_tokenizer_dir):
    return _variant(tmp_path_factory, tiny_tokenizer_dir, "no_template", chat_template=None)
