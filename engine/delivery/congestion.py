"""What a 429 teaches about the server's real rate, one episode at a time.

A congestion episode starts with the first 429 for a request that left after the last decrease;
429s for requests sent before it are the same congestion seen late and change nothing. Each episode
lowers the pace once, to what the server demonstrably admitted in the window before the refused
request (a server at 2/s is found at its first refusal, not by halving five times). Then the pace
is held and probed upwards one request per window at a time; a probe that earns a 429 is undone and
the next one waits twice as long, so the pace stays at the server's rate instead of oscillating.

A 429 while the window was full at the configured rate is ambiguous: either arrival jitter pushed
one request into the previous window, or the server allows one less. The margin between windows is
widened first; only when it is at its widest does the rate drop by one request per window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine.delivery.window import Shape, Ticket


@dataclass
class Congestion:
    ceiling: float  # the configured rate: never exceeded
    floor: float  # never slower than this (requests per second)
    base_margin: float = 0.02
    max_margin: float = 0.08
    hold: float = 2.0  # seconds at a lowered pace before the first probe
    max_hold: float = 60.0
    step: float = 1.0  # seconds between probes while they succeed
    rate: float = field(init=False)
    margin: float = field(init=False)
    decreases: int = field(default=0, init=False)  # episodes that lowered the pace
    _decreased_at: float = field(default=-math.inf, init=False)
    _raised_at: float = field(default=-math.inf, init=False)
    _before_raise: tuple[float, float] = field(default=(0.0, 0.0), init=False)
    _before_episode: tuple[float, float] = field(default=(0.0, 0.0), init=False)
    _measured: int | None = field(default=None, init=False)  # admitted before the episode's 429
    _hold: float = field(default=0.0, init=False)
    _next_probe: float = field(default=math.inf, init=False)

    def __post_init__(self) -> None:
        self.rate = self.ceiling
        self.margin = self.base_margin
        self._hold = self.hold

    def refused(self, ticket: Ticket, admitted: int, now: float) -> bool:
        """A 429 for `ticket`; `admitted` requests left in the window before it and were taken.

        True when it opened a new episode and the pace changed."""
        if ticket.at < self._decreased_at:
            # Sent before the last decrease: the same episode, never a second decrease. Only a
            # sharper reading of it (an earlier request refused, fewer admitted before it) counts.
            if self._measured is None or admitted >= self._measured:
                return False
            self._measured = admitted
            self.rate, self.margin = self._before_episode
            self._lower(admitted)
            return True
        self._before_episode = (self.rate, self.margin)
        probing = self._raised_at > self._decreased_at
        failed_probe = probing and 0 <= ticket.at - self._raised_at < 2 * self.step
        if failed_probe:
            self.rate, self.margin = self._before_raise
            self._hold = min(self.max_hold, self._hold * 2)
            self._measured = None
        else:
            self._measured = admitted
            if self._lower(admitted):
                self._hold = self.hold  # a slower server, maybe for a while: probe soon
        self.decreases += 1
        self._decreased_at = now
        self._next_probe = now + self._hold
        return True

    def _lower(self, admitted: int) -> bool:
        """Lower the pace (True) or, when the window was full, widen the margin (False)."""
        cap = Shape.of(self.rate).cap
        if cap == 1 or admitted == 0:
            self.rate = max(self.floor, self.rate / 2)  # nothing to measure: halve
        elif admitted >= cap - 1 and self.margin < self.max_margin:
            self.margin = min(self.max_margin, self.margin * 2)
            return False
        else:
            self.rate = max(self.floor, float(min(admitted, cap - 1)))
        return True

    def due(self, now: float) -> bool:
        """Probe upwards when the hold is over; True when the pace changed."""
        if now < self._next_probe:
            return False
        self._before_raise = (self.rate, self.margin)
        if self.margin > self.base_margin:
            self.margin = max(self.base_margin, self.margin / 2)
        elif self.rate < 1.0:
            self.rate = min(self.ceiling, 1.0, self.rate * 2)
        else:
            self.rate = min(self.ceiling, math.floor(self.rate + 1e-9) + 1.0)
        self._raised_at = now
        at_top = self.rate >= self.ceiling and self.margin <= self.base_margin
        self._next_probe = math.inf if at_top else now + self.step
        return True
