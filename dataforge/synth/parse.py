"""Parsers for model output. Each returns the useful value or raises ParseError(reason).

They are strict on purpose: a reply that is not in the asked-for form is
asked again once and then rejected with the reason, never guessed at.
"""

from __future__ import annotations

import json
import re

from dataforge.llm.types import ParseError

_NUMBERED = re.compile(r"^\s*(?:\*\*)?(?:task\s*)?(\d{1,3})\s*[.):]\s*(?:\*\*)?\s*(.*\S)?\s*$", re.IGNORECASE)
_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n?|\n?```\s*$")
_LABEL = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?\s*(?:rewritten|new|created|evolved|given)?\s*(?:prompt|instruction|task)"
                    r"\s*(?:#+)?\s*(?:\*\*)?\s*:\s*(?:\*\*)?\s*", re.IGNORECASE)


def numbered_list(text: str) -> list[str]:
    """Items of a numbered list ("1. ...", "2) ...", "Task 3: ..."); continuation lines join their item."""
    items: list[str] = []
    for line in text.splitlines():
        match = _NUMBERED.match(line)
        if match:
            items.append(match.group(2) or "")
        elif items and line.strip():
            items[-1] = f"{items[-1]} {line.strip()}".strip()
    items = [" ".join(i.split()) for i in items if i and i.strip()]
    if not items:
        raise ParseError("no numbered list in the reply")
    return items


def strip_fences(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        text = _FENCE.sub("", text).strip()
    return text


def extract_json(text: str, kind: type):
    """The first JSON value of type `kind` (list or dict) in the reply, code fences allowed."""
    text = strip_fences(text)
    opener = "[" if kind is list else "{"
    start = text.find(opener)
    if start < 0:
        raise ParseError(f"no JSON {'array' if kind is list else 'object'} in the reply")
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg} at char {exc.pos}") from None
    if not isinstance(value, kind):
        raise ParseError(f"the JSON is a {type(value).__name__}, not a {'list' if kind is list else 'object'}")
    return value


def qa_pairs(text: str) -> list[tuple[str, str]]:
    """[{"question": ..., "answer": ...}, ...] -> [(q, a)]; items missing either are an error."""
    if "[" not in text and "{" not in text:
        raise ParseError("no JSON array in the reply")
    value = extract_json(text, list) if "[" in text else extract_json(text, dict).get("pairs")
    if not isinstance(value, list) or not value:
        raise ParseError("no question-answer pairs in the reply")
    pairs = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise ParseError(f"item {i} is not an object with question and answer")
        q, a = item.get("question"), item.get("answer")
        if not isinstance(q, str) or not q.strip():
            raise ParseError(f"item {i} has no question")
        if not isinstance(a, (str, int, float)) or not str(a).strip():
            raise ParseError(f"item {i} has no answer")
        pairs.append((q.strip(), str(a).strip()))
    return pairs


def labelled(text: str, label: str = "Instruction") -> str:
    """The text after `Label:` (or the whole reply when it has no label), quotes stripped."""
    text = strip_fences(text)
    match = re.search(rf"(?im)^\s*(?:\*\*)?{re.escape(label)}(?:\*\*)?\s*:\s*(?:\*\*)?", text)
    if match:
        text = text[match.end():]
    text = text.strip().strip('"').strip("“”").strip()
    if not text:
        raise ParseError(f"nothing after '{label}:'" if match else "empty reply")
    return text


def evolved_prompt(text: str) -> str:
    """The new prompt from an evolution reply, labels like '#Rewritten Prompt#:' removed."""
    text = strip_fences(text)
    text = _LABEL.sub("", text, count=1).strip().strip('"').strip()
    if not text:
        raise ParseError("the reply holds no prompt")
    return text


def score(text: str, low: int = 1, high: int = 5) -> int:
    """The N of the last 'Score: N' line, checked to lie in [low, high]."""
    found = re.findall(r"(?i)score\s*[:=]\s*\**\s*(\d+(?:\.\d+)?)", text)
    if not found:
        raise ParseError("no 'Score: N' line in the reply")
    value = float(found[-1])
    if not low <= value <= high or value != int(value):
        raise ParseError(f"score {found[-1]} is not a whole number from {low} to {high}")
    return int(value)


def equal_verdict(text: str) -> bool:
    """True for 'Equal', False for 'Different' (the evol-instruct equality check)."""
    words = re.findall(r"[a-z]+", text.lower())
    if words and words[0] in ("equal", "same", "identical"):
        return True
    if words and words[0] in ("different", "not", "unequal"):
        return False
    raise ParseError("the reply is neither 'Equal' nor 'Different'")


def judge_scores(text: str, count: int, low: float = 1, high: float = 10) -> tuple[list[float], str]:
    """{"scores": [...count numbers...], "rationale": "..."} -> (scores, rationale)."""
    obj = extract_json(text, dict)
    scores = obj.get("scores")
    if not isinstance(scores, list) or len(scores) != count:
        got = len(scores) if isinstance(scores, list) else "no"
        raise ParseError(f"expected {count} scores, got {got}")
    out = []
    for s in scores:
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not low <= s <= high:
            raise ParseError(f"score {s!r} is not a number from {low:g} to {high:g}")
        out.append(float(s))
    rationale = obj.get("rationale")
    if not isinstance(rationale, str) or not rationale.strip():
        raise ParseError("no rationale")
    return out, rationale.strip()
