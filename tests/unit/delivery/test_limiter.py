"""Pacing on the injected clock: the window holds under delays, 429 episodes lower the pace once."""

from __future__ import annotations

import asyncio
import random

import pytest

from engine.delivery.limiter import RateLimiter
from engine.delivery.window import Shape
from tests.conftest import FakeClock
from tests.unit.delivery.pacing_sim import LoopClock, StrictServer, most_in_any_second


def test_a_rate_becomes_whole_requests_per_window_never_a_shorter_window() -> None:
    assert Shape.of(10) == Shape(10, 1.0)
    assert Shape.of(9.5) == Shape(9, 1.0)  # never more than the rate inside one second
    assert Shape.of(0.5) == Shape(1, 2.0)
    assert Shape.of(600 / 60) == Shape(10, 1.0)


async def acquire_times(limiter: RateLimiter, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        await limiter.acquire()
        times.append(round(clock.now(), 6))
    return times


async def test_a_steady_stream_is_evenly_spaced_and_the_margin_holds_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock)
    # evenly spaced, and the fifth waits for the widened window after the first (no answers)
    assert await acquire_times(limiter, clock, 5) == [0.0, 0.25, 0.5, 0.75, 1.02]


async def test_an_idle_spell_is_not_saved_up_for_a_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock)
    await limiter.acquire()
    clock.time = 10.0
    assert await acquire_times(limiter, clock, 3) == [10.0, 10.5, 11.02]


async def test_retry_after_pauses_every_request_of_the_budget() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock)
    ticket = await limiter.acquire()
    limiter.throttled(ticket, retry_after=3.0)
    assert (await acquire_times(limiter, clock, 1))[0] >= 3.0


def test_the_pace_never_falls_below_the_floor() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock, floor=0.2)
    for _ in range(10):
        clock.time += 100.0  # each 429 its own episode
        limiter.throttled(limiter.window.record(clock.time))
    assert limiter.rate == 0.2


async def _departures(
    clock: LoopClock, limiter: RateLimiter, workers: int, each: int, latency: float
) -> list[float]:
    times: list[float] = []

    async def worker() -> None:
        for _ in range(each):
            await limiter.acquire()
            times.append(clock.now())
            await clock.sleep(clock.rng.uniform(0, latency))  # the request's round trip

    await clock.drive(asyncio.gather(*(worker() for _ in range(workers))))
    return times


@pytest.mark.parametrize(
    "seed", [0, 1, *(pytest.param(seed, marks=pytest.mark.long) for seed in range(2, 40))]
)
@pytest.mark.parametrize(
    ("late", "freeze"), [(0.0, 0.0), (0.05, 0.0), (0.0, 0.4), (0.03, 1.5)], ids=str
)
async def test_no_sliding_second_ever_holds_more_than_the_limit(
    seed: int, late: float, freeze: float
) -> None:
    """Late wake-ups and a frozen loop are never caught up in a burst past the window."""
    clock = LoopClock(random.Random(seed), late=late, freeze=freeze)
    limiter = RateLimiter(10, clock)
    times = await _departures(clock, limiter, workers=8, each=60, latency=0.2)
    assert len(times) == 480
    assert most_in_any_second(times) <= 10


async def test_many_waiters_after_a_stall_do_not_leave_together() -> None:
    """The defect: slots booked ahead (100 ms apart) all left at once after a stall."""
    clock = LoopClock(random.Random(3), freeze=1.5)
    limiter = RateLimiter(10, clock)
    times = await _departures(clock, limiter, workers=16, each=40, latency=0.0)
    assert most_in_any_second(times) <= 10


async def test_idle_pace_reaches_the_ceiling_within_the_margin() -> None:
    clock = LoopClock(random.Random(1))
    limiter = RateLimiter(10, clock)
    times = await _departures(clock, limiter, workers=8, each=100, latency=0.05)
    rate = (len(times) - 1) / (max(times) - min(times))
    assert 10 / 1.03 <= rate <= 10


async def test_syncs_sharing_a_budget_take_turns_whatever_their_concurrency() -> None:
    clock = LoopClock(random.Random(2))
    limiter = RateLimiter(10, clock)
    sent: list[str] = []

    async def worker(owner: str, count: int) -> None:
        for _ in range(count):
            await limiter.acquire(owner)
            sent.append(owner)
            await clock.sleep(0.01)

    busy = [worker("members", 50) for _ in range(8)]  # 8 workers
    thin = [worker("orders", 100) for _ in range(2)]  # 2 workers
    await clock.drive(asyncio.gather(*busy, *thin))
    first = sent[:200]
    assert abs(first.count("members") - first.count("orders")) <= 2


async def _against(
    server: StrictServer,
    clock: LoopClock,
    limiter: RateLimiter,
    requests: int,
    latency: float = 0.02,
) -> list[float]:
    """Workers deliver `requests` through the server; a 429 is retried after Retry-After."""
    finished: list[float] = []
    todo = list(range(requests))

    async def worker() -> None:
        while todo:
            todo.pop()
            while True:
                ticket = await limiter.acquire()
                await clock.sleep(clock.rng.uniform(latency / 10, latency))  # on the way
                if server.answer(clock.now()):
                    finished.append(clock.now())
                    break
                limiter.throttled(ticket, retry_after=1.0)
                await clock.sleep(1.0)

    await clock.drive(asyncio.gather(*(worker() for _ in range(8))))
    return finished


async def test_a_burst_of_429s_is_one_episode_and_lowers_the_pace_once() -> None:
    """429s for requests sent before the decrease are the same episode, whatever their order."""
    clock = LoopClock(random.Random(5))
    limiter = RateLimiter(10, clock)
    tickets = []

    async def send(count: int) -> None:
        for _ in range(count):
            tickets.append(await limiter.acquire())

    await clock.drive(send(8))
    refused = tickets[2:]  # a server at 2/s took the first two
    for ticket in reversed(refused):  # answers come back in any order
        limiter.throttled(ticket, retry_after=1.0)
    assert limiter.decreases == 1
    assert limiter.rate == 2  # what the server admitted, not 10 / 2 / 2 / 2 ...
    await clock.drive(send(1))  # sent after the decrease: a new episode may count
    limiter.throttled(tickets[-1], retry_after=1.0)
    assert limiter.decreases == 2


async def test_the_first_burst_against_a_slow_server_costs_one_decrease() -> None:
    clock = LoopClock(random.Random(5))
    limiter = RateLimiter(10, clock)
    server = StrictServer(limit=2)
    await _against(server, clock, limiter, requests=6, latency=0.4)
    assert server.refused >= 2
    assert limiter.decreases == 1


async def test_the_pace_finds_the_server_rate_and_holds_within_ten_percent() -> None:
    clock = LoopClock(random.Random(6), late=0.01)
    limiter = RateLimiter(10, clock)
    server = StrictServer(limit=2)
    finished = await _against(server, clock, limiter, requests=240)  # two minutes' worth
    after_first_seconds = [t for t in finished if t >= 5.0]
    span = max(after_first_seconds) - 5.0
    assert len(after_first_seconds) / span >= 2 * 0.9
    settled = [t for t in server.arrivals if t >= 5.0]
    assert most_in_any_second(settled) <= 3  # probes go one request above, no more
    assert limiter.decreases <= 7  # probes grow apart: 2, 4, 8, 16, 32, 60 s


async def test_jitter_at_the_ceiling_widens_the_margin_not_the_pace() -> None:
    """A 429 when the window was full at the configured rate: the margin grows first."""
    clock = LoopClock(random.Random(7))
    limiter = RateLimiter(10, clock)
    tickets = []

    async def send_steadily() -> None:
        for _ in range(30):
            tickets.append(await limiter.acquire())

    await clock.drive(send_steadily())
    limiter.throttled(tickets[-1], retry_after=None)
    assert limiter.rate == 10
    assert limiter.control.margin > 0.02
    assert limiter.decreases == 1
