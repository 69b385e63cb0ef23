"""One sync: source -> decide -> deliver -> checkpoint -> report.

Reading, mapping and checking run in one task; batches go through a bounded queue to a few
delivery workers, so memory stays flat whatever the input size and a slow API slows the reader.
Every row read is finished exactly once (delivered, unchanged, filtered or rejected) or counted
unsent when the sync stops, so the report adds up and the checkpoint's low-water mark is known.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from engine.checkpoint import Checkpointer
from engine.contracts import Endpoint, Source
from engine.decide import Filtered, compile_decide
from engine.delivery.batching import BatchQueue
from engine.delivery.bisection import Bisector
from engine.delivery.limiter import Pacer
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import Sender
from engine.errors import OmnisyncError, RejectBudgetExceeded
from engine.records import Position, Record, Rejection
from engine.report import RejectFile, SyncStats
from engine.state.digests import ChangeDetector
from engine.stop import StopRequest
from engine.transforms.mapping import CompiledMapping

log = structlog.get_logger("omnisync.pipeline")

DEFAULT_CONCURRENCY = 8
SCREEN = 1000  # records compared with the stored digests per store lookup
WINDOW_BATCHES = 64  # read-ahead: open rows at most this many batches (bounds memory on stalls)


@dataclass
class RejectBudget:
    """Stop once `min_rows` were read and more than `max_ratio` of them were rejected."""

    max_ratio: float = 0.0
    min_rows: int = 1000

    def exceeded(self, rejected: int, read: int) -> bool:
        return read >= self.min_rows and rejected > self.max_ratio * read


@dataclass(frozen=True)
class SyncPlan:
    """Everything one sync needs, built and checked before any row is read."""

    name: str
    source: Source
    mapping: CompiledMapping
    endpoint: Endpoint
    batch_size: int
    concurrency: int
    limiter: Pacer
    policy: RetryPolicy
    rejects: RejectFile
    dry_run: bool = False
    resume: Position | None = None
    budget: RejectBudget = field(default_factory=RejectBudget)
    stop: StopRequest = field(default_factory=StopRequest)
    on_checkpoint: Callable[[Position], None] | None = None  # the low-water mark moved
    changes: ChangeDetector | None = None  # skips the records the API already has


class SyncRun:
    def __init__(self, plan: SyncPlan, sender: Sender) -> None:
        self.plan = plan
        self.stats = SyncStats(plan.name)
        self.checkpoint = Checkpointer(plan.on_checkpoint)
        self.bisector = Bisector(
            plan.name,
            sender,
            plan.endpoint,
            plan.limiter,
            plan.policy,
            self.stats.requests,
            receipts=self,
            stopped=lambda: plan.stop.requested,
            stopping=plan.stop.wait,
        )

    async def run(self) -> SyncStats:
        plan = self.plan
        batches = BatchQueue(
            plan.concurrency, plan.endpoint.key, self.bisector.deliver, lambda: plan.stop.requested
        )
        try:
            async with asyncio.TaskGroup() as group:
                expiry = group.create_task(plan.stop.expire())
                batches.start(group)
                await self._read(batches)
                await batches.drain()
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
            finished = stats.delivered + stats.unchanged + stats.rejected + stats.filtered
            stats.unsent = stats.read - finished - stats.failed
            if plan.stop.requested and stats.stopped is None:
                stats.stopped = plan.stop.reason
        return self.stats

    async def _read(self, batches: BatchQueue) -> None:
        plan, stats, checkpoint = self.plan, self.stats, self.checkpoint
        stop = plan.stop
        decide, size = compile_decide(plan.mapping, plan.endpoint), plan.batch_size
        window = size * max(WINDOW_BATCHES, plan.concurrency * 4)
        budget_from = plan.budget.min_rows
        screen = max(SCREEN, size) if plan.changes is not None else 0
        pending: list[Record] = []  # waiting for the change screen
        batch: list[Record] = []
        async for row in plan.source.read(plan.resume):
            if stop.requested:
                break
            seq = checkpoint.issue(row.position)
            stats.read += 1
            if stats.read == budget_from:
                self._check_budget()
            decision = decide(row)
            if isinstance(decision, dict):
                record = Record(decision, row.position, seq)
                if screen:
                    pending.append(record)
                    if len(pending) < screen:
                        continue
                    changed, pending = self._screen(pending), []
                else:
                    changed = [record]
                for record in changed:
                    batch.append(record)
                    if len(batch) >= size:
                        await self._dispatch(batches, batch)
                        batch = []
                        if checkpoint.in_flight >= window:
                            await checkpoint.wait_below(window, lambda: stop.requested)
            elif isinstance(decision, Filtered):
                stats.filtered += 1
                checkpoint.finish(seq)
            else:
                self._reject(seq, decision)
        if pending and not stop.requested:
            batch.extend(self._screen(pending))
        while batch and not stop.requested:
            await self._dispatch(batches, batch[:size])
            batch = batch[size:]

    def _screen(self, records: list[Record]) -> list[Record]:
        """The records whose content changed; the unchanged ones are finished here."""
        assert self.plan.changes is not None
        changed, unchanged = self.plan.changes.screen(records)
        if unchanged:
            self.stats.unchanged += len(unchanged)
            self.checkpoint.finish_all([record.seq for record in unchanged])
        return changed

    async def _dispatch(self, batches: BatchQueue, records: list[Record]) -> None:
        if self.plan.dry_run:
            self.checkpoint.finish_all([record.seq for record in records])
        else:
            await batches.put(records)

    # -- Receipts: what the bisector says became of each record -----------------------------

    def delivered(self, records: list[Record]) -> None:
        if self.plan.changes is not None:
            self.plan.changes.acknowledged(records)
        self.checkpoint.finish_all([record.seq for record in records])
        self.stats.delivered += len(records)

    def refused(self, record: Record, message: str) -> None:
        self._reject(record.seq, Rejection(record.position, message, None, record.payload))

    def failed(self, records: list[Record]) -> None:
        self.stats.failed += len(records)

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
