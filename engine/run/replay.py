"""`omnisync rejects replay`: the rows of a sync's reject file read again from their source, mapped
with the current spec, checked and sent; those that now pass are marked resolved in the file.

The reject file names each row by its place in the source (`members.csv:12`, `orders[id=42]`),
never by its values, so a replay reads the source again and keeps the rows whose place is listed
(memory grows with the rejects, not with the source). The rows go through the same decision,
bisection and retries as a run. A row that is refused again keeps its entry with the new reason;
one the source no longer has is counted `missing` and keeps its entry.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.clock import Clock, SystemClock
from engine.contracts import Source
from engine.delivery.sender import Sender
from engine.outcomes.reject_entries import read_entries, rewrite
from engine.outcomes.reject_file import RejectFile, new_run_id
from engine.outcomes.reject_policy import RejectPolicy
from engine.plugins import Registry, load_registry
from engine.rows import Position, Row
from engine.run.pipeline import SyncRun
from engine.run.runner import RunOptions, build_plan, http_session, open_destinations, selected
from engine.specfile import Spec


@dataclass
class ReplayResult:
    sync: str
    listed: int = 0  # unresolved entries in the reject file
    delivered: int = 0
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
        for sync in syncs:
            entries = read_entries(sync.reject_file)
            wanted = {str(e.get("position")) for e in entries if not e.get("resolved")}
            result = ReplayResult(sync.name, listed=len(wanted))
            results.append(result)
            if not wanted:
                continue
            plan = build_plan(
                spec,
                sync,
                registry,
                destinations[sync.destination_type],
                sender,
                RunOptions(),
                new_run_id(),
            )
            source = OnlyListed(plan.source, wanted)
            again = sync.reject_file.with_name(sync.reject_file.name + ".replay")
            plan = dataclasses.replace(
                plan,
                source=source,
                rejects=RejectFile(again, sync.name, plan.endpoint.personal_fields, False),
                reject_policy=RejectPolicy(sync.name, again, max_ratio=1.0, early_ratio=1.0),
            )
            stats = await SyncRun(plan, sender).run()
            refused = {str(e["position"]): e for e in read_entries(again)}
            again.unlink(missing_ok=True)
            result.delivered, result.refused = stats.delivered, len(refused)
            result.missing = len(wanted - source.seen)
            rewrite(sync.reject_file, entries, source.seen - set(refused), refused)
    return results
