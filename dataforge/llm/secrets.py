"""API keys: read them from the environment once, cleanly, and scrub them from any text.

A key pasted into a shell or read from a Windows file often ends in `\\r` or
`\\n`. `read_api_key` strips surrounding whitespace (what the server should
get) and refuses a key with control characters inside (it cannot be sent in
a header, and the error would otherwise quote it). `Redactor` replaces a key
in every form it may take in a message: as given, stripped, and escaped the
way `json.dumps`, `repr` or an HTTP library would write it.
"""

from __future__ import annotations

import json
import os

from dataforge.errors import ConfigError

MIN_SECRET = 4  # shorter values would redact ordinary words


def read_api_key(env_name: str | None) -> tuple[str | None, str | None]:
    """(key, raw): the key from $env_name stripped of surrounding whitespace, and the raw value.

    key is None when the variable is unset or blank. Raises ConfigError (never
    quoting the key) when it has control characters inside.
    """
    raw = os.environ.get(env_name) if env_name else None
    if raw is None:
        return None, None
    key = raw.strip()
    if not key:
        return None, raw
    bad = next((ch for ch in key if ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "\u2028\u2029\x85"), None)
    if bad is not None:
        raise ConfigError(f"the API key in ${env_name} contains a control character ({_name(bad)}) inside it",
                          f"set {env_name} again to the key alone, on one line (the key is not shown here)")
    return key, raw


def _name(ch: str) -> str:
    return {"\r": "carriage return", "\n": "line break", "\t": "tab"}.get(ch, f"U+{ord(ch):04X}")


def secret_forms(secret: str) -> set[str]:
    """Every spelling of `secret` that a message could carry."""
    forms = set()
    for value in {secret, secret.strip()}:
        forms.add(value)
        forms.add(json.dumps(value)[1:-1])               # "sk-x\r\n" -> sk-x\\r\\n
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
        forms.add(repr(value)[1:-1])                     # str repr
        forms.add(repr(value.encode("utf-8", "backslashreplace"))[2:-1])  # bytes repr (header errors)
        forms.add(value.encode("unicode_escape").decode("ascii"))
    return {f for f in forms if len(f) >= MIN_SECRET}


class Redactor:
    """Replaces secrets (in any of their `secret_forms`) in text with '***'."""

    def __init__(self, secrets=()):
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret.strip()) >= MIN_SECRET:
                forms |= secret_forms(secret)
        # longest first, so a form that contains another is replaced whole
        self.secrets = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str | None) -> str | None:
        if not text or not self.secrets:
            return text
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text
