"""Client-side pacing: the API's limit is met before it has to refuse, and 429s adjust the pace.

One limiter per rate budget (endpoint and account), shared by every sync that uses it. Requests
wait in one queue per sync and are let go in turn, one sync after the other, so syncs sharing a
budget share it fairly whatever their concurrency. A single dispatcher task decides departures
against the sliding window (engine/delivery/window.py) on the injected clock; the pace itself is
the congestion controller's (engine/delivery/congestion.py).

A limiter whose budget is shared with other processes (engine/delivery/shared_budget.py) also
keeps to its grant: at most that many requests per window, 0 meaning none until granted more.
The window's margin grows with the lag the dispatcher sees in its own wake-ups (engine/delivery/
lag.py): on a busy machine the server counts arrivals as late and as unevenly as this process
wakes, and a margin that covers it keeps every second at the server under the limit.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
from collections import deque
from typing import Protocol

from engine import logging as omnilog
from engine.clock import Clock
from engine.delivery.congestion import Congestion
from engine.delivery.lag import Lag
from engine.delivery.window import Shape, SlidingWindow, Ticket

log = omnilog.get_logger("omnisync.delivery")


class Pacer(Protocol):
    """What the sender needs of a limiter: a departure slot, and word of a 429; and its pace now,
    for the progress line."""

    @property
    def rate(self) -> float: ...

    async def acquire(self) -> Ticket: ...

    def throttled(self, ticket: Ticket, retry_after: float | None = None) -> None: ...


class RateLimiter:
    """At most `rate` requests in any sliding second (with a small margin), fairly shared."""

    def __init__(
        self,
        rate: float,
        clock: Clock,
        floor: float = 0.2,
        margin: float = 0.02,
        budget: str = "",
    ) -> None:
        self.clock = clock
        self.budget = budget  # what the limit applies to (endpoint and account), for the logs
        self.control = Congestion(ceiling=rate, floor=min(floor, rate), base_margin=margin)
        shape = Shape.of(rate)
        self.window = SlidingWindow(shape, margin, history=max(64, 4 * shape.cap))
        self._paused_until = -math.inf
        self._waiting: dict[str, deque[asyncio.Future[Ticket]]] = {}
        self._turns: deque[str] = deque()  # owners with someone waiting, in the order served
        self._dispatcher: asyncio.Task[None] | None = None
        self._lanes: dict[str, Lane] = {}
        self.lag = Lag()
        self.grant: int | None = None  # requests per window while the budget is shared
        self.valid_until = math.inf  # shared: the grant's lease, on this clock
        self._granted = asyncio.Event()  # set at each grant above 0

    @property
    def rate(self) -> float:
        """The pace now (requests per second), at most the configured rate."""
        return self.control.rate

    @property
    def decreases(self) -> int:
        """Congestion episodes that lowered the pace so far."""
        return self.control.decreases

    @property
    def cap(self) -> int:
        """Requests per window at the configured rate: what a shared budget divides."""
        return Shape.of(self.control.ceiling).cap

    def share(self, grant: int | None) -> None:
        """Keep to `grant` requests per window from now on (None: the budget is not shared)."""
        self.grant = grant
        self._reshape()
        if grant != 0:
            self._granted.set()

    def lane(self, owner: str) -> Lane:
        """This limiter as one sync sees it: its requests queue under its own name."""
        if owner not in self._lanes:
            self._lanes[owner] = Lane(self, owner)
        return self._lanes[owner]

    async def acquire(self, owner: str = "") -> Ticket:
        """Wait for a departure slot; the ticket is what `throttled` needs if the answer is 429."""
        future: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        queue = self._waiting.setdefault(owner, deque())
        if not queue:
            self._turns.append(owner)
        queue.append(future)
        if self._dispatcher is None or self._dispatcher.done():
            # its own context: it serves every sync of the budget, its logs name none of them
            self._dispatcher = asyncio.create_task(self._dispatch(), context=contextvars.Context())
        ticket = await future
        ticket.left(self.clock.now())  # the loop may have resumed us late: count the real time
        return ticket

    def throttled(self, ticket: Ticket, retry_after: float | None = None) -> None:
        """The server answered 429 to `ticket`: pause for Retry-After, lower the pace once."""
        now = self.clock.now()
        ticket.refused = True
        if retry_after:
            self._paused_until = max(self._paused_until, now + retry_after)
        admitted = self.window.admitted_before(ticket)
        if self.control.refused(ticket, admitted, now):
            self._reshape()
            log.info(
                "rate_lowered",
                budget=self.budget,
                requests_per_s=round(self.control.rate, 2),
                margin=self.control.margin,
                admitted_in_window=admitted,
                retry_after=retry_after,
            )

    async def _dispatch(self) -> None:
        try:
            while self._turns:
                now = self.clock.now()
                if self.control.due(now):
                    self._reshape()
                    log.debug(
                        "rate_raised",
                        budget=self.budget,
                        requests_per_s=round(self.control.rate, 2),
                    )
                if self.grant == 0 or now >= self.valid_until:  # shared: no room, or not sure
                    self._granted.clear()
                    await self._granted.wait()
                    continue
                earliest = max(self.window.earliest(), self._paused_until)
                if earliest > now:
                    await self.clock.sleep(earliest - now)
                    if self.lag.woke(self.clock.now() - earliest, earliest):
                        self._reshape()  # a wider (or narrower) margin for the lag seen
                    continue  # re-read the clock: a late wake-up must not become a burst
                future = self._next()
                if future is not None:
                    future.set_result(self.window.record(now))
        except BaseException as exc:  # never leave a waiter hanging on a dead dispatcher
            for queue in self._waiting.values():
                for future in queue:
                    if future.done():
                        continue
                    if isinstance(exc, asyncio.CancelledError):
                        future.cancel()
                    else:
                        future.set_exception(exc)
            self._waiting.clear()
            self._turns.clear()
            raise

    def _next(self) -> asyncio.Future[Ticket] | None:
        """The next waiter, taking owners in turn; cancelled waiters are skipped."""
        while self._turns:
            owner = self._turns.popleft()
            queue = self._waiting[owner]
            while queue and queue[0].done():
                queue.popleft()
            if not queue:
                continue
            future = queue.popleft()
            if queue:
                self._turns.append(owner)
            return future
        return None

    def _reshape(self) -> None:
        shape = Shape.of(self.control.rate)
        if self.grant:
            shape = Shape(min(shape.cap, self.grant), shape.width)
        self.window.shape = shape
        self.window.margin = self.control.margin + self.lag.margin(shape.width)
        # a 429 widened the margin: the server counts otherwise than answers suggest, until probed
        self.window.proof = self.control.margin <= self.control.base_margin


class Lane:
    """A rate limiter bound to one owner (a sync): the interface the sender uses."""

    def __init__(self, limiter: RateLimiter, owner: str) -> None:
        self.limiter = limiter
        self.owner = owner

    @property
    def rate(self) -> float:
        return self.limiter.rate

    async def acquire(self) -> Ticket:
        return await self.limiter.acquire(self.owner)

    def throttled(self, ticket: Ticket, retry_after: float | None = None) -> None:
        self.limiter.throttled(ticket, retry_after)
