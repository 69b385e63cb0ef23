"""Per-key order: a batch waits only for the earlier in-flight batches that share one of its keys."""

from __future__ import annotations

import asyncio

from engine.delivery.ordering import KeyOrder


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


def test_a_claim_holds_each_key_once_and_ignores_missing_keys() -> None:
    order = KeyOrder()
    claim = order.claim(["a", None, "b", "a", None])
    assert claim.keys == ["a", "b"]
    assert claim.waits_for == []
    assert len(order) == 2


async def test_a_batch_waits_for_every_earlier_batch_it_shares_a_key_with() -> None:
    order = KeyOrder()
    first = order.claim(["a"])
    second = order.claim(["b"])
    third = order.claim(["a", "b"])
    waiting = asyncio.create_task(third.ready())
    order.release(first)
    await asyncio.sleep(0)
    assert not waiting.done()  # "b" is still held by the second batch
    order.release(second)
    await asyncio.wait_for(waiting, 1)
    assert order.held_back == 1


async def test_a_batch_waits_only_for_the_latest_holder_of_a_key() -> None:
    """Each batch waits for its predecessor, so the chain keeps read order without more waits."""
    order = KeyOrder()
    first = order.claim(["a"])
    second = order.claim(["a"])
    third = order.claim(["a"])
    assert third.waits_for == [second.done]
    assert second.waits_for == [first.done]


def test_a_released_batch_forgets_only_the_keys_it_still_holds() -> None:
    order = KeyOrder()
    first = order.claim(["a", "b"])
    order.claim(["b"])
    order.release(first)
    assert len(order) == 1  # "b" now belongs to the second batch
    assert first.done.is_set()
