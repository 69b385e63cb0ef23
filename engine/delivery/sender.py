"""Sends one request through the shared session, paced by its limiter, retried by the policy."""

from __future__ import annotations

import asyncio
import io
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from engine import logging as omnilog
from engine.clock import Clock
from engine.contracts import Answer, Endpoint, HttpRequest, Verdict
from engine.crashpoints import crash_point
from engine.delivery.counts import RequestStats, Wait
from engine.delivery.encoding import build_request
from engine.delivery.limiter import Lane, Pacer, RateLimiter
from engine.delivery.retry import RetryPolicy
from engine.delivery.shared_budget import SharedBudget
from engine.delivery.window import Ticket
from engine.lazy import lazy_module
from engine.state.budget import BudgetBoard, member_name

if TYPE_CHECKING:
    import aiohttp
else:
    aiohttp = lazy_module("aiohttp")

log = omnilog.get_logger("omnisync.delivery")

__all__ = ["STOPPED", "UNANSWERED", "RequestStats", "Sender", "SessionOnDemand", "departures"]

STOPPED = "stopped before sending"
NOT_CONNECTED = "not connected"  # the request never left: safe to send again, even an event
UNANSWERED = "unanswered"  # a request cut off by the sync's stop before its answer was read


class SessionOnDemand:
    """The run's HTTP session, opened as its first request leaves: a run that sends nothing
    (every row unchanged, in the source or in the store) never loads aiohttp, whose import and
    TLS contexts are a tenth of a second of every start."""

    def __init__(self, open_session: Callable[[], aiohttp.ClientSession]) -> None:
        self._open = open_session
        self._session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = self._open()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class Sender:
    """One per run: a pooled aiohttp session, and one limiter per endpoint key shared by all syncs."""

    def __init__(
        self,
        session: aiohttp.ClientSession | SessionOnDemand,
        clock: Clock,
        rng: random.Random | None = None,
        budgets: BudgetBoard | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.rng = rng or random.Random()
        self._limiters: dict[str, RateLimiter] = {}
        self.budgets = budgets  # set: rate budgets are shared with other processes through it
        self.shared: dict[str, SharedBudget] = {}
        self._member = member_name()

    def limiter(self, endpoint: Endpoint, rate: float | None, owner: str = "") -> Lane:
        """The endpoint's shared limiter (one per rate budget), as `owner` (a sync) queues on it."""
        key = endpoint.limiter_key
        if key not in self._limiters:
            limiter = RateLimiter(rate or endpoint.rate_limit, self.clock, budget=endpoint.name)
            self._limiters[key] = limiter
            if self.budgets is not None:
                shared = SharedBudget(self.budgets, key, limiter, self.clock, self._member)
                shared.start()
                self.shared[key] = shared
        return self._limiters[key].lane(owner)

    async def close(self) -> None:
        """Leave the shared budgets: the other processes on them get this one's room."""
        shared, self.shared = list(self.shared.values()), {}
        for budget in shared:
            await budget.stop()

    async def send(
        self,
        endpoint: Endpoint,
        payloads: list[Any],
        limiter: Pacer,
        policy: RetryPolicy,
        stats: RequestStats,
        on_wait: Callable[[float], None] | None = None,
        stopped: Callable[[], bool] | None = None,
        stopping: Callable[[], Awaitable[None]] | None = None,
        fence: Callable[[], Awaitable[None]] | None = None,
        once: bool = False,
        leaving: Callable[[], None] | None = None,
    ) -> Answer:
        """The final answer for this request: accepted, rejected, auth, or failed after retries.

        `stopped()` true (the run is stopping) ends it before a new attempt: FAILED, STOPPED;
        `stopping()` returns when a stop is requested, so a back-off is abandoned at once;
        `fence()` raises, last before each attempt leaves, once the state lease is lost.
        `once` (an endpoint of events): only a request the server surely did not act on is sent
        again (429, or no connection made); any other failure is the final answer, its outcome
        unknown, because a resend could trigger twice (docs/triggers.md). `leaving()` runs once,
        after the first attempt's wait and proof, just before it leaves (events: the keys'
        pending marks)."""
        request = build_request(endpoint, payloads)  # raises Unencodable: the caller splits
        attempt = 0
        while True:
            attempt += 1
            ticket = await limiter.acquire()
            if stopped is not None and stopped():
                return Answer(Verdict.FAILED, STOPPED)
            if fence is not None:
                await fence()
            if leaving is not None:
                leaving()
                leaving = None
            started = time.perf_counter()
            answer, status = await self._counted(endpoint, request, ticket, stats)
            log.debug(
                "request",
                endpoint=endpoint.name,
                records=len(payloads),
                status=status,
                attempt=attempt,
                latency_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            if answer.verdict is Verdict.THROTTLED:
                limiter.throttled(ticket, answer.retry_after)
            elif once and answer.verdict is not Verdict.ACCEPTED and status != NOT_CONNECTED:
                return answer
            backoff = policy.backoff_for(answer.verdict)
            if backoff is None:
                return answer
            if attempt > backoff.attempts:
                return Answer(Verdict.FAILED, f"gave up after {attempt} attempts: {answer.message}")
            wait = backoff.delay(attempt, self.rng, answer.retry_after)
            stats.retries += 1
            _retrying(endpoint, status, attempt, wait, answer)
            if on_wait is not None:
                on_wait(wait)
            stats.waiting_s += wait
            stats.waited()
            token = id(request)
            stats.waits[token] = Wait(time.monotonic() + wait, status, attempt, backoff.attempts)
            try:
                if not await self._wait(wait, stopping):
                    return Answer(Verdict.FAILED, STOPPED)
            finally:
                stats.waits.pop(token, None)

    async def _wait(self, seconds: float, stopping: Callable[[], Awaitable[None]] | None) -> bool:
        """Sleep out a back-off; False when a stop came first (no request is on the wire)."""
        if stopping is None:
            await self.clock.sleep(seconds)
            return True
        sleep = asyncio.ensure_future(self.clock.sleep(seconds))
        stop = asyncio.ensure_future(stopping())
        try:
            await asyncio.wait((sleep, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleep, stop):
                task.cancel()
        return not stop.done() or stop.cancelled()

    async def _counted(
        self, endpoint: Endpoint, request: HttpRequest, ticket: Ticket, stats: RequestStats
    ) -> tuple[Answer, str]:
        """One attempt, counted by its status; cut off by the sync's stop (a 403 on another
        batch) before its answer was read, it counts as UNANSWERED: it left, or was leaving."""
        try:
            answer, status = await self._post(endpoint, request, ticket)
        except asyncio.CancelledError:
            stats.count(UNANSWERED)
            raise
        stats.count(status)
        return answer, status

    async def _post(
        self, endpoint: Endpoint, request: HttpRequest, ticket: Ticket
    ) -> tuple[Answer, str]:
        session = self.session
        if isinstance(session, SessionOnDemand):
            session = session.get()
        try:
            async with session.post(
                request.url,
                data=_body(request.body),
                headers=request.headers,
                trace_request_ctx=ticket,
            ) as response:
                ticket.answer(self.clock.now())  # the server counted it by now: the window uses it
                crash_point("after_send")  # the request went out; its answer is not read
                content = await response.read()
                answer = endpoint.judge(response.status, content, response.headers)
                return answer, str(response.status)
        except aiohttp.ClientConnectorError as exc:  # no connection: nothing was sent
            return Answer(Verdict.FAILED, f"cannot connect: {exc}"), NOT_CONNECTED
        except TimeoutError:
            return Answer(Verdict.FAILED, "request timed out"), "timeout"
        except aiohttp.ClientError as exc:
            return Answer(Verdict.FAILED, f"connection error: {type(exc).__name__}"), "connection"


def _retrying(endpoint: Endpoint, status: str, attempt: int, wait: float, answer: Answer) -> None:
    log.info(
        "retrying",
        endpoint=endpoint.name,
        status=status,
        attempt=attempt,
        wait_s=round(wait, 2),
        reason=answer.message[:200],
    )


LARGE_BODY = 1 << 20  # aiohttp warns (and blocks the loop writing) bytes bodies above 1 MiB


def _body(body: bytes) -> bytes | io.BytesIO:
    """A large body (a record with a 10 MB field) goes as a stream, a fresh one per attempt."""
    return io.BytesIO(body) if len(body) > LARGE_BODY else body


def departures(clock: Clock) -> aiohttp.TraceConfig:
    """Moves a request's window slot to when its headers were written to the socket.

    Between the limiter's grant and the write the event loop may run other work (mapping a
    chunk of rows, another sync): the window counts the real departure, not the grant."""

    async def sent(
        _session: aiohttp.ClientSession,
        context: Any,
        _params: aiohttp.TraceRequestHeadersSentParams,
    ) -> None:
        ticket = context.trace_request_ctx
        if isinstance(ticket, Ticket):
            ticket.left(clock.now())

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(sent)
    return trace
