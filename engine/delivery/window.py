"""The sliding-window arithmetic of pacing: when may the next request leave?

The API's window is not documented, so the strictest reasonable reading holds: never more than
`cap` requests in any sliding window of `width` seconds, counted when each request leaves. Departure
times are the times requests really left (a late wake-up is recorded as late), so a process that
was stopped for a while cannot catch up in a burst past the window. Pure and clock-free: the
limiter feeds it times.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

PROVEN = 0.001  # of a window, after an answer: timer resolution and the server's `<=` edge


@dataclass(eq=False)
class Ticket:
    """One request's place in the window: when it left, and whether the server refused it."""

    at: float
    refused: bool = False
    answered: float = math.inf  # when its answer began to arrive: the server counted it before

    def left(self, at: float) -> None:
        """The request really left at `at` (its task resumed later than granted): count that."""
        self.at = max(self.at, at)

    def answer(self, at: float) -> None:
        """The server's answer to this request arrived at `at`."""
        self.answered = min(self.answered, at)


@dataclass(frozen=True)
class Shape:
    """`cap` requests per `width` seconds; from a rate, as whole requests per window."""

    cap: int
    width: float

    @classmethod
    def of(cls, rate: float, base: float = 1.0) -> Shape:
        """10/s -> 10 per 1 s; 9.5/s -> 9 per 1 s (never more than the rate in a window);
        0.5/s -> 1 per 2 s. The window is never shorter than `base`: a shorter one would let two
        windows' worth of requests into one of the server's."""
        if rate * base >= 1.0:
            return cls(math.floor(rate * base + 1e-9), base)
        return cls(1, 1.0 / rate)


class SlidingWindow:
    """The recent departures and the rules on the next one (window cap plus smoothing).

    Smoothing spaces requests `width / cap` apart but lets a quarter of the window's requests go
    at once after a pause, so short stalls are made up inside the window instead of lost; the
    window cap is the hard rule. (Half the window at once was measured worse: a busy server takes
    such a burst late and bunched, and counts more than the cap in one of its seconds.)
    `margin` widens the window slightly: arrival at the server is the departure plus a latency
    that varies, and two requests a full window apart must not arrive closer than that.

    An answer narrows that doubt: the server counted a request before it answered, so a request
    that leaves a bare window (plus PROVEN) after the answer to the one `cap` before it cannot
    share a window with it at the server, however late either was counted. When that answer came
    sooner than the margin, the window keeps to it (`proof`, off while 429s say the server counts
    otherwise). The margin applies to the hard rule only, never to the smoothing spacing: a margin
    there would cost its share of the rate even when the answers prove it unneeded.
    """

    def __init__(self, shape: Shape, margin: float, history: int) -> None:
        self.shape = shape
        self.margin = margin
        self._log: deque[Ticket] = deque(maxlen=max(history, shape.cap + 1))
        self._smooth = -math.inf  # theoretical departure of the next request (GCRA)
        self.proof = True  # a request's answer may bound when the server counted it

    @property
    def width(self) -> float:
        """The window actually kept, margin included."""
        return self.shape.width * (1.0 + self.margin)

    def earliest(self) -> float:
        """The first time the next request may leave (-inf: now)."""
        cap = self.shape.cap
        spacing = self.shape.width / cap
        burst = max(1, cap // 4)
        earliest = self._smooth - (burst - 1) * spacing
        if len(self._log) >= cap:
            earliest = max(earliest, self._after(self._log[-cap]))
        return earliest

    def _after(self, ticket: Ticket) -> float:
        """When the request `cap` places after `ticket` may leave: a bare window after its answer
        came, or a widened one after it left, whichever is sooner. An answer slower than the
        quickest recent one widens the latter by the difference: the server may have counted
        the request that much later."""
        widened = ticket.at + self.width
        if not self.proof or math.isinf(ticket.answered):
            return widened
        quickest = min(t.answered - t.at for t in self._log if t.answered < math.inf)
        slower = ticket.answered - ticket.at - quickest
        return min(widened + slower, ticket.answered + self.shape.width * (1.0 + PROVEN))

    def record(self, at: float) -> Ticket:
        ticket = Ticket(at)
        self._log.append(ticket)
        self._smooth = max(self._smooth, at) + self.shape.width / self.shape.cap
        return ticket

    def admitted_before(self, ticket: Ticket) -> int:
        """Requests that left before `ticket` within one base window and were not refused.

        After a 429 this is what the server demonstrably took in its window. Departure order, not
        the clock, says "before": requests let go together share one time."""
        start = ticket.at - self.shape.width
        count = 0
        for other in self._log:
            if other is ticket:
                return count
            if other.at >= start and not other.refused:
                count += 1
        return sum(1 for t in self._log if start <= t.at < ticket.at and not t.refused)
