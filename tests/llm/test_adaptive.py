"""The adaptive window (`-c auto`) on scripted event sequences: exact window values, no clock, no server."""

from __future__ import annotations

from collections import deque

import pytest

from dataforge.llm.adaptive import FixedWindow, Window


def keep_full(win: Window, successes: int, latency: float = 0.1, queue: deque | None = None) -> deque:
    """A saturated sender: fill the window, then `successes` times answer the oldest and refill."""
    queue = deque() if queue is None else queue
    while len(queue) < win.limit:
        queue.append(win.acquire())
    for _ in range(successes):
        win.success(queue.popleft(), latency)
        while len(queue) < win.limit:
            queue.append(win.acquire())
    return queue


def test_slow_start_adds_one_per_success_of_a_used_window():
    win = Window(4)
    keep_full(win, 20)
    # the very first request went out with 1 of 4 in flight (under half the window): it does not count
    assert win.window == 23.0 and win.limit == 23


def test_a_window_that_is_never_filled_does_not_grow():
    win = Window(4)
    for _ in range(100):
        win.success(win.acquire(), 0.1)  # one at a time: a slow producer, the window is never tested
    assert win.window == 4.0


def test_a_burst_of_429s_is_one_multiplicative_cut():
    win = Window(8)
    win.slow_start = False
    tickets = [win.acquire() for _ in range(8)]
    for ticket in tickets:
        win.throttled(ticket)
    assert win.window == pytest.approx(6.4)  # 8 x 0.8 once, not 0.8 ** 8
    assert (win.limit, win.cuts, win.throttles, win.in_flight) == (6, 1, 8, 0)
    assert win.slow_start is False


def test_a_429_in_slow_start_cuts_from_the_level_that_drew_it():
    win = Window(4)
    queue = keep_full(win, 8)  # slow start: the window is at 11 by now
    assert win.window == 11.0 and win.in_flight == 11
    for _ in range(5):
        win.released(queue.pop())  # five fail otherwise (not the window's business): 6 left in flight
    early = queue.popleft()  # the oldest went out with 6 in flight, and met 6
    assert early.level == 6
    win.throttled(early)
    assert win.window == pytest.approx(6 * 0.8) and win.ceiling == 6 and not win.slow_start


def test_a_429_for_a_request_sent_after_the_cut_cuts_again():
    win = Window(8)
    win.slow_start = False
    win.throttled(win.acquire())
    assert win.window == pytest.approx(6.4)
    win.throttled(win.acquire())
    assert win.window == pytest.approx(6.4 * 0.8)
    assert win.cuts == 2


def test_after_a_429_it_returns_to_the_last_safe_level_fast_and_probes_above_it_rarely():
    win = Window(9)
    tickets = [win.acquire() for _ in range(9)]
    win.throttled(tickets[-1])  # the 9th in flight drew a 429: the server allows 8
    assert (win.window, win.ceiling, win.probe) == (pytest.approx(7.2), 9, 8)
    for ticket in tickets[:-1]:  # sent with 1..8 in flight: those from 5 up used the window
        win.success(ticket, 0.1)
    assert win.window == pytest.approx(7.7403505)
    queue = deque()
    keep_full(win, 6, queue=queue)
    assert win.window == 8.0  # back at the last safe level, never past it in the quick climb
    keep_full(win, 60, queue=queue)
    assert win.limit == 8  # 8 round trips at 8 before one step above
    keep_full(win, 8, queue=queue)
    assert win.limit == 9


def test_the_same_limit_hit_again_is_probed_half_as_often():
    win = Window(9)
    tickets = [win.acquire() for _ in range(9)]
    win.throttled(tickets[-1])
    assert win.probe == 8
    for ticket in tickets[:-1]:
        win.success(ticket, 0.1)
    win.window = 9.0
    again = [win.acquire() for _ in range(9)]
    win.throttled(again[-1])
    assert (win.ceiling, win.probe) == (9, 16)
    assert win.window == 8.0  # a probe that failed: straight back to the level below, not x 0.8
    for ticket in again[:4]:
        win.released(ticket)
    lower = win.acquire()
    assert lower.level < 9
    win.throttled(lower)  # a 429 at a lower level: the limit moved, probe at the normal pace again
    assert win.probe == 8


def test_rising_latency_cuts_once_per_round_trip():
    win = Window(16)
    win.slow_start = False
    queue = keep_full(win, 40, latency=0.1)
    # the server starts queueing: answers take 5x as long
    cuts, slow = win.cuts, 0
    while win.cuts == cuts:
        before = win.window
        win.success(queue.popleft(), 0.5)
        slow += 1
    assert win.window == pytest.approx(before * 0.9)
    assert slow == 3  # smoothed (EWMA 0.1): 0.14, 0.176, 0.208 > 2 x 0.1 on the 3rd slow answer
    # the rest of the requests sent before that cut come back slow too: no second cut for them
    for ticket in list(queue):
        win.success(ticket, 0.5)
    assert win.cuts == cuts + 1


def test_latency_within_tolerance_never_cuts():
    win = Window(16)
    keep_full(win, 300, latency=0.1)
    keep_full(win, 300, latency=0.15)  # 1.5x: a busier server, still within the 2x tolerance
    assert win.cuts == 0


def test_the_window_stays_within_its_bounds():
    win = Window(4, maximum=10)
    keep_full(win, 50)
    assert win.limit == 10
    low = Window(2, minimum=1)
    for _ in range(10):
        low.throttled(low.acquire())
    assert low.limit == 1 and low.window == 1.0


def test_a_fixed_window_never_moves():
    win = FixedWindow(8)
    queue = keep_full(win, 50)
    for ticket in list(queue):
        win.throttled(ticket)
    assert win.limit == 8 and win.window == 8.0 and win.throttles == 8
