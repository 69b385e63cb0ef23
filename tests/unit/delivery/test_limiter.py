"""The rate limiter's pacing, on a clock that moves only when the limiter sleeps."""

from __future__ import annotations

import pytest

from engine.delivery.limiter import RateLimiter
from tests.unit.delivery.fakes import FakeClock


async def acquire_times(limiter: RateLimiter, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        await limiter.acquire()
        times.append(round(clock.now(), 6))
    return times


async def test_requests_are_evenly_spaced_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock)
    assert await acquire_times(limiter, clock, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]


async def test_an_idle_spell_is_not_saved_up_for_a_burst() -> None:
    """Slots, not a bucket: after a pause the next requests are spaced again at once."""
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock)
    await limiter.acquire()
    clock.time = 10.0
    assert await acquire_times(limiter, clock, 3) == [10.0, 10.5, 11.0]


async def test_waits_shorter_than_a_millisecond_are_not_slept() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4000.0, clock)  # a slot every 0.25 ms
    for _ in range(6):
        await limiter.acquire()
    assert clock.sleeps == [pytest.approx(0.00125)]  # the first wait past 1 ms


async def test_throttled_halves_the_rate_and_waits_out_retry_after() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock)
    await limiter.acquire()
    limiter.throttled(retry_after=3.0)
    assert limiter.rate == 5.0
    assert await acquire_times(limiter, clock, 2) == [3.0, 3.2]


async def test_throttled_without_retry_after_keeps_the_next_slot() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock)
    await limiter.acquire()
    limiter.throttled()
    assert await acquire_times(limiter, clock, 2) == [0.1, 0.3]


def test_the_rate_never_falls_below_the_floor() -> None:
    limiter = RateLimiter(1.0, FakeClock(), floor=0.2)
    for _ in range(10):
        limiter.throttled()
    assert limiter.rate == 0.2
    assert RateLimiter(0.1, FakeClock()).floor == 0.1  # a configured rate below the floor stays


def test_the_rate_recovers_a_tenth_per_ten_successes_up_to_the_configured_rate() -> None:
    limiter = RateLimiter(10.0, FakeClock())
    limiter.throttled()
    for _ in range(9):
        limiter.succeeded()
    assert limiter.rate == 5.0
    limiter.succeeded()
    assert limiter.rate == pytest.approx(5.5)
    for _ in range(200):
        limiter.succeeded()
    assert limiter.rate == 10.0


def test_a_throttle_restarts_the_recovery_count() -> None:
    limiter = RateLimiter(10.0, FakeClock())
    limiter.throttled()
    for _ in range(9):
        limiter.succeeded()
    limiter.throttled()
    limiter.succeeded()
    assert limiter.rate == 2.5  # the tenth success since the first throttle does not count
