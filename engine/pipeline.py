"""One sync: source -> map -> check -> batch -> deliver -> checkpoint -> report.

Reading, mapping and checking run in one task; batches go through a bounded queue to a few
delivery workers, so memory stays flat whatever the input size and a slow API slows the reader.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from engine.checkpoint import Checkpointer
from engine.contracts import Endpoint, Source, Verdict
from engine.delivery.limiter import RateLimiter
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import Sender
from engine.errors import DeliveryError
from engine.records import Position, Record, Rejection
from engine.report import RejectFile, SyncStats
from engine.transforms.mapping import CompiledMapping, FieldError

log = structlog.get_logger("omnisync.pipeline")

DEFAULT_CONCURRENCY = 4


@dataclass
class SyncPlan:
    """Everything one sync needs, built and checked before any row is read."""

    name: str
    source: Source
    mapping: CompiledMapping
    endpoint: Endpoint
    batch_size: int
    concurrency: int
    limiter: RateLimiter
    policy: RetryPolicy
    rejects: RejectFile
    dry_run: bool = False
    resume: Position | None = None


class SyncRun:
    def __init__(self, plan: SyncPlan, sender: Sender) -> None:
        self.plan = plan
        self.sender = sender
        self.stats = SyncStats(plan.name)
        self.checkpoint = Checkpointer()

    async def run(self) -> SyncStats:
        plan = self.plan
        queue: asyncio.Queue[list[Record] | None] = asyncio.Queue(maxsize=plan.concurrency * 2)
        try:
            async with asyncio.TaskGroup() as group:
                workers = [group.create_task(self._worker(queue)) for _ in range(plan.concurrency)]
                await self._read(queue)
                for _ in workers:
                    await queue.put(None)
        except* DeliveryError as failure:
            self.stats.stopped = str(failure.exceptions[0])
            raise failure.exceptions[0] from None
        finally:
            plan.rejects.close()
            self.stats.finished = self.stats.started + self.stats.elapsed
        return self.stats

    async def _read(self, queue: asyncio.Queue[list[Record] | None]) -> None:
        plan, stats, checkpoint = self.plan, self.stats, self.checkpoint
        apply, check, size = plan.mapping.apply, plan.endpoint.check, plan.batch_size
        batch: list[Record] = []
        async for row in plan.source.read(plan.resume):
            seq = checkpoint.issue(row.position)
            stats.read += 1
            if row.error is not None or row.values is None:
                self._reject(seq, Rejection(row.position, row.error or "unreadable row"))
                continue
            try:
                payload = apply(row.values)
            except FieldError as exc:
                rejection = Rejection(row.position, exc.reason, exc.field, values=row.values)
                self._reject(seq, rejection)
                continue
            if payload is None:  # dropped by the sync's filter or de-duplication
                stats.filtered += 1
                checkpoint.finish(seq)
                continue
            problem = check(payload)
            if problem is not None:
                field, reason = problem
                self._reject(seq, Rejection(row.position, reason, field, payload))
                continue
            batch.append(Record(payload, row.position, seq))
            if len(batch) >= size:
                await self._dispatch(queue, batch)
                batch = []
        if batch:
            await self._dispatch(queue, batch)

    async def _dispatch(
        self, queue: asyncio.Queue[list[Record] | None], batch: list[Record]
    ) -> None:
        if self.plan.dry_run:
            self._finish(batch, delivered=False)
            return
        await queue.put(batch)
        await asyncio.sleep(0)  # let the workers run even when the queue has room

    async def _worker(self, queue: asyncio.Queue[list[Record] | None]) -> None:
        while (batch := await queue.get()) is not None:
            await self._deliver(batch)

    async def _deliver(self, batch: list[Record]) -> None:
        """Send; a rejected batch is split in halves until the bad records stand alone."""
        plan = self.plan
        answer = await self.sender.send(
            plan.endpoint,
            [record.payload for record in batch],
            plan.limiter,
            plan.policy,
            self.stats.requests,
        )
        if answer.verdict is Verdict.ACCEPTED:
            self._finish(batch, delivered=True)
        elif answer.verdict is Verdict.REJECTED and len(batch) > 1:
            middle = len(batch) // 2
            await self._deliver(batch[:middle])
            await self._deliver(batch[middle:])
        elif answer.verdict is Verdict.REJECTED:
            record = batch[0]
            rejection = Rejection(record.position, answer.message, payload=record.payload)
            self._reject(record.seq, rejection)
        elif answer.verdict is Verdict.AUTH:
            raise DeliveryError(
                f"{plan.name}: the API refused the credentials ({answer.message}); "
                "check the tid and api_key of the destination"
            )
        else:
            raise DeliveryError(f"{plan.name}: delivery failed: {answer.message}")

    def _finish(self, batch: list[Record], delivered: bool) -> None:
        for record in batch:
            self.checkpoint.finish(record.seq)
        if delivered:
            self.stats.delivered += len(batch)

    def _reject(self, seq: int, rejection: Rejection) -> None:
        plan = self.plan
        key = plan.endpoint.key(rejection.payload) if rejection.payload is not None else None
        plan.rejects.write(rejection, plan.source.locate(rejection.position), key)
        self.stats.rejected += 1
        self.checkpoint.finish(seq)
