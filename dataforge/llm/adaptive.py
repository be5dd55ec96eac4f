"""Adaptive concurrency (`-c auto`): how many requests one endpoint and model get in flight at once.

`Window` is the controller, pure arithmetic with no clock and no I/O, fed one
event per answer. `acquire()` hands out a `Ticket` (its send number and how
many were in flight with it); the answer comes back as `success(ticket,
latency)`, `throttled(ticket)` (429, 503, a read timeout) or `released(ticket)`
(any other failure: not the window's business). The rule is AIMD with memory:

* Slow start: from `start` (4), +1 per success, i.e. the window doubles every
  round trip, until the first backoff.
* Then additive increase, one step per round trip (+1/window per success);
  while below `ceiling - 1` (the last safe level under the level that drew a
  429) it climbs faster, half the gap per round trip, so a cut is recovered in
  a few round trips; from `ceiling - 1` up it probes one step above only every
  `probe` round trips (8, doubled each time the same level draws a 429 again,
  up to 64), which keeps 429s rare once the limit is found.
* A 429/503/timeout multiplies the window by `beta` (0.8) (in slow start: the
  in-flight level the request met, if lower); a 429 at the level already known
  to draw one (a probe) steps back just below it; a smoothed latency
  above `tolerance` (2x) times the lowest recent one by `latency_beta` (0.9).
  At most one cut per round trip: an answer to a request sent before the last
  cut does not cut again (the TCP rule), so a burst of 429s is one backoff.
* Requests at levels never seen to succeed are spaced `explore_gap()` apart
  (the caller waits): answers of a constant-latency server come back in
  bursts, and without spacing a slow-start round would send its whole
  doubling before the first 429 is read.
* The window grows only when it was used (the request went out with at least
  half the window in flight): a slow producer never inflates it untested.

`FixedWindow(n)` has the same interface and never moves (`-c N`).
"""

from __future__ import annotations

import math


class Ticket:
    """One request in flight: its send number (`seq`), the in-flight count it went out with (`level`) and
    whether that filled at least half the window then (`used`)."""

    __slots__ = ("seq", "level", "used")

    def __init__(self, seq: int, level: int, used: bool):
        self.seq, self.level, self.used = seq, level, used


class Window:
    def __init__(self, start: int = 4, *, minimum: int = 1, maximum: int = 512, beta: float = 0.8,
                 latency_beta: float = 0.9, tolerance: float = 2.0, probe: int = 8, max_probe: int = 64,
                 ewma: float = 0.1, base_samples: int = 200):
        self.minimum, self.maximum = max(1, minimum), max(1, maximum)
        self.window = float(min(max(start, self.minimum), self.maximum))
        self.beta, self.latency_beta, self.tolerance = beta, latency_beta, tolerance
        self.first_probe, self.max_probe = probe, max_probe
        self.probe = probe
        self.slow_start = True
        self.ceiling: int | None = None  # the in-flight level that last drew a 429
        self.in_flight = 0
        self.tested = 0  # the highest in-flight level a request has succeeded at
        self.explore_at = 0.0  # the caller's clock: when the next untested level may go out
        self.sent = 0
        self.cut_at = 0  # send number at the last cut
        self.throttles = 0
        self.cuts = 0
        self.latency: float | None = None  # smoothed (EWMA) seconds per good answer
        self._alpha = ewma
        self._base_samples = base_samples
        self._base_now = math.inf  # lowest smoothed latency in this block of samples...
        self._base_before = math.inf  # ...and in the block before (so a lasting change is learnt)
        self._samples = 0

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return max(self.minimum, min(self.maximum, int(self.window)))

    @property
    def base(self) -> float:
        return min(self._base_now, self._base_before)

    def acquire(self) -> Ticket:
        self.in_flight += 1
        self.sent += 1
        return Ticket(self.sent, self.in_flight, self.in_flight * 2 >= self.limit)

    def released(self, ticket: Ticket) -> None:
        self.in_flight = max(0, self.in_flight - 1)

    def exploring(self) -> bool:
        """Would the next request go out at a level never seen to succeed?"""
        return self.in_flight >= self.tested

    def explore_gap(self) -> float:
        """Seconds between requests at untested levels: a doubling spread over one round trip, so the 429
        of the first level too many is back before many more are sent (answers come back in bursts)."""
        return 0.0 if self.latency is None else self.latency / max(1, self.limit)

    def success(self, ticket: Ticket, latency: float) -> None:
        self.released(ticket)
        self.tested = max(self.tested, ticket.level)
        if self._latency(latency) and ticket.seq > self.cut_at:
            self._cut(self.latency_beta)
            return
        if not ticket.used:
            return  # the window was not used: no evidence that more would work
        if self.latency is not None and self.latency > (1 + self.tolerance) / 2 * self.base:
            return  # latency is climbing: hold
        if self.slow_start:
            self.window += 1
        else:
            safe = None if self.ceiling is None else self.ceiling - 1
            if safe is not None and self.window < safe:
                step = max(1.0, (safe - self.window) / 2)  # back to the last safe level quickly
                self.window = min(float(safe), self.window + step / self.window)
            elif safe is not None:
                self.window += 1 / (self.window * self.probe)  # probe above it rarely
            else:
                self.window += 1 / self.window
        self.window = min(self.window, float(self.maximum))

    def throttled(self, ticket: Ticket) -> None:
        """A 429 / 503 / timeout: the server is at its limit."""
        # the level it met: the in-flight count it went out with, or more if others went out alongside it
        level = max(ticket.level, self.in_flight)
        self.released(ticket)
        self.throttles += 1
        if ticket.seq <= self.cut_at:
            return  # sent before the last cut: that cut already answered it
        if self.ceiling is not None and level >= self.ceiling:
            # the known limit again (a probe): probe it less often, and step back just below it
            self.probe = min(self.max_probe, self.probe * 2)
            self.ceiling = level
            self._cut(max(self.beta, (level - 1) / self.window), None)
            return
        self.probe = self.first_probe
        self.ceiling = level
        # in slow start the window outruns the answers (it doubles per round trip): cut from the level
        # that drew the 429, not from where the window got to meanwhile
        self._cut(self.beta, min(self.window, float(level)) if self.slow_start else None)

    def _cut(self, factor: float, window: float | None = None) -> None:
        self.window = max(float(self.minimum), (self.window if window is None else window) * factor)
        self.slow_start = False
        self.cut_at = self.sent
        self.cuts += 1

    def _latency(self, latency: float) -> bool:
        """Fold one latency in; True when it has risen past `tolerance` and a cut is due."""
        self.latency = latency if self.latency is None else self.latency + self._alpha * (latency - self.latency)
        self._base_now = min(self._base_now, self.latency)
        self._samples += 1
        if self._samples >= self._base_samples:
            self._base_before, self._base_now, self._samples = self._base_now, math.inf, 0
        return self.latency > self.tolerance * self.base

    def describe(self) -> str:
        return str(self.limit)


class FixedWindow(Window):
    """`-c N`: N in flight, never more, never fewer."""

    def __init__(self, n: int):
        super().__init__(n, minimum=n, maximum=n)

    def success(self, ticket: Ticket, latency: float) -> None:
        self.released(ticket)

    def throttled(self, ticket: Ticket) -> None:
        self.released(ticket)
        self.throttles += 1
