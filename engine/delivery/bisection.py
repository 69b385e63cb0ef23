"""One batch until every record has its answer: a rejected batch is split in halves until the bad
records stand alone, unless the breaker sees every request refused for the same reason.

Bisection has a budget per run: the requests it adds (beyond each batch's first send) may not
exceed BUDGET_FLOOR plus BUDGET_PER_RECORD for each record sent so far. A few bad records cost
about 2·log2(batch) requests each and stay far below it; a run where most records are refused for
different reasons stops with a clear message instead of making thousands of requests, and its
unsent rows stay for the next run.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Protocol

from engine.contracts import Endpoint, Verdict, event_scope
from engine.crashpoints import crash_point
from engine.delivery.breaker import RejectBreaker
from engine.delivery.encoding import Unencodable
from engine.delivery.limiter import Pacer
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import STOPPED, RequestStats, Sender
from engine.errors import DeliveryError
from engine.rows import Record

BUDGET_FLOOR = 200  # extra requests bisection may always spend in a run
BUDGET_PER_RECORD = 0.5  # and this many more per record sent


class Receipts(Protocol):
    """Where each record's fate is told (the pipeline: its stats, checkpoint and reject file)."""

    def delivered(self, records: list[Record]) -> None: ...

    def refused(self, record: Record, message: str) -> None: ...

    def failed(self, records: list[Record]) -> None: ...


class Bisector:
    def __init__(
        self,
        name: str,
        sender: Sender,
        endpoint: Endpoint,
        limiter: Pacer,
        policy: RetryPolicy,
        requests: RequestStats,
        receipts: Receipts,
        stopped: Callable[[], bool],
        stopping: Callable[[], Awaitable[None]] | None = None,
        fence: Callable[[], Awaitable[None]] | None = None,
        claim: Callable[[list[Record]], None] | None = None,
    ) -> None:
        self.name = name
        self.claim = claim  # events: the batch's keys marked pending before its request leaves
        self.fence = fence  # the run still holds its state lease (before each request)
        self.sender = sender
        self.endpoint = endpoint
        self.limiter = limiter
        self.policy = policy
        self.requests = requests
        self.receipts = receipts
        self.stopped = stopped
        self.stopping = stopping
        self.breaker = RejectBreaker()
        self.once = event_scope(endpoint) is not None  # events: no resend of an unknown outcome
        self.sent = 0  # records handed to deliver() as batches
        self.spent = 0  # requests bisection added

    async def _split(self, batch: list[Record], reason: str) -> None:
        if len(batch) == 1:
            self.receipts.refused(batch[0], reason)
            return
        middle = len(batch) // 2
        await self._send(batch[:middle])
        await self._send(batch[middle:])

    async def deliver(self, batch: list[Record]) -> None:
        """Raises DeliveryError when the sync must stop (credentials, retries spent, breaker,
        bisection budget)."""
        self.sent += len(batch)
        await self._send(batch)

    def _budget(self) -> int:
        return BUDGET_FLOOR + int(BUDGET_PER_RECORD * self.sent)

    async def _send(self, batch: list[Record]) -> None:
        crash_point("before_send")
        try:
            answer = await self.sender.send(
                self.endpoint,
                [record.payload for record in batch],
                self.limiter,
                self.policy,
                self.requests,
                stopped=self.stopped,
                stopping=self.stopping,
                fence=self.fence,
                once=self.once,
                leaving=None if self.claim is None else functools.partial(self.claim, batch),
            )
        except Unencodable as exc:  # a value JSON cannot carry: split until it stands alone
            await self._split(batch, exc.reason)
            return
        verdict = answer.verdict
        crash_point("after_answer")
        if verdict is Verdict.FAILED and answer.message == STOPPED:
            return  # the run is stopping: these records stay unsent
        if verdict is Verdict.ACCEPTED:
            self.breaker.accepted()
            self.receipts.delivered(batch)
            return
        if verdict is Verdict.REJECTED:
            common = self.breaker.rejected(answer.message, answer.reason_class)
            if common is not None:
                raise DeliveryError(
                    f"{self.name}: stopped after {self.breaker.limit} rejected requests in a row "
                    f"with the same error, nothing accepted in between: {common}"
                )
            if len(batch) > 1:
                if self.spent + 2 > self._budget():
                    raise DeliveryError(
                        f"{self.name}: stopped: isolating the records the API refuses has cost "
                        f"{self.spent} extra requests for {self.sent} records sent (the budget); "
                        f"most records are refused, see the reject file. Last answer: "
                        f"{answer.message}"
                    )
                self.spent += 2
                middle = len(batch) // 2
                await self._send(batch[:middle])
                crash_point("bisection")
                await self._send(batch[middle:])
                return
            self.receipts.refused(batch[0], answer.message)
            return
        if verdict is Verdict.CONFIG:
            raise DeliveryError(
                f"{self.name}: configuration error: the API has no such route ({answer.message}); "
                "check the destination's base_url and endpoint"
            )
        if verdict is Verdict.AUTH:
            raise DeliveryError(
                f"{self.name}: the API refused the credentials ({answer.message}); "
                "check the tid and api_key of the destination"
            )
        self.receipts.failed(batch)
        raise DeliveryError(f"{self.name}: delivery failed: {answer.message}")
