"""A limiter's grant in a shared budget, and the window margin its own wake-up lag adds."""

from __future__ import annotations

import asyncio

from engine.delivery.lag import Lag
from engine.delivery.limiter import RateLimiter
from tests.conftest import FakeClock
from tests.unit.delivery.pacing_sim import most_in_any_second


async def test_a_grant_caps_the_requests_per_window_below_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock)
    limiter.share(3)
    times = []
    for _ in range(12):
        await limiter.acquire()
        times.append(clock.now())
    assert most_in_any_second(times) == 3
    assert limiter.cap == 10  # what the budget divides: the configured rate's


async def test_no_request_leaves_before_a_grant_and_the_lease_bounds_it() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock)
    limiter.share(0)
    waiting = asyncio.ensure_future(limiter.acquire())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiting.done()
    limiter.share(2)
    await asyncio.wait_for(waiting, 1)
    limiter.valid_until = clock.now()  # the lease is no longer proven: nothing more leaves
    again = asyncio.ensure_future(limiter.acquire())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not again.done()
    limiter.valid_until = clock.now() + 10
    limiter.share(2)  # the next renewal
    await asyncio.wait_for(again, 1)


async def test_an_unshared_limiter_paces_as_before() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock)
    times = []
    for _ in range(5):
        await limiter.acquire()
        times.append(round(clock.now(), 6))
    assert times == [0.0, 0.255, 0.51, 0.765, 1.02]  # the 2% margin only: no lag on this clock


def test_wake_ups_on_time_change_nothing() -> None:
    lag = Lag()
    for i in range(100):
        assert not lag.woke(0.001, float(i))
    assert lag.margin(1.0) == 0.0


def test_a_late_wake_up_widens_the_window_by_as_much_then_fades() -> None:
    lag = Lag()
    assert lag.woke(0.030, 0.0)
    assert lag.margin(1.0) == 0.03
    lag.woke(0.0, 10.0)  # one half-life later
    assert lag.margin(1.0) == 0.015
    lag.woke(0.0, 100.0)
    assert lag.margin(1.0) == 0.0
    lag.woke(0.5, 101.0)  # a frozen process: bounded
    assert lag.margin(1.0) == 0.05
