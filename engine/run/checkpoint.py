"""The low-water mark: the highest source position below which every row is finished.

Rows finish out of order (batches answer in any order, rejects finish at once); a resumed run
starts after the low-water mark, so only rows in flight at a crash are read again. `on_advance`
is called with the new mark whenever it moves (once per finished batch at most), which is where a
state store persists it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterable

from engine.rows import Position


class Checkpointer:
    def __init__(self, on_advance: Callable[[Position], None] | None = None) -> None:
        self._next_seq = 0
        self._base = 0  # seq of the first unfinished row
        self._positions: deque[Position] = deque()  # positions of seqs _base, _base + 1, ...
        self._done: set[int] = set()  # finished seqs above _base
        self._on_advance = on_advance
        self._advanced: asyncio.Event | None = None
        self.low_water: Position | None = None

    def issue(self, position: Position) -> int:
        """Register a row just read; returns its sequence number."""
        seq = self._next_seq
        self._next_seq = seq + 1
        self._positions.append(position)
        return seq

    def finish(self, seq: int) -> None:
        self.finish_all((seq,))

    def finish_all(self, seqs: Iterable[int]) -> None:
        """Mark rows finished (delivered, filtered or rejected) and move the mark if it can."""
        base, done = self._base, self._done
        for seq in seqs:
            if seq != base:
                done.add(seq)
                continue
            base += 1
            while base in done:
                done.remove(base)
                base += 1
        moved = base - self._base
        if not moved:
            return
        positions = self._positions
        for _ in range(moved - 1):
            positions.popleft()
        self.low_water = positions.popleft()
        self._base = base
        if self._on_advance is not None:
            self._on_advance(self.low_water)
        if self._advanced is not None:
            self._advanced.set()

    @property
    def finished_below(self) -> int:
        """Every row with a lower sequence number is finished (the mark's sequence, plus one)."""
        return self._base

    @property
    def in_flight(self) -> int:
        """Rows read and not yet finished: what a crash would make the next run read again."""
        return len(self._positions)

    async def wait_below(self, limit: int, give_up: Callable[[], bool]) -> None:
        """Back-pressure on the read-ahead window: wait until fewer than `limit` rows are open.

        `give_up` is polled, so a stop request frees a reader waiting behind a stalled batch."""
        while len(self._positions) >= limit and not give_up():
            if self._advanced is None:
                self._advanced = asyncio.Event()
            self._advanced.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._advanced.wait(), 0.5)
