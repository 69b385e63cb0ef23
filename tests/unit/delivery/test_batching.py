"""The reader -> workers queue: bounded, in per-key order, and silent once the run stops."""

from __future__ import annotations

import asyncio

import pytest

from engine.delivery.batching import BatchQueue
from engine.rows import Record
from tests.unit.delivery.fakes import FakeEndpoint, records


class Deliveries:
    """Records what was sent, in order; batches holding a key in `held` wait for `release`."""

    def __init__(self, held: str = "") -> None:
        self.held = held
        self.release = asyncio.Event()
        self.started: list[list[str]] = []
        self.finished: list[list[str]] = []

    async def deliver(self, batch: list[Record]) -> None:
        ids = [record.payload["id"] for record in batch]
        self.started.append(ids)
        if self.held in ids:
            await self.release.wait()
        self.finished.append(ids)


async def test_a_batch_sharing_a_key_is_sent_after_the_earlier_one_others_go_ahead() -> None:
    deliveries = Deliveries(held="a")
    queue = BatchQueue(3, FakeEndpoint().key, deliveries.deliver, lambda: False)
    async with asyncio.TaskGroup() as group:
        queue.start(group)
        await queue.put(records("a", "b"))
        await queue.put(records("a", "c"))  # same member "a": must wait for the first batch
        await queue.put(records("d"))
        await asyncio.sleep(0.01)
        assert deliveries.started == [["a", "b"], ["d"]]
        deliveries.release.set()
        await queue.drain()
    assert deliveries.finished == [["d"], ["a", "b"], ["a", "c"]]
    assert queue.order.held_back == 1
    assert len(queue.order) == 0


async def test_the_queue_holds_two_batches_per_worker_then_the_reader_waits() -> None:
    deliveries = Deliveries(held="x")
    queue = BatchQueue(1, FakeEndpoint().key, deliveries.deliver, lambda: False)
    async with asyncio.TaskGroup() as group:
        queue.start(group)
        await queue.put(records("x"))  # taken by the worker, which then blocks
        await queue.put(records("y1"))
        await queue.put(records("y2"))  # the queue is full now
        reader = asyncio.create_task(queue.put(records("y3")))
        await asyncio.sleep(0.01)
        assert not reader.done()
        deliveries.release.set()
        await asyncio.wait_for(reader, 1)
        await queue.drain()
    assert deliveries.finished == [["x"], ["y1"], ["y2"], ["y3"]]


async def test_once_stopping_queued_batches_stay_unsent_and_their_keys_are_released() -> None:
    deliveries = Deliveries(held="a")
    stopping = False
    queue = BatchQueue(1, FakeEndpoint().key, deliveries.deliver, lambda: stopping)
    async with asyncio.TaskGroup() as group:
        queue.start(group)
        await queue.put(records("a"))
        await queue.put(records("b"))
        await queue.put(records("a", "c"))
        await asyncio.sleep(0.01)
        stopping = True
        deliveries.release.set()
        await queue.drain()
    assert deliveries.finished == [["a"]]
    assert len(queue.order) == 0


async def test_a_delivery_error_reaches_the_sync_s_task_group() -> None:
    async def refuse(_batch: list[Record]) -> None:
        raise RuntimeError("boom")

    queue = BatchQueue(2, FakeEndpoint().key, refuse, lambda: False)

    async def sync() -> None:
        async with asyncio.TaskGroup() as group:
            queue.start(group)
            await queue.put(records("a"))
            await queue.drain()

    with pytest.raises(ExceptionGroup) as failure:
        await sync()
    assert {str(error) for error in failure.value.exceptions} == {"boom"}
    assert len(queue.order) == 0  # the failed batch's keys are released all the same
