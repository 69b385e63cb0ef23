"""One request through the sender: paced by the limiter, retried as the policy says, logged."""

from __future__ import annotations

import random

import aiohttp
import pytest
from structlog.testing import capture_logs

from engine.contracts import Verdict
from engine.delivery.limiter import RateLimiter
from engine.delivery.retry import Backoff, RetryPolicy
from engine.delivery.sender import STOPPED, RequestStats, Sender
from engine.state.base import LeaseLost
from tests.conftest import FakeClock
from tests.unit.delivery.fakes import FakeEndpoint, FakeSession, Reply, scripted

QUICK = RetryPolicy(
    throttled=Backoff(base=0.5, cap=30.0, attempts=3),
    unavailable=Backoff(base=300.0, cap=300.0, attempts=2, factor=1.0, jitter=False),
    transient=Backoff(base=1.0, cap=30.0, attempts=2, jitter=False),
)


def sender_for(session: FakeSession, clock: FakeClock) -> Sender:
    return Sender(session, clock, random.Random(0))  # type: ignore[arg-type]


async def test_an_unavailable_api_is_retried_on_the_vendor_schedule_and_logged() -> None:
    clock = FakeClock()
    session = FakeSession(scripted(Reply(503, b"busy"), Reply(503, b"busy"), Reply(200)))
    stats = RequestStats()
    limiter = RateLimiter(1000.0, clock)
    with capture_logs() as logs:
        answer = await sender_for(session, clock).send(
            FakeEndpoint(), [{"id": "a"}], limiter, QUICK, stats
        )
    assert answer.verdict is Verdict.ACCEPTED
    assert len(session.sent) == 3
    assert clock.sleeps == [300.0, 300.0]
    assert (stats.requests, stats.retries, stats.by_status) == (3, 2, {"503": 2, "200": 1})
    retries = [entry for entry in logs if entry["event"] == "retrying"]
    assert [(e["status"], e["attempt"], e["wait_s"], e["reason"]) for e in retries] == [
        ("503", 1, 300.0, "busy"),
        ("503", 2, 300.0, "busy"),
    ]
    assert all(entry["log_level"] == "info" for entry in retries)


async def test_retries_stop_when_the_policy_is_spent() -> None:
    clock = FakeClock()
    session = FakeSession(scripted(Reply(503, b"busy")))
    answer = await sender_for(session, clock).send(
        FakeEndpoint(), [{"id": "a"}], RateLimiter(1000.0, clock), QUICK, RequestStats()
    )
    assert answer.verdict is Verdict.FAILED
    assert answer.message == "gave up after 3 attempts: busy"
    assert len(session.sent) == 3


async def test_a_429_slows_the_limiter_and_waits_at_least_retry_after() -> None:
    clock = FakeClock()
    session = FakeSession(scripted(Reply(429, headers={"Retry-After": "4"}), Reply(200)))
    limiter = RateLimiter(10.0, clock)
    waits: list[float] = []
    answer = await sender_for(session, clock).send(
        FakeEndpoint(), [{"id": "a"}], limiter, QUICK, RequestStats(), on_wait=waits.append
    )
    assert answer.verdict is Verdict.ACCEPTED
    assert limiter.decreases == 1
    assert limiter.rate < 10.0
    assert waits == [4.0]
    assert clock.time >= 4.0


async def test_timeouts_and_connection_errors_are_retried_as_transient() -> None:
    clock = FakeClock()
    session = FakeSession(scripted(TimeoutError(), aiohttp.ServerDisconnectedError(), Reply(200)))
    stats = RequestStats()
    answer = await sender_for(session, clock).send(
        FakeEndpoint(), [{"id": "a"}], RateLimiter(1000.0, clock), QUICK, stats
    )
    assert answer.verdict is Verdict.ACCEPTED
    assert stats.by_status == {"timeout": 1, "connection": 1, "200": 1}
    assert clock.sleeps == [1.0, 2.0]


async def test_rejected_and_refused_answers_are_final() -> None:
    clock = FakeClock()
    for status, verdict in ((400, Verdict.REJECTED), (403, Verdict.AUTH)):
        session = FakeSession(scripted(Reply(status, b"no")))
        answer = await sender_for(session, clock).send(
            FakeEndpoint(), [{"id": "a"}], RateLimiter(1000.0, clock), QUICK, RequestStats()
        )
        assert (answer.verdict, answer.message, len(session.sent)) == (verdict, "no", 1)
    assert clock.sleeps == []


async def test_a_stopping_run_sends_no_new_attempt() -> None:
    clock = FakeClock()
    session = FakeSession(scripted(Reply(503, b"busy")))
    stopping = False

    def stopped() -> bool:
        return stopping

    def stop_after_the_wait(_seconds: float) -> None:
        nonlocal stopping
        stopping = True

    answer = await sender_for(session, clock).send(
        FakeEndpoint(),
        [{"id": "a"}],
        RateLimiter(1000.0, clock),
        QUICK,
        RequestStats(),
        on_wait=stop_after_the_wait,
        stopped=stopped,
    )
    assert (answer.verdict, answer.message) == (Verdict.FAILED, STOPPED)
    assert len(session.sent) == 1


def test_syncs_on_one_endpoint_share_one_limiter() -> None:
    sender = sender_for(FakeSession(scripted(Reply(200))), FakeClock())
    first = sender.limiter(FakeEndpoint(), 5.0)
    assert sender.limiter(FakeEndpoint(), 50.0) is first
    assert first.rate == 5.0
    other = FakeEndpoint()
    other.limiter_key = "other"
    assert sender.limiter(other, None).rate == FakeEndpoint.rate_limit


async def test_a_lost_state_lease_stops_a_retry_before_it_leaves() -> None:
    """The fence is awaited after every wait, right before each attempt: the first attempt goes,
    the lease is lost during the back-off, the retry never leaves."""
    clock = FakeClock()
    session = FakeSession(scripted(Reply(503, b"busy"), Reply(200)))
    proofs: list[int] = []

    async def fence() -> None:
        proofs.append(len(session.sent))
        if session.sent:
            raise LeaseLost("state store x: this run can no longer prove it holds the lease")

    with pytest.raises(LeaseLost):
        await sender_for(session, clock).send(
            FakeEndpoint(),
            [{"id": "a"}],
            RateLimiter(1000.0, clock),
            QUICK,
            RequestStats(),
            fence=fence,
        )
    assert (proofs, len(session.sent)) == ([0, 1], 1)


async def test_an_event_is_never_sent_again_after_an_unknown_outcome() -> None:
    """`once` (an endpoint of events): a timeout or a 503 may have triggered already, so it is
    the final answer; a 429 (the server did nothing) is still waited out and sent again."""
    clock = FakeClock()
    for first in (TimeoutError(), Reply(503), aiohttp.ServerDisconnectedError()):
        session = FakeSession(scripted(first, Reply(200)))
        stats = RequestStats()
        answer = await sender_for(session, clock).send(
            FakeEndpoint(), [{"id": "a"}], RateLimiter(1000.0, clock), QUICK, stats, once=True
        )
        assert answer.verdict is not Verdict.ACCEPTED
        assert stats.requests == 1
    session = FakeSession(scripted(Reply(429), Reply(200)))
    stats = RequestStats()
    answer = await sender_for(session, clock).send(
        FakeEndpoint(), [{"id": "a"}], RateLimiter(1000.0, clock), QUICK, stats, once=True
    )
    assert answer.verdict is Verdict.ACCEPTED
    assert stats.by_status == {"429": 1, "200": 1}
