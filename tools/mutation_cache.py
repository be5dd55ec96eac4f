"""pytest plugin for `make mutation` only: build the tiny tokenizer and model once, not once per mutant.

mutmut starts a fresh pytest session for every mutant, so the session fixtures of tests/conftest.py
(13 s for the tiny tokenizer on this machine) would run hundreds of times. This wraps
dataforge.tiny's builders with a folder cache keyed by their arguments (MUTATION_TINY_CACHE); the
tests still get their own copy in their own temporary folder. dataforge.tiny is never mutated.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


def _contents(folder) -> str:
    h = hashlib.sha256()
    for f in sorted(Path(folder).rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(folder)).encode() + f.read_bytes())
    return h.hexdigest()


def _cached(build, kind: str):
    root = Path(os.environ["MUTATION_TINY_CACHE"])

    def wrapper(out, *args, **kwargs):
        # a folder argument (tokenizer_dir) differs per session; its contents are what matter
        named = sorted((k, _contents(v) if isinstance(v, (str, Path)) and Path(v).is_dir() else v)
                       for k, v in kwargs.items())
        key = hashlib.sha256(repr((kind, args, named)).encode()).hexdigest()[:16]
        done = root / f"{kind}-{key}"
        if not done.exists():
            tmp = root / f".{kind}-{key}.{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            build(tmp, *args, **kwargs)
            os.replace(tmp, done)
        shutil.copytree(done, out, dirs_exist_ok=True)
        return out

    return wrapper


def pytest_configure(config):
    if not os.environ.get("MUTATION_TINY_CACHE"):
        return
    import dataforge.tiny as tiny

    if not getattr(tiny, "_mutation_cached", False):
        tiny.build_tiny_tokenizer = _cached(tiny.build_tiny_tokenizer, "tokenizer")
        tiny.build_tiny_model = _cached(tiny.build_tiny_model, "model")
        tiny._mutation_cached = True
