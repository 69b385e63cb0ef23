"""A rejected batch is split until its bad records stand alone; some answers stop the sync."""

from __future__ import annotations

import random
from typing import Any

import pytest

from engine.delivery.bisection import Bisector
from engine.delivery.limiter import RateLimiter
from engine.delivery.retry import Backoff, RetryPolicy
from engine.delivery.sender import RequestStats, Sender
from engine.errors import DeliveryError
from tests.conftest import FakeClock
from tests.unit.delivery.fakes import (
    Answering,
    FakeEndpoint,
    FakeSession,
    Reply,
    Told,
    records,
    scripted,
)

NO_RETRY = Backoff(base=0.0, cap=0.0, attempts=0)
POLICY = RetryPolicy(throttled=NO_RETRY, unavailable=NO_RETRY, transient=NO_RETRY)


def bisector(answer: Answering, stopped: bool = False) -> tuple[Bisector, FakeSession, Told]:
    clock = FakeClock()
    session = FakeSession(answer)
    told = Told()
    sender = Sender(session, clock, random.Random(0))  # type: ignore[arg-type]
    limiter = RateLimiter(1000.0, clock)
    stats = RequestStats()
    return (
        Bisector("members", sender, FakeEndpoint(), limiter, POLICY, stats, told, lambda: stopped),
        session,
        told,
    )


def refuse(*bad: str) -> Answering:
    """400 naming the index of the first bad record of the request, as the API does; else 200."""

    def answer(payloads: list[Any]) -> Reply:
        for index, payload in enumerate(payloads):
            if payload["id"] in bad:
                return Reply(400, f"data[{index}].sex should be 1 or 2".encode())
        return Reply(200)

    return answer


async def test_bad_records_are_isolated_and_the_good_ones_delivered() -> None:
    delivery, session, told = bisector(refuse("c", "f"))
    await delivery.deliver(records("a", "b", "c", "d", "e", "f", "g", "h"))
    assert session.sent == [
        ["a", "b", "c", "d", "e", "f", "g", "h"],
        ["a", "b", "c", "d"],
        ["a", "b"],
        ["c", "d"],
        ["c"],
        ["d"],
        ["e", "f", "g", "h"],
        ["e", "f"],
        ["e"],
        ["f"],
        ["g", "h"],
    ]
    assert sorted(told.ids("delivered")) == ["a", "b", "d", "e", "g", "h"]
    assert [(i, m) for kind, i, m in told.fates if kind == "refused"] == [
        ("c", "data[0].sex should be 1 or 2"),
        ("f", "data[0].sex should be 1 or 2"),
    ]


async def test_an_accepted_batch_costs_one_request() -> None:
    delivery, session, told = bisector(refuse())
    await delivery.deliver(records("a", "b", "c"))
    assert session.sent == [["a", "b", "c"]]
    assert told.ids("delivered") == ["a", "b", "c"]


async def test_the_breaker_stops_a_sync_whose_every_record_is_refused_alike() -> None:
    ids = [f"m{n:02d}" for n in range(64)]
    delivery, session, told = bisector(refuse(*ids))
    with pytest.raises(DeliveryError) as stopped:
        await delivery.deliver(records(*ids))
    assert str(stopped.value) == (
        "members: stopped after 30 rejected requests in a row with the same error, "
        "nothing accepted in between: data[0].sex should be 1 or 2"
    )
    assert len(session.sent) == 30  # instead of the 127 requests a full bisection would cost
    assert told.ids("delivered") == []


async def test_an_accepted_request_in_between_keeps_the_breaker_closed() -> None:
    bad = [f"bad{n}" for n in range(45)]
    delivery, _, told = bisector(refuse(*bad))
    for n, record_id in enumerate(bad):
        await delivery.deliver(records(record_id))
        if n % 20 == 19:
            await delivery.deliver(records(f"good{n}"))
    assert told.ids("refused") == bad
    assert told.ids("delivered") == ["good19", "good39"]


async def test_refused_credentials_stop_the_sync() -> None:
    delivery, _, told = bisector(scripted(Reply(403, b"ERR_TID")))
    with pytest.raises(DeliveryError, match=r"^members: the API refused the credentials"):
        await delivery.deliver(records("a", "b"))
    assert told.fates == []


async def test_a_batch_that_fails_past_the_retries_is_counted_failed_and_stops_the_sync() -> None:
    delivery, _, told = bisector(scripted(Reply(500, b"boom")))
    with pytest.raises(DeliveryError, match=r"^members: delivery failed: gave up after 1"):
        await delivery.deliver(records("a", "b"))
    assert told.ids("failed") == ["a", "b"]


async def test_a_stopping_run_leaves_the_batch_unsent_and_untold() -> None:
    delivery, session, told = bisector(refuse(), stopped=True)
    await delivery.deliver(records("a", "b"))
    assert session.sent == []
    assert told.fates == []
