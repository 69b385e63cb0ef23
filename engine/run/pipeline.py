"""One sync: source -> decide -> deliver -> checkpoint -> report.

Reading, mapping and checking run in one task; batches go through a bounded queue to a few
delivery workers, so memory stays flat whatever the input size and a slow API slows the reader.
Every row read is finished exactly once (delivered, unchanged, filtered or rejected) or counted
unsent when the sync stops, so the report adds up and the checkpoint's low-water mark is known.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from engine import logging as omnilog
from engine.contracts import Endpoint, Source, source_notes
from engine.delivery.batching import BatchQueue
from engine.delivery.bisection import Bisector
from engine.delivery.limiter import Pacer
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import Sender
from engine.errors import OmnisyncError
from engine.outcomes.reject_file import RejectFile
from engine.outcomes.reject_policy import RejectPolicy
from engine.outcomes.report import SyncStats
from engine.pii import mask
from engine.rows import Position, Record, Rejection
from engine.run.checkpoint import Checkpointer
from engine.run.row_outcome import Filtered, compile_decide
from engine.run.stop import StopRequest
from engine.state.change_detection import ChangeDetector
from engine.state.ledger import SyncLedger
from engine.state.triggers import TriggerGate
from engine.transforms.mapping import CompiledMapping

log = omnilog.get_logger("omnisync.pipeline")

DEFAULT_CONCURRENCY = 8
SCREEN = 1000  # records compared with the stored digests per store lookup
SHOWN = 20  # keys a dry run of an event sync lists, of those it would trigger and skip
WINDOW_BATCHES = 64  # read-ahead: open rows at most this many batches (bounds memory on stalls)


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
    reject_policy: RejectPolicy | None = None  # default: max_reject_ratio 0, early_stop defaults
    stop: StopRequest = field(default_factory=StopRequest)
    on_checkpoint: Callable[[Position], None] | None = None  # the low-water mark moved
    changes: ChangeDetector | None = None  # skips the records the API already has
    # told each screen's (changed, unchanged) records: `plan --changes` counts them
    on_screen: Callable[[list[Record], list[Record]], None] | None = None
    fence: Callable[[], Awaitable[None]] | None = None  # raises once the state lease is lost
    ledger: SyncLedger | None = None  # what became of each record, for `omnisync why`
    triggers: TriggerGate | None = None  # an event endpoint: each key once per window
    reveal_pii: bool = False  # keys shown in clear in the report (outcome unknown, dry run)


class SyncRun:
    def __init__(self, plan: SyncPlan, sender: Sender) -> None:
        self.plan = plan
        self.stats = SyncStats(plan.name)
        self.checkpoint = Checkpointer(self._advanced)
        self.reject_policy = plan.reject_policy or RejectPolicy(plan.name, plan.rejects.path)
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
            fence=plan.fence,
            claim=plan.triggers.claim if plan.triggers is not None else None,
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
            plan.rejects.commit()  # what the mark passed; the rest once the state saved it
            stats = self.stats
            stats.notes.extend(source_notes(plan.source))
            stats.finished = stats.started + stats.elapsed
            finished = stats.delivered + stats.unchanged + stats.rejected + stats.filtered
            finished += stats.skipped + stats.unknown
            stats.unsent = stats.read - finished - stats.failed
            if plan.stop.requested and stats.stopped is None:
                stats.stopped = plan.stop.reason
        return self.stats

    async def _read(self, batches: BatchQueue) -> None:
        """Every row read, decided and batched; no more than a window of rows open at once."""
        plan, stats, checkpoint = self.plan, self.stats, self.checkpoint
        stop = plan.stop
        decide = compile_decide(plan.mapping, plan.endpoint, encode=plan.dry_run)
        size = plan.batch_size
        window = size * max(WINDOW_BATCHES, plan.concurrency * 4)
        early_from = self.reject_policy.early_after
        screened = plan.changes is not None or plan.triggers is not None
        screen = max(SCREEN, size) if screened else 0
        marked = getattr(plan.changes, "marks_rows", False)  # the source compared (in_source)
        pending: list[Record] = []  # waiting for the change screen
        batch: list[Record] = []
        async for row in plan.source.read(plan.resume):
            if stop.requested:
                break
            seq = checkpoint.issue(row.position)
            stats.read += 1
            if stats.read == early_from:
                self.reject_policy.check_early(stats.rejected, stats.read)
            decision = decide(row)
            if isinstance(decision, dict):
                record = Record(decision, row.position, seq)
                if marked:
                    record.mark = row.mark  # type: ignore[attr-defined]
                changed = [record]
                if screen:
                    pending.append(record)
                    changed = []
                    if len(pending) >= screen:
                        changed, pending = self._screen(pending), []
                for record in changed:
                    batch.append(record)
                    if len(batch) >= size:
                        await self._dispatch(batches, batch)
                        batch = []
            elif isinstance(decision, Filtered):
                stats.filtered += 1
                checkpoint.finish(seq)
                if plan.ledger is not None:
                    plan.ledger.single("filtered", self._row_key(row.values), decision.reason)
            else:
                self._reject(seq, decision)
            if checkpoint.in_flight >= window:
                batch, pending = await self._make_room(batches, batch, pending, window)
        if not stop.requested:
            await self._flush(batches, batch + self._screen(pending))

    async def _make_room(
        self, batches: BatchQueue, batch: list[Record], pending: list[Record], window: int
    ) -> tuple[list[Record], list[Record]]:
        """Wait until fewer than `window` rows are open, so memory stays bounded on a stall."""
        held = batch or pending  # batch's records are older than the screen's
        if held and held[0].seq == self.checkpoint.finished_below:
            # the oldest open row is in the reader's hands: waiting for the window would never
            # end, so it goes now, in a short batch (a few changed or kept records among many
            # unchanged or filtered ones; a screen wider than the window)
            await self._flush(batches, batch + self._screen(pending))
            batch, pending = [], []
        await self.checkpoint.wait_below(window, lambda: self.plan.stop.requested)
        return batch, pending

    def _screen(self, records: list[Record]) -> list[Record]:
        """The records whose content changed; the unchanged ones are finished here."""
        if not records:
            return []
        if self.plan.triggers is not None:
            return self._gate(self.plan.triggers, records)
        assert self.plan.changes is not None
        changed, unchanged = self.plan.changes.screen(records)
        if self.plan.on_screen is not None:
            self.plan.on_screen(changed, unchanged)
        if self.plan.ledger is not None:
            self.plan.ledger.screened(changed, self.plan.changes.last_stored)
            self.plan.ledger.records("unchanged", unchanged)
        if unchanged:
            self.stats.unchanged += len(unchanged)
            self.checkpoint.finish_all([record.seq for record in unchanged])
        return changed

    def _gate(self, gate: TriggerGate, records: list[Record]) -> list[Record]:
        """An event sync's screen: the keys to trigger (marked pending in the store before this
        returns); those already triggered in the window, or of unknown outcome, are finished."""
        out = gate.screen(records)
        stats, ledger = self.stats, self.plan.ledger
        stats.skipped += len(out.skipped)
        stats.unknown += len(out.unknown)
        stats.unknown_keys.extend(self._shown(r) for r in out.unknown)
        if self.plan.dry_run:
            room = SHOWN - len(stats.would_trigger)
            stats.would_trigger.extend(self._shown(r) for r in out.send[: max(room, 0)])
            room = SHOWN - len(stats.skipped_keys)
            stats.skipped_keys.extend(self._shown(r) for r in out.skipped[: max(room, 0)])
        if out.unknown:
            log.warning("trigger_outcome_unknown", count=len(out.unknown))
        if ledger is not None:
            ledger.records("skipped", out.skipped)
            ledger.records("unknown", out.unknown)
        self.checkpoint.finish_all([record.seq for record in out.skipped + out.unknown])
        return out.send

    def _shown(self, record: Record) -> str:
        key = self.plan.endpoint.key(record.payload) or ""
        return key if self.plan.reveal_pii else str(mask(key))

    async def _flush(self, batches: BatchQueue, records: list[Record]) -> None:
        """Everything the reader holds, in batches of the batch size (the last one short)."""
        size = self.plan.batch_size
        for start in range(0, len(records), size):
            await self._dispatch(batches, records[start : start + size])

    async def _dispatch(self, batches: BatchQueue, records: list[Record]) -> None:
        if self.plan.dry_run:
            if self.plan.ledger is not None:  # plan --changes: what the run would send, seen
                self.plan.ledger.records("delivered", records)
            self.checkpoint.finish_all([record.seq for record in records])
        else:
            await batches.put(records)

    # -- Receipts: what the bisector says became of each record -----------------------------

    def delivered(self, records: list[Record]) -> None:
        self.stats.delivered += len(records)  # first: the API has them, whatever the store says
        if self.plan.changes is not None:
            self.plan.changes.acknowledged(records)
        if self.plan.triggers is not None:
            self.plan.triggers.confirmed(records)
        if self.plan.ledger is not None:
            action = "triggered" if self.plan.triggers is not None else "delivered"
            self.plan.ledger.records(action, records)
        self.checkpoint.finish_all([record.seq for record in records])

    def refused(self, record: Record, message: str) -> None:
        if self.plan.changes is not None:
            self.plan.changes.settled([record])
        if self.plan.triggers is not None:  # refused: nobody was triggered
            self.plan.triggers.refused([record])
        self._reject(record.seq, Rejection(record.position, message, None, record.payload))

    def failed(self, records: list[Record]) -> None:
        if self.plan.changes is not None:
            self.plan.changes.settled(records)
        self.stats.failed += len(records)
        if self.plan.ledger is not None:
            self.plan.ledger.records("failed", records)

    def _advanced(self, position: Position) -> None:
        """The low-water mark moved: the rejects below it may be written, then the state saves."""
        self.plan.rejects.release(self.checkpoint.finished_below)
        if self.plan.on_checkpoint is not None:
            self.plan.on_checkpoint(position)

    def _reject(self, seq: int, rejection: Rejection) -> None:
        plan = self.plan
        key = self._key(rejection)
        plan.rejects.write(rejection, plan.source.locate(rejection.position), key, seq)
        self.stats.rejected += 1
        self.stats.rejected_for(rejection.field, rejection.reason)
        if plan.ledger is not None:
            plan.ledger.single("rejected", key, rejection.reason, rejection.field)
        self.checkpoint.finish(seq)
        self.reject_policy.check_early(self.stats.rejected, self.stats.read)

    def _row_key(self, values: dict[str, Any] | None) -> str | None:
        """A filtered row's key, from the fields that map (None when it cannot be told)."""
        try:
            return (
                None
                if values is None
                else self.plan.endpoint.key(self.plan.mapping.partial(values))
            )
        except Exception:
            return None

    def _key(self, rejection: Rejection) -> str | None:
        """The record's key, also for a row the mapping rejected (from the fields that did map)."""
        key = self.plan.endpoint.key
        try:
            if rejection.payload is not None:
                return key(rejection.payload)
            if rejection.values is not None:
                return key(self.plan.mapping.partial(rejection.values))
        except Exception:  # a key that cannot be told from a broken record: the line says null
            log.debug("reject_key_unknown", exc_info=True)
        return None
