"""The in-process backends' request queue (llm/gather.py): what one batch holds, and how failures land."""

from __future__ import annotations

import asyncio

import pytest

from dataforge.llm.gather import GatherQueue
from dataforge.llm.types import LLMError


def _submit_all(queue: GatherQueue, items: list) -> list:
    """Submit every item in one window (all queued before the first batch is taken); results or exceptions."""
    async def main():
        return await asyncio.gather(*(queue.submit(item) for item in items), return_exceptions=True)
    return asyncio.run(main())


def test_a_window_is_one_batch_and_results_go_back_to_their_callers():
    seen: list[list[str]] = []

    def run(items):
        seen.append(list(items))
        return [item.upper() for item in items]

    queue = GatherQueue(run, what="translation")
    assert _submit_all(queue, ["a", "b", "c"]) == ["A", "B", "C"]
    assert seen == [["a", "b", "c"]] and queue.batches == 1


def test_pick_groups_by_key_and_caps_the_batch_size():
    seen: list[list[tuple]] = []

    def run(items):
        seen.append(list(items))
        return [f"{key}{n}" for key, n in items]

    def pick(queued):  # the chat backend's rule: the head's key, at most 2
        return [i for i, item in enumerate(queued) if item[0] == queued[0][0]][:2]

    queue = GatherQueue(run, what="generation", pick=pick)
    items = [("x", 1), ("y", 2), ("x", 3), ("x", 4), ("y", 5)]
    assert _submit_all(queue, items) == ["x1", "y2", "x3", "x4", "y5"]
    assert seen == [[("x", 1), ("x", 3)], [("y", 2), ("y", 5)], [("x", 4)]]
    assert queue.batches == 3


def test_a_failing_batch_fails_its_requests_with_an_llm_error_naming_the_cause():
    def run(items):
        raise ValueError("CUDA out of memory")

    out = _submit_all(GatherQueue(run, what="translation"), ["a", "b"])
    assert [type(e) for e in out] == [LLMError, LLMError]
    assert [str(e) for e in out] == ["local translation failed: ValueError: CUDA out of memory"] * 2


def test_an_llm_error_from_the_batch_is_passed_on_unchanged():
    fatal = LLMError("the tokenizer has no chat template", fatal=True)

    def run(items):
        raise fatal

    out = _submit_all(GatherQueue(run, what="generation"), ["a", "b"])
    assert out == [fatal, fatal]


def test_one_bad_item_fails_alone_and_a_short_result_list_fails_the_batch():
    def run(items):
        return [LLMError(f"no target for {i}") if i == "b" else i for i in items]

    out = _submit_all(GatherQueue(run, what="translation"), ["a", "b", "c"])
    assert out[0] == "a" and out[2] == "c" and str(out[1]) == "no target for b"

    short = _submit_all(GatherQueue(lambda items: items[:1], what="generation"), ["a", "b"])
    assert [str(e) for e in short] == ["local generation: 1 results for 2 requests"] * 2


@pytest.mark.parametrize("settle", [0.0, 0.01])
def test_requests_submitted_after_a_batch_started_run_in_the_next_one(settle):
    seen: list[list[int]] = []

    def run(items):
        seen.append(list(items))
        return items

    async def main():
        queue = GatherQueue(run, what="generation", settle=settle)
        first = await queue.submit(1)
        second = await asyncio.gather(queue.submit(2), queue.submit(3))
        return first, second

    assert asyncio.run(main()) == (1, [2, 3])
    assert seen == [[1], [2, 3]]
