"""The low-water mark: the highest source position below which every row is finished.

Rows finish out of order (batches answer in any order, rejects finish at once); a resumed run
starts after the low-water mark, so only rows in flight at a crash are read again.
"""

from __future__ import annotations

from collections import deque

from engine.records import Position


class Checkpointer:
    def __init__(self) -> None:
        self._next_seq = 0
        self._base = 0  # seq of the first unfinished row
        self._pending: deque[tuple[Position, bool]] = deque()
        self.low_water: Position | None = None

    def issue(self, position: Position) -> int:
        seq = self._next_seq
        self._next_seq += 1
        self._pending.append((position, False))
        return seq

    def finish(self, seq: int) -> None:
        index = seq - self._base
        position, _ = self._pending[index]
        self._pending[index] = (position, True)
        while self._pending and self._pending[0][1]:
            self.low_water = self._pending.popleft()[0]
            self._base += 1

    @property
    def in_flight(self) -> int:
        return len(self._pending)
