"""The low-water mark and the per-key order, without a network."""

from __future__ import annotations

import asyncio

from engine.checkpoint import Checkpointer
from engine.delivery.ordering import KeyOrder


def test_low_water_mark_moves_only_past_contiguous_finished_rows() -> None:
    """Rows finished out of order do not move the mark until every row before them is done."""
    seen: list[tuple[int, int]] = []
    checkpoint = Checkpointer(seen.append)
    seqs = [checkpoint.issue((0, line)) for line in range(2, 8)]
    checkpoint.finish_all(seqs[2:4])
    assert checkpoint.low_water is None
    checkpoint.finish(seqs[0])
    assert checkpoint.low_water == (0, 2)
    checkpoint.finish(seqs[1])
    assert checkpoint.low_water == (0, 5)  # rows 3, then 4 and 5 already done
    assert seen == [(0, 2), (0, 5)]
    assert checkpoint.in_flight == 2


async def test_a_batch_sharing_a_key_waits_for_the_earlier_one() -> None:
    """The newer batch holding key 'a' is released only once the older one is finished."""
    order = KeyOrder()
    first = order.claim(["a", "b"])
    second = order.claim(["c", "a", "a"])
    third = order.claim(["d"])
    await asyncio.wait_for(first.ready(), 1)
    await asyncio.wait_for(third.ready(), 1)
    waiting = asyncio.create_task(second.ready())
    await asyncio.sleep(0)
    assert not waiting.done()
    order.release(first)
    await asyncio.wait_for(waiting, 1)
    order.release(second)
    order.release(third)
    assert len(order) == 0  # nothing remembered once nothing is in flight
    assert order.held_back == 1
