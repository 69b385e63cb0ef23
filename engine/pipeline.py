"""One sync: source -> map -> check -> batch -> deliver -> checkpoint -> report.

Reading, mapping and checking run in one task; batches go through a bounded queue to a few
delivery workers, so memory stays flat whatever the input size and a slow API slows the reader.
Every row read is finished exactly once (delivered, filtered or rejected) or counted unsent when
the sync stops, so the report adds up and the checkpoint's low-water mark is always known.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from engine.checkpoint import Checkpointer
from engine.contracts import Endpoint, Source, Verdict
from engine.delivery.breaker import RejectBreaker
from engine.delivery.limiter import RateLimiter
from engine.delivery.ordering import Claim, KeyOrder
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import STOPPED, Sender
from engine.errors import DeliveryError, OmnisyncError, RejectBudgetExceeded
from engine.records import Position, Record, Rejection
from engine.report import RejectFile, SyncStats
from engine.stop import StopRequest
from engine.transforms.mapping import CompiledMapping, FieldError

log = structlog.get_logger("omnisync.pipeline")

DEFAULT_CONCURRENCY = 8
WINDOW_BATCHES = 64  # read-ahead: open rows at most this many batches (bounds memory on stalls)


@dataclass
class RejectBudget:
    """Stop once `min_rows` were read and more than `max_ratio` of them were rejected."""

    max_ratio: float = 0.0
    min_rows: int = 1000

    def exceeded(self, rejected: int, read: int) -> bool:
        return read >= self.min_rows and rejected > self.max_ratio * read


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
    budget: RejectBudget = field(default_factory=RejectBudget)
    stop: StopRequest = field(default_factory=StopRequest)
    on_checkpoint: Callable[[Position], None] | None = None  # the low-water mark moved


class Batch:
    __slots__ = ("claim", "records")

    def __init__(self, records: list[Record], claim: Claim) -> None:
        self.records = records
        self.claim = claim


class SyncRun:
    def __init__(self, plan: SyncPlan, sender: Sender) -> None:
        self.plan = plan
        self.sender = sender
        self.stats = SyncStats(plan.name)
        self.checkpoint = Checkpointer(plan.on_checkpoint)
        self.order = KeyOrder()
        self.breaker = RejectBreaker()

    async def run(self) -> SyncStats:
        plan = self.plan
        queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=plan.concurrency * 2)
        try:
            async with asyncio.TaskGroup() as group:
                expiry = group.create_task(plan.stop.expire())
                workers = [group.create_task(self._worker(queue)) for _ in range(plan.concurrency)]
                await self._read(queue)
                for _ in workers:
                    await queue.put(None)
                await asyncio.gather(*workers)
                expiry.cancel()
        except* OmnisyncError as failure:
            self.stats.stopped = str(failure.exceptions[0])
            raise failure.exceptions[0] from None
        except* Exception as failure:  # a plugin's or our bug: stop this sync with one clear line
            error = failure.exceptions[0]
            log.debug("unexpected_error", exc_info=error)
            self.stats.stopped = f"unexpected {type(error).__name__}: {error}"
            raise OmnisyncError(f"{plan.name}: stopped by an {self.stats.stopped}") from None
        finally:
            plan.rejects.close()
            stats = self.stats
            stats.finished = stats.started + stats.elapsed
            stats.unsent = (
                stats.read - stats.delivered - stats.rejected - stats.filtered - stats.failed
            )
            if plan.stop.requested and stats.stopped is None:
                stats.stopped = plan.stop.reason
        return self.stats

    async def _read(self, queue: asyncio.Queue[Batch | None]) -> None:
        plan, stats, checkpoint = self.plan, self.stats, self.checkpoint
        stop = plan.stop
        apply, check, size = plan.mapping.apply, plan.endpoint.check, plan.batch_size
        window = size * max(WINDOW_BATCHES, plan.concurrency * 4)
        budget_from = plan.budget.min_rows
        batch: list[Record] = []
        async for row in plan.source.read(plan.resume):
            if stop.requested:
                break
            seq = checkpoint.issue(row.position)
            stats.read += 1
            if stats.read == budget_from:
                self._check_budget()
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
                field_name, reason = problem
                self._reject(seq, Rejection(row.position, reason, field_name, payload))
                continue
            batch.append(Record(payload, row.position, seq))
            if len(batch) >= size:
                await self._dispatch(queue, batch)
                batch = []
                if checkpoint.in_flight >= window:
                    await checkpoint.wait_below(window, lambda: stop.requested)
        if batch and not stop.requested:
            await self._dispatch(queue, batch)

    async def _dispatch(self, queue: asyncio.Queue[Batch | None], records: list[Record]) -> None:
        if self.plan.dry_run:
            self._finish(records, delivered=False)
            return
        key = self.plan.endpoint.key
        claim = self.order.claim([key(record.payload) for record in records])
        await queue.put(Batch(records, claim))
        await asyncio.sleep(0)  # let the workers run even when the queue has room

    async def _worker(self, queue: asyncio.Queue[Batch | None]) -> None:
        stop = self.plan.stop
        while (batch := await queue.get()) is not None:
            try:
                if not stop.requested:  # once stopping, queued batches stay unsent
                    await batch.claim.ready()
                    await self._deliver(batch.records)
            finally:
                self.order.release(batch.claim)

    async def _deliver(self, batch: list[Record]) -> None:
        """Send; a rejected batch is split in halves until the bad records stand alone."""
        plan = self.plan
        answer = await self.sender.send(
            plan.endpoint,
            [record.payload for record in batch],
            plan.limiter,
            plan.policy,
            self.stats.requests,
            stopped=lambda: plan.stop.requested,
        )
        verdict = answer.verdict
        if verdict is Verdict.FAILED and answer.message == STOPPED:
            return  # the run is stopping: these records stay unsent
        if verdict is Verdict.ACCEPTED:
            self.breaker.accepted()
            self._finish(batch, delivered=True)
            return
        if verdict is Verdict.REJECTED:
            common = self.breaker.rejected(answer.message)
            if common is not None:
                raise DeliveryError(
                    f"{plan.name}: stopped after {self.breaker.limit} rejected requests in a row "
                    f"with the same error, nothing accepted in between: {common}"
                )
            if len(batch) > 1:
                middle = len(batch) // 2
                await self._deliver(batch[:middle])
                await self._deliver(batch[middle:])
                return
            record = batch[0]
            self._reject(
                record.seq, Rejection(record.position, answer.message, None, record.payload)
            )
            return
        if verdict is Verdict.AUTH:
            raise DeliveryError(
                f"{plan.name}: the API refused the credentials ({answer.message}); "
                "check the tid and api_key of the destination"
            )
        self.stats.failed += len(batch)
        raise DeliveryError(f"{plan.name}: delivery failed: {answer.message}")

    def _finish(self, batch: list[Record], delivered: bool) -> None:
        self.checkpoint.finish_all([record.seq for record in batch])
        if delivered:
            self.stats.delivered += len(batch)

    def _reject(self, seq: int, rejection: Rejection) -> None:
        plan = self.plan
        key = plan.endpoint.key(rejection.payload) if rejection.payload is not None else None
        plan.rejects.write(rejection, plan.source.locate(rejection.position), key)
        self.stats.rejected += 1
        self.checkpoint.finish(seq)
        self._check_budget()

    def _check_budget(self) -> None:
        stats, budget = self.stats, self.plan.budget
        if budget.exceeded(stats.rejected, stats.read):
            raise RejectBudgetExceeded(
                f"{self.plan.name}: {stats.rejected} of the first {stats.read} rows rejected, "
                f"more than max_reject_ratio {budget.max_ratio:g}; stopped early "
                f"(see {self.plan.rejects.path})"
            )
