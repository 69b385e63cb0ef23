"""A limiter's grant in a shared budget, the window margin its own wake-up lag adds, and the
answers that show when the server counted a request."""

from __future__ import annotations

import asyncio
import random

import pytest

from engine.delivery.lag import Lag
from engine.delivery.limiter import RateLimiter
from engine.delivery.window import PROVEN, Shape, SlidingWindow
from tests.conftest import FakeClock
from tests.unit.delivery.pacing_sim import LoopClock, most_in_any_second


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
    assert times == [0.0, 0.25, 0.5, 0.75, 1.02]  # the 2% margin only: no lag on this clock


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


def _full_window(answers: list[float]) -> SlidingWindow:
    """Four requests a quarter second apart, answered `answers` seconds after they left."""
    window = SlidingWindow(Shape(4, 1.0), margin=0.05, history=64)
    for i, answer in enumerate(answers):
        ticket = window.record(i * 0.25)
        ticket.answer(i * 0.25 + answer)
    return window


def test_a_quick_answer_lets_the_next_window_start_a_bare_window_after_it() -> None:
    window = _full_window([0.002] * 4)
    assert window.earliest() == pytest.approx(0.002 + 1.0 + PROVEN)  # not 1.05, the margin's


def test_a_slow_answer_holds_the_next_window_back_by_its_delay() -> None:
    """The server may have counted the first request as late as its answer came."""
    window = _full_window([0.2, 0.002, 0.002, 0.002])
    assert window.earliest() == pytest.approx(0.2 + 1.0 + PROVEN)
    no_answer = SlidingWindow(Shape(4, 1.0), margin=0.05, history=64)
    for i in range(4):
        no_answer.record(i * 0.25)
    assert no_answer.earliest() == pytest.approx(1.05)  # the widened window, as without answers


def test_after_a_429_widened_the_margin_answers_shorten_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock)
    tickets = [limiter.window.record(i * 0.1) for i in range(10)]
    clock.time = 0.95
    limiter.throttled(tickets[-1])  # the window was full: the margin widens first
    assert limiter.control.margin > limiter.control.base_margin
    assert not limiter.window.proof


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_a_server_counting_late_stays_under_its_limit_while_answers_keep_the_pace_up(
    seed: int,
) -> None:
    """The server's handler runs late now and then (a busy machine): it counts such a request
    late, and its answer says so. The pace still reaches the limit within a percent or two."""
    rng = random.Random(seed)
    clock = LoopClock(rng, late=0.005)
    limiter = RateLimiter(10, clock)
    counted: list[float] = []

    async def worker() -> None:
        for _ in range(60):
            ticket = await limiter.acquire()
            await clock.sleep(0.08 if rng.random() < 0.1 else 0.0005)  # the handler, late or not
            counted.append(clock.now())
            await clock.sleep(0.0005)  # the answer's way back
            ticket.answer(clock.now())

    await clock.drive(asyncio.gather(*(worker() for _ in range(4))))
    assert most_in_any_second(counted) <= 10
    assert (len(counted) - 1) / (max(counted) - min(counted)) >= 10 / 1.025
