"""`omnisync rejects replay`: the rows of a sync's reject file read again from their source, mapped
with the current spec, checked and sent; those that now pass are marked resolved in the file.

The reject file names each row by its place in the source (`members.csv:12`, `orders[id=42]`),
never by its values, so a replay reads the source again and keeps the rows whose place is listed
(memory grows with the rejects, not with the source). The rows go through the same decision,
bisection and retries as a run. A row that is refused again keeps its entry with the new reason;
one the source no longer has is counted `missing` and keeps its entry.

A replay is a run in the spec's history (`history` lists it as a replay) and writes the record
ledger as a run does, so `why` tells a replayed key's outcome; it is never a full read, so it
finds no record that left the source.

A replay holds the spec's state lock (no run appends to the reject file meanwhile) and uses the
sync's change detection as a run does: what the API acknowledges has its digest saved batch by
batch, so the next run does not send it again. Each acknowledged batch is also marked resolved
durably at once (reject_entries.py), so a replay killed half way keeps what it did and the next
replay sends only the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from engine import logging as omnilog
from engine.clock import Clock, SystemClock
from engine.contracts import Destination, Source, event_scope, keeps_records
from engine.delivery.sender import Sender
from engine.errors import OmnisyncError
from engine.outcomes.reject_entries import ResolvedJournal, read_entries
from engine.outcomes.reject_file import RejectFile, new_run_id
from engine.outcomes.reject_policy import RejectPolicy
from engine.outcomes.report import SyncStats
from engine.plugins import Registry, load_registry
from engine.rows import Position, Record, Row
from engine.run.assemble import http_session, open_destinations
from engine.run.history import RunHistory
from engine.run.pipeline import SyncPlan, SyncRun
from engine.run.resume import RunState, run_state
from engine.run.runner import RunOptions, selected
from engine.run.sync_plan import build_plan
from engine.specfile import Spec, SyncSpec

log = omnilog.get_logger("omnisync.replay")


@dataclass
class ReplayResult:
    sync: str
    listed: int = 0  # unresolved entries in the reject file
    delivered: int = 0
    unchanged: int = 0  # the API already holds this content (change detection): resolved too
    refused: int = 0  # rejected again (mapping, checks or the API)
    missing: int = 0  # no longer in the source


class OnlyListed:
    """A source that yields only the rows whose place is in `wanted`."""

    config_schema: ClassVar[dict[str, Any]] = {}

    def __init__(self, source: Source, wanted: set[str]) -> None:
        self.source = source
        self.wanted = wanted
        self.seen: set[str] = set()

    async def read(self, resume: Position | None) -> AsyncIterator[Row]:
        locate, wanted = self.source.locate, self.wanted
        async for row in self.source.read(None):
            where = locate(row.position)
            if where in wanted:
                self.seen.add(where)
                yield row

    def locate(self, position: Position) -> str:
        return self.source.locate(position)


class ReplayRun(SyncRun):
    """A sync run over the listed rows that marks each acknowledged batch resolved at once."""

    def __init__(self, plan: SyncPlan, sender: Sender, journal: ResolvedJournal) -> None:
        super().__init__(plan, sender)
        self.journal = journal

    def delivered(self, records: list[Record]) -> None:
        locate = self.plan.source.locate
        self.journal.add([locate(record.position) for record in records])  # durable first
        super().delivered(records)
        if self.plan.changes is not None:  # saved now: a kill after this cannot make a run resend
            self.plan.changes.flush()


async def replay_spec(
    spec: Spec,
    names: Sequence[str] = (),
    registry: Registry | None = None,
    clock: Clock | None = None,
) -> list[ReplayResult]:
    registry = registry or load_registry()
    syncs = selected(spec, names)
    results = []
    async with contextlib.AsyncExitStack() as stack:
        destinations = await open_destinations(stack, spec, syncs, registry)
        clock = clock or SystemClock()
        session = await stack.enter_async_context(http_session(syncs, clock))
        sender = Sender(session, clock)
        state = stack.enter_context(run_state(spec, registry))  # the lock: no run writes meanwhile
        history = RunHistory.open(state.store, spec, state.identity, new_run_id(), False, False)
        history.run.kind = "replay"
        history.begin(syncs)
        finished: list[SyncStats] = []
        code = 1  # an error stops the replay: its history says so
        try:
            for sync in syncs:
                destination = destinations[sync.destination_type]
                result, stats = await _replay(
                    spec, sync, registry, destination, sender, state, history
                )
                results.append(result)
                finished.append(stats)
            code = 0
        finally:
            with contextlib.suppress(OmnisyncError):  # the replay's own outcome comes first
                history.end(finished, code)
    if state.closed_with is not None:  # the marks are in the file; the store failed at the end
        raise state.closed_with
    return results


async def _replay(
    spec: Spec,
    sync: SyncSpec,
    registry: Registry,
    destination: Destination,
    sender: Sender,
    state: RunState,
    history: RunHistory,
) -> tuple[ReplayResult, SyncStats]:
    journal = ResolvedJournal(sync.reject_file)
    if recovered := journal.recover():
        log.info("replay_recovered", sync=sync.name, resolved=recovered, file=str(journal.path))
    entries = read_entries(sync.reject_file)
    wanted = {str(e.get("position")) for e in entries if not e.get("resolved")}
    result = ReplayResult(sync.name, listed=len(wanted))
    if not wanted:  # nothing to replay: said so in the history too
        return result, SyncStats(sync.name)
    run_id = history.run.run_id
    plan = build_plan(spec, sync, registry, destination, sender, RunOptions(), run_id)
    source = OnlyListed(plan.source, wanted)
    again = sync.reject_file.with_name(sync.reject_file.name + ".replay")
    again.unlink(missing_ok=True)  # a killed replay's: its rows are listed and read again
    plan = dataclasses.replace(
        plan,
        source=source,
        rejects=RejectFile(again, sync.name, plan.endpoint.personal_fields, False),
        reject_policy=RejectPolicy(sync.name, again, max_ratio=1.0, early_ratio=1.0),
        changes=state.replay_changes(sync, plan.endpoint.key, keeps_records(destination)),
    )
    events = event_scope(plan.endpoint)
    if events is not None:  # a trigger replayed is a trigger: once per window, like a run's
        gate = state.replay_triggers(sync, plan.endpoint.key, events, keeps_records(destination))
        plan = dataclasses.replace(plan, changes=None, triggers=gate)
    ledger = history.sync(sync, plan.endpoint, plan.endpoint.key, full=False)
    plan = dataclasses.replace(plan, ledger=ledger)
    journal.start(len(entries))
    clean = False
    replay = ReplayRun(plan, sender, journal)
    try:
        stats = await replay.run()
        clean = not (stats.failed or stats.unsent)
    finally:
        with contextlib.suppress(OmnisyncError):
            history.end_sync(sync, ledger, replay.stats, clean)
        plan.rejects.close()
        refused = {str(e["position"]): e for e in read_entries(again)}
        again.unlink(missing_ok=True)
        # every row read is finished on a clean end: delivered, already held, filtered or refused
        journal.finish(entries, source.seen - set(refused) if clean else set(), refused)
    result.delivered, result.unchanged = stats.delivered, stats.unchanged
    result.refused, result.missing = len(refused), len(wanted - source.seen)
    return result, stats
