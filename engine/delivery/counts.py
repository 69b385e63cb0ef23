"""Requests counted by answer, apart from the sender so a report can be read without aiohttp."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RequestStats:
    requests: int = 0
    retries: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> None:
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
