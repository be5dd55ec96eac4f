"""A deterministic stand-in for a chat model that understands dataforge's synth prompts.

It recognises each built-in prompt by a phrase in it and answers in the asked-for
form, with content derived from a hash of the request, so answers are varied
(novel under ROUGE-L) yet identical for identical requests.
"""

from __future__ import annotations

import hashlib
import json
import random
import re

VOCAB = ("river mountain algebra poem recipe budget galaxy violin harvest protocol glacier lantern theorem "
         "market sonnet bridge voltage kernel orchard tide compass fossil prism ledger canyon puzzle meadow "
         "engine harbor thread summit cipher lagoon beacon quartz atlas ember forest signal velvet archive "
         "cactus dialect tunnel orbit pigment saddle tundra vessel whistle zenith anchor basalt copper delta "
         "falcon granite hollow island jasmine kettle lemon marble nectar oyster pepper quiver raven salmon").split()
VERBS = ("Explain", "Summarize", "Describe", "Compare", "List", "Write", "Classify", "Translate", "Outline",
         "Suggest", "Evaluate", "Rewrite")


def rng_for(*parts) -> random.Random:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def task(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)} the {' '.join(rng.sample(VOCAB, 6))} in two sentences."


def between(text: str, start: str, end: str) -> str:
    i = text.index(start) + len(start)
    j = text.index(end, i) if end else len(text)
    return text[i:j].strip()


def fake_model(request: dict) -> str:
    text = request["messages"][-1]["content"]
    rng = rng_for(text, request.get("temperature"), request.get("seed"), request.get("model"))
    if "new tasks that differ" in text:
        count = int(re.search(r"Write (\d+) new tasks", text).group(1))
        return "\n".join(f"{i}. {task(rng)}" for i in range(1, count + 1))
    if "Act as a prompt rewriter" in text:
        parent = between(text, "Prompt:\n", "\n\nWrite only")
        return f"#Rewritten Prompt#: {parent} Also {' '.join(rng.sample(VOCAB, 7))}."
    if "Act as a prompt creator" in text:
        return task(rng)
    if "Equal or Different" in text:
        return "Different"
    if "Write the request (the instruction)" in text:
        doc = between(text, 'Text:\n"""', '"""')
        return f"Instruction: Explain {' '.join(doc.split()[:6])} and why it matters."
    if "5-point scale" in text:
        doc = between(text, 'Answer:\n"""', '"""')
        return f"The answer is on topic.\nScore: {2 if 'LOWSCORE' in doc else 5}"
    if "question-answer pairs" in text:
        count = int(re.search(r"write (\d+) question-answer pairs", text).group(1))
        passage = between(text, 'Passage:\n"""', '"""')
        words = passage.split()
        pairs = [{"question": f"What does the passage say about {words[(i * 3) % len(words)]} (part {i + 1})?",
                  "answer": " ".join(words[i:i + 8])} for i in range(count)]
        return "```json\n" + json.dumps(pairs) + "\n```"
    if "You are judging answers" in text:
        answers = re.findall(r"\[Answer \d+\]\n(.*?)\n\[End of answer", text, re.S)
        scores = [min(10, 1 + len(a) % 10) if "GOOD" not in a else 9 for a in answers]
        return json.dumps({"scores": scores, "rationale": "Scored by length and the GOOD marker."})
    # anything else is a task to answer
    temp = request.get("temperature")
    marker = " GOOD" if temp is not None and temp < 0.8 else ""
    return f"Answer ({request.get('model')}, t={temp}, seed={request.get('seed')}){marker}: " + \
        " ".join(rng.sample(VOCAB, 10))
