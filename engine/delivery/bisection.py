"""One batch until every record has its answer: a rejected batch is split in halves until the bad
records stand alone, unless the breaker sees every request refused for the same reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from engine.contracts import Endpoint, Verdict
from engine.delivery.breaker import RejectBreaker
from engine.delivery.limiter import RateLimiter
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import STOPPED, RequestStats, Sender
from engine.errors import DeliveryError
from engine.records import Record


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
        limiter: RateLimiter,
        policy: RetryPolicy,
        requests: RequestStats,
        receipts: Receipts,
        stopped: Callable[[], bool],
        stopping: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self.sender = sender
        self.endpoint = endpoint
        self.limiter = limiter
        self.policy = policy
        self.requests = requests
        self.receipts = receipts
        self.stopped = stopped
        self.stopping = stopping
        self.breaker = RejectBreaker()

    async def deliver(self, batch: list[Record]) -> None:
        """Raises DeliveryError when the sync must stop (credentials, retries spent, breaker)."""
        answer = await self.sender.send(
            self.endpoint,
            [record.payload for record in batch],
            self.limiter,
            self.policy,
            self.requests,
            stopped=self.stopped,
            stopping=self.stopping,
        )
        verdict = answer.verdict
        if verdict is Verdict.FAILED and answer.message == STOPPED:
            return  # the run is stopping: these records stay unsent
        if verdict is Verdict.ACCEPTED:
            self.breaker.accepted()
            self.receipts.delivered(batch)
            return
        if verdict is Verdict.REJECTED:
            common = self.breaker.rejected(answer.message)
            if common is not None:
                raise DeliveryError(
                    f"{self.name}: stopped after {self.breaker.limit} rejected requests in a row "
                    f"with the same error, nothing accepted in between: {common}"
                )
            if len(batch) > 1:
                middle = len(batch) // 2
                await self.deliver(batch[:middle])
                await self.deliver(batch[middle:])
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
