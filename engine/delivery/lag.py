"""How late this process wakes up, and the margin of the pacing window that covers it.

On a machine whose cores are all busy, a process resumes late, and so does the server's handler
that counts a request's arrival: two requests that left a full window apart can be counted
closer than that, the first one late and the second on time. The dispatcher's own wake-ups show
how uneven the machine is right now; their recent peak (halving every HALF_LIFE seconds) widens
the window by as much. Wake-ups within NOISE of their time (an idle machine) change nothing.
"""

from __future__ import annotations

import math

NOISE = 0.002  # seconds: ordinary timer jitter, inside the base margin already
HALF_LIFE = 10.0  # seconds for a peak's weight to halve
MAX_EXTRA = 0.05  # the lag never widens the window by more than this fraction


class Lag:
    def __init__(self) -> None:
        self.peak = 0.0  # seconds, decayed to `_at`
        self._at = -math.inf
        self._extra = 0.0

    def woke(self, late: float, at: float) -> bool:
        """A wake-up due at `at` came `late` seconds late; True when the margin changed."""
        if late <= NOISE and self.peak == 0.0:
            return False
        decayed = self.peak * 0.5 ** max(0.0, (at - self._at) / HALF_LIFE)
        self.peak = max(late, decayed) if max(late, decayed) > NOISE else 0.0
        self._at = at
        extra = round(self.peak, 3)
        changed = extra != self._extra
        self._extra = extra
        return changed

    def margin(self, width: float) -> float:
        """The window's extra margin (a fraction of `width`) for the lag seen lately."""
        return min(MAX_EXTRA, self._extra / width)
