"""Client-side pacing: requests are spaced so the API's limit is met before it has to refuse."""

from __future__ import annotations

from engine.clock import Clock

_TICK = 0.001  # seconds


class RateLimiter:
    """Evenly spaced slots at `rate` per second; halves on 429 and recovers gradually.

    Slots, not a bucket: a burst would hit the server's own window and earn 429s.
    """

    def __init__(self, rate: float, clock: Clock, floor: float = 0.2) -> None:
        self.base_rate = rate
        self.rate = rate
        self.clock = clock
        self.floor = min(floor, rate)
        self._next = 0.0
        self._streak = 0

    async def acquire(self) -> None:
        now = self.clock.now()
        slot = max(now, self._next)
        self._next = slot + 1.0 / self.rate
        if slot - now > _TICK:  # shorter waits cost more loop turns than they pace anything
            await self.clock.sleep(slot - now)

    def throttled(self, retry_after: float | None = None) -> None:
        """The server said 429: halve the rate and push the next slot past Retry-After."""
        self.rate = max(self.floor, self.rate / 2)
        self._streak = 0
        if retry_after:
            self._next = max(self._next, self.clock.now() + retry_after)

    def succeeded(self) -> None:
        """Recover 10% per 10 answered requests, never past the configured rate."""
        if self.rate >= self.base_rate:
            return
        self._streak += 1
        if self._streak >= 10:
            self._streak = 0
            self.rate = min(self.base_rate, self.rate * 1.1)
