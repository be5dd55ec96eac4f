"""A scripted translator for the loopback chat-completions server.

It reads a translate request the way a model would (target language from the
system prompt, rows from the JSON array) and answers with text that really is
in the target language and keeps every ⟦n⟧ token, unless told to misbehave.
"""

from __future__ import annotations

import json
import re

FILLER = {
    "Spanish": "el texto traducido dice que la casa es muy grande y tiene un jardín con flores y árboles",
    "French": "le texte traduit dit que la maison est très grande et qu'elle a un jardin avec des fleurs",
    "German": "der übersetzte Text sagt dass das Haus sehr groß ist und einen Garten mit Blumen hat",
    "English": "the translated text says that the house is very big and has a garden with flowers and trees",
}
TOKEN = re.compile(r"⟦\d+⟧")


def target_of(request: dict) -> str:
    system = request["messages"][0]["content"]
    return re.search(r"into ([A-Z][a-z]+)", system).group(1)


def items_of(request: dict) -> list[dict]:
    return json.loads(request["messages"][-1]["content"])


def filler_translation(text: str, language: str) -> str:
    """Target-language words about as long as the source, with every token kept in order."""
    words = FILLER[language].split()
    prose = TOKEN.sub("", text)
    n = max(3, len(prose.split()))
    body = " ".join((words * (n // len(words) + 1))[:n])
    tokens = TOKEN.findall(text)
    return (body[0].upper() + body[1:] + "." + "".join(" " + t for t in tokens)).strip()


class Translator:
    """`reply(request)` for LoopbackServer. `table` maps a masked source text to its translation;
    `hook(request, rows) -> str | None` may replace the whole reply (faults, commentary)."""

    def __init__(self, table: dict | None = None, hook=None, wrap=None):
        self.table = table or {}
        self.hook = hook
        self.wrap = wrap  # e.g. lambda s: "Here you go:\n```json\n" + s + "\n```"
        self.seen: list[dict] = []

    def translate_rows(self, request: dict) -> list[dict]:
        language = target_of(request)
        out = []
        for item in items_of(request):
            row = {"id": item["id"]}
            for key, value in item.items():
                if key != "id":
                    row[key] = self.table.get(value) or filler_translation(value, language)
            out.append(row)
        return out

    def __call__(self, request: dict) -> str:
        self.seen.append(request)
        rows = self.translate_rows(request)
        if self.hook is not None:
            custom = self.hook(request, rows)
            if custom is not None:
                return custom
        text = json.dumps(rows, ensure_ascii=False)
        return self.wrap(text) if self.wrap else text
