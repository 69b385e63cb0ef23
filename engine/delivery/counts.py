"""Requests counted by answer, apart from the sender so a report can be read without aiohttp."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

# a second of the timeline: [answers, of them 429, retry waits begun]
ANSWERS, THROTTLED, WAITS = 0, 1, 2


@dataclass(frozen=True)
class Wait:
    """A request sleeping before its next attempt: what the progress display tells the operator."""

    until: float  # time.monotonic() deadline
    status: str
    attempt: int
    attempts: int


@dataclass
class RequestStats:
    requests: int = 0
    retries: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    waiting_s: float = 0.0  # total time requests spent waiting to retry
    waits: dict[int, Wait] = field(default_factory=dict)  # the requests waiting right now
    # per wall-clock second (Unix time, whole): what `run --html` draws; a few bytes a second
    timeline: dict[int, list[int]] = field(default_factory=dict)

    def count(self, status: str) -> None:
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        second = self._second()
        second[ANSWERS] += 1
        if status == "429":
            second[THROTTLED] += 1

    def waited(self) -> None:
        """A request begins a retry wait now."""
        self._second()[WAITS] += 1

    def _second(self) -> list[int]:
        now = int(time.time())
        found = self.timeline.get(now)
        if found is None:
            found = self.timeline[now] = [0, 0, 0]
        return found
