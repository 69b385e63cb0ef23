"""The hand-off from the reader to the delivery workers: bounded, and in per-key order.

The queue holds at most two batches per worker, so a slow API slows the reader instead of filling
memory. Batches claim their keys in read order (ordering.py); a worker sends one only once the
earlier batches sharing a key are finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from engine.delivery.ordering import Claim, KeyOrder
from engine.rows import Record


class Batch:
    __slots__ = ("claim", "records")

    def __init__(self, records: list[Record], claim: Claim) -> None:
        self.records = records
        self.claim = claim


class BatchQueue:
    def __init__(
        self,
        workers: int,
        key: Callable[[Any], str | None],
        deliver: Callable[[list[Record]], Awaitable[None]],
        stopped: Callable[[], bool],
    ) -> None:
        self.workers = workers
        self.order = KeyOrder()
        self._key = key
        self._deliver = deliver
        self._stopped = stopped
        self._queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=workers * 2)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, group: asyncio.TaskGroup) -> None:
        """The workers run in the sync's task group, so a delivery error stops the reader too."""
        self._tasks = [group.create_task(self._work()) for _ in range(self.workers)]

    async def put(self, records: list[Record]) -> None:
        """Called by the reader, in read order; waits while the queue is full."""
        key = self._key
        claim = self.order.claim([key(record.payload) for record in records])
        await self._queue.put(Batch(records, claim))
        await asyncio.sleep(0)  # let the workers run even when the queue has room

    async def drain(self) -> None:
        """No more batches: returns once the workers have finished the queued ones."""
        for _ in self._tasks:
            await self._queue.put(None)
        await asyncio.gather(*self._tasks)

    async def _work(self) -> None:
        queue, order, stopped = self._queue, self.order, self._stopped
        while (batch := await queue.get()) is not None:
            try:
                if not stopped():  # once stopping, queued batches stay unsent
                    await batch.claim.ready()
                    await self._deliver(batch.records)
            finally:
                order.release(batch.claim)
