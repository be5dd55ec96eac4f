"""Token-level correctness: one BOS, the EOS/end-of-turn trained on, prompt masked.

Text is tokenized once, as a whole, *without* the tokenizer's automatic
special tokens (text that went through a chat template already has them);
exactly one BOS is then put in front when the tokenizer uses one. The
prompt/completion boundary comes from character offsets, so the mask matches
the tokens the model really sees even when a token spans the boundary (such
a token is trained on).

    >>> ex = tokenize_example(tok, prompt, completion, max_length=2048)   # doctest: +SKIP
    >>> ex["input_ids"], ex["completion_mask"]                            # doctest: +SKIP
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from dataforge.errors import ConfigError
from dataforge.io.shapes import RowError


@dataclass
class TokenizerFacts:
    """What matters about a tokenizer for training, found once per run."""

    tokenizer: object
    bos_id: int | None
    eos_id: int | None
    pad_id: int | None
    adds_bos: bool
    adds_eos: bool
    end_ids: set[int] = field(default_factory=set)   # ids that may end a completion
    special_ids: set[int] = field(default_factory=set)
    fast: bool = True

    def warnings(self) -> list[str]:
        tok, out = self.tokenizer, []
        if self.pad_id is None:
            out.append("the tokenizer has no pad token; trainers then pad with EOS, and a collator that masks"
                       " padding also masks the EOS, so the model may never learn to stop; add a pad token")
        elif self.pad_id == self.eos_id:
            out.append(f"the tokenizer's pad token equals its EOS token ({tok.eos_token!r}): a collator that masks"
                       " padding also masks the EOS, so the model may never learn to stop; set a distinct pad"
                       " token (e.g. tokenizer.add_special_tokens({'pad_token': '<pad>'}))")
        if self.adds_eos:
            out.append("the tokenizer appends EOS by itself; dataforge tokenizes without it (the template writes"
                       " the EOS), but a trainer calling tokenizer(text) would add a second one")
        return out


def tokenizer_facts(tok, end_of_turn: str = "", eos_token: str | None = None,
                    any_special_ends: bool = False) -> TokenizerFacts:
    """Inspect `tok`; `end_of_turn` (a template's marker) must be one token in its vocabulary."""
    probe = tok("a", add_special_tokens=True)["input_ids"]
    facts = TokenizerFacts(tokenizer=tok, bos_id=tok.bos_token_id, eos_id=tok.eos_token_id, pad_id=tok.pad_token_id,
                           adds_bos=bool(probe) and tok.bos_token_id is not None and probe[0] == tok.bos_token_id,
                           adds_eos=bool(probe) and tok.eos_token_id is not None and probe[-1] == tok.eos_token_id)
    facts.special_ids = set(getattr(tok, "all_special_ids", []) or [])
    facts.special_ids |= {i for i, t in (getattr(tok, "added_tokens_decoder", {}) or {}).items()
                          if getattr(t, "special", False)}
    for marker in filter(None, {end_of_turn, eos_token}):
        ids = tok(marker, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            raise ConfigError(f"the template ends turns with {marker!r}, which this tokenizer splits into"
                              f" {len(ids)} tokens (it is not in its vocabulary)",
                              "use a template made for this model: --template chat (the tokenizer's own), or"
                              " one whose special tokens the tokenizer has")
        facts.end_ids.add(ids[0])
    if facts.eos_id is not None:
        facts.end_ids.add(facts.eos_id)
    if any_special_ends:
        facts.end_ids |= facts.special_ids - {facts.bos_id, facts.pad_id}
    try:
        tok("a", return_offsets_mapping=True, add_special_tokens=False)
    except (NotImplementedError, ValueError, TypeError):
        facts.fast = False
    return facts


@dataclass(slots=True)
class Tokenized:
    input_ids: list[int]
    completion_mask: list[int]     # 1 = trained on, 0 = masked (prompt, BOS)
    text_end: int                  # characters of prompt+completion the ids cover (less when truncated)
    truncated: bool = False
    original_length: int = 0

    @property
    def trained(self) -> int:
        return sum(self.completion_mask)


def tokenize_batch(facts: TokenizerFacts, prompts: list[str], completions: list[str], *,
                   max_length: int | None = None, truncate: bool = False) -> list[Tokenized | RowError]:
    """Tokenize prompt+completion pairs in one batch call; a row that breaks a rule becomes a RowError."""
    if not prompts:  # every row of the batch was rejected before tokenizing (fast tokenizers fail on [])
        return []
    tok = facts.tokenizer
    texts = [p + c for p, c in zip(prompts, completions)]
    if facts.fast:
        enc = tok(texts, add_special_tokens=False, return_offsets_mapping=True)
        all_ids, all_offsets = enc["input_ids"], enc["offset_mapping"]
    else:  # slow tokenizer: the boundary is the tokenized prompt's length
        all_ids = tok(texts, add_special_tokens=False)["input_ids"]
        plens = [len(x) for x in tok(prompts, add_special_tokens=False)["input_ids"]]
        all_offsets = [None] * len(texts)
    out: list[Tokenized | RowError] = []
    for i, (ids, offsets) in enumerate(zip(all_ids, all_offsets)):
        boundary = len(prompts[i])
        if offsets is not None:
            ends = [e for _s, e in offsets]
            n_prompt = bisect.bisect_right(ends, boundary) if boundary else 0
        else:
            n_prompt = plens[i]
            ends = None
        out.append(_finish(facts, list(ids), n_prompt, ends, len(texts[i]), max_length, truncate))
    return out


def _finish(facts: TokenizerFacts, ids: list[int], n_prompt: int, ends, n_chars: int,
            max_length: int | None, truncate: bool) -> Tokenized | RowError:
    if facts.adds_bos and (not ids or ids[0] != facts.bos_id):
        ids.insert(0, facts.bos_id)
        n_prompt += 1
        ends = [0] + ends if ends is not None else None
    if facts.bos_id is not None:
        n_bos = ids.count(facts.bos_id)
        if n_bos > 1:
            return RowError(f"{n_bos} BOS tokens in one example (the text already holds one); use a template"
                            " that does not write the BOS")
    if n_prompt >= len(ids):
        return RowError("nothing to train on: the completion is empty after tokenization", "output")
    if ids[-1] not in facts.end_ids:
        return RowError("the example does not end with an EOS/end-of-turn token, so the model would not learn"
                        " to stop; check the template's end_of_turn")
    mask = [0] * n_prompt + [1] * (len(ids) - n_prompt)
    length = len(ids)
    if max_length and length > max_length:
        if not truncate:
            return RowError(f"{length} tokens, more than --max-length {max_length} (pass --truncate to cut"
                            " such rows instead)")
        if n_prompt >= max_length:
            return RowError(f"the prompt alone is {n_prompt} tokens, so nothing is left to train on within"
                            f" --max-length {max_length}")
        text_end = ends[max_length - 1] if ends is not None else n_chars
        return Tokenized(ids[:max_length], mask[:max_length], text_end, True, length)
    return Tokenized(ids, mask, n_chars, False, length)


def tokenize_example(tokenizer, prompt: str, completion: str, max_length: int | None = None,
                     truncate: bool = False, end_of_turn: str = "") -> dict:
    """{"input_ids", "completion_mask", "labels"} for one pair; raises RowRejected when a rule is broken.

    `labels` is input_ids with the prompt (and BOS) set to -100, ready for a causal-LM loss.
    """
    from dataforge.formatting.api import RowRejected

    facts = tokenizer_facts(tokenizer, end_of_turn=end_of_turn, any_special_ends=not end_of_turn)
    result = tokenize_batch(facts, [prompt], [completion], max_length=max_length, truncate=truncate)[0]
    if isinstance(result, RowError):
        raise RowRejected(result.reason, result.field)
    labels = [t if m else -100 for t, m in zip(result.input_ids, result.completion_mask)]
    return {"input_ids": result.input_ids, "completion_mask": result.completion_mask, "labels": labels}
