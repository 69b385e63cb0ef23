"""Stop early when every request fails the same way, instead of bisecting thousands of batches.

A 400 is bisected to isolate the bad records; that is right for a few bad rows and ruinous when
every record is refused for the same reason (a mapping error, a wrong option): a 50-record batch
would cost ~100 requests and the run hours. The breaker counts rejected answers since the last
accepted one; when `limit` of them in a row carry the same complaint, the sync stops with it.
The complaint is the endpoint's `reason_class` of the answer when it gives one (values, indexes
and field names taken out, which only the endpoint knows how to read), else the message with its
numbers stripped.
"""

from __future__ import annotations

import re

_INDEX = re.compile(r"\[\d+\]|\b\d+\b")
LIMIT = 30  # rejected answers alike in a row before the sync stops


def normalise(message: str) -> str:
    """'data[3].sex should be ...' and 'data[0].sex should be ...' are the same complaint."""
    return _INDEX.sub("#", message)


class RejectBreaker:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._streak = 0
        self._message = ""

    def accepted(self) -> None:
        self._streak = 0

    def rejected(self, message: str, reason_class: str | None = None) -> str | None:
        """Returns the common message when the breaker trips, else None."""
        key = reason_class or normalise(message)
        if key != self._message:
            self._message, self._streak = key, 0
        self._streak += 1
        return message if self._streak >= self.limit else None
