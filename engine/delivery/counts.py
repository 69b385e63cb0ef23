"""Requests counted by answer, apart from the sender so a report can be read without aiohttp."""

from __future__ import annotations

from dataclasses import dataclass, field


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

    def count(self, status: str) -> None:
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
