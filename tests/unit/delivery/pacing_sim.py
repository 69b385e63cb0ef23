"""A virtual clock driven by the event loop, and a strict server, for pacing tests.

Time only moves when every task is idle: then it jumps to the earliest wake-up. Delays are injected
the two ways a real process meets them: a wake-up that comes late (a busy loop or a descheduled
process) and the loop frozen outright for a while (a long synchronous step, a GC pause, a stolen
CPU). Departure times are read from the clock when `acquire` returns, as the request leaves.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


class LoopClock:
    def __init__(self, rng: random.Random, late: float = 0.0, freeze: float = 0.0) -> None:
        self.time = 0.0
        self.rng = rng
        self.late = late  # a wake-up comes up to this much late
        self.freeze = freeze  # at each step, one chance in five the loop stalls up to this long
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        wake = self.time + max(0.0, seconds) + self.rng.uniform(0, self.late)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (wake, next(self._seq), future))
        await future

    async def drive(self, work: Awaitable[object]) -> None:
        """Run `work`, moving time whenever every task waits on this clock."""
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(50):  # let every ready task run to its next wait
                await asyncio.sleep(0)
            if task.done() or not self._sleepers:
                continue
            if self.freeze and self.rng.random() < 0.2:
                self.time += self.rng.uniform(0, self.freeze)  # the whole loop stalled
            wake, _, future = heapq.heappop(self._sleepers)
            self.time = max(self.time, wake)
            if not future.done():
                future.set_result(None)
        task.result()


@dataclass
class StrictServer:
    """Admits at most `limit` requests in any sliding second, counted at arrival; 429 otherwise."""

    limit: int
    arrivals: list[float] = field(default_factory=list)
    _admitted: deque[float] = field(default_factory=deque)
    refused: int = 0

    def answer(self, arrival: float) -> bool:
        self.arrivals.append(arrival)
        while self._admitted and self._admitted[0] <= arrival - 1.0:
            self._admitted.popleft()
        if len(self._admitted) >= self.limit:
            self.refused += 1
            return False
        self._admitted.append(arrival)
        return True


def most_in_any_second(times: list[float]) -> int:
    """The most of `times` inside any half-open window [t, t + 1)."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


Worker = Callable[[], Awaitable[None]]
