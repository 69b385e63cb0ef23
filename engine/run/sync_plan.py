"""One sync's plan: built from the spec (also for replay), handed to the source when it compares
in place (`change_detection: in_source`), then tied to the sync's state: resume position,
checkpoint saves, change screen, lease fence (runner.py then runs it).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from engine.contracts import Destination
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import Sender
from engine.outcomes.reject_file import RejectFile
from engine.plugins import Registry
from engine.rows import Record
from engine.run.assemble import compile_sync_mapping, open_source, reject_policy
from engine.run.in_source import InSource, open_in_source, screen_problem
from engine.run.pipeline import DEFAULT_CONCURRENCY, SyncPlan
from engine.run.sync_state import SyncState
from engine.specfile import Spec, SyncSpec
from engine.state.base import StateStore
from engine.state.change_detection import ChangeDetector

if TYPE_CHECKING:
    from engine.run.runner import RunOptions

# sees each change screen of a sync: `plan --changes` counts new, changed and unchanged records
Watch = Callable[[SyncPlan, ChangeDetector], Callable[[list[Record], list[Record]], None]]


async def screened_in_source(
    spec: Spec, sync: SyncSpec, plan: SyncPlan, tracked: SyncState, store: StateStore, write: bool
) -> InSource | None:
    """`change_detection: in_source`: the source's comparison in place of the client-side one;
    None (with the reason in the sync's notes) where the source cannot."""
    if sync.in_source is None or tracked.changes is None:  # off, or a forgetful destination
        return None
    why = await asyncio.to_thread(screen_problem, spec, sync, plan.source, plan.endpoint, write)
    if why is not None:
        tracked.notes.append(why)
        return None
    opened = open_in_source(spec, sync, plan.source, plan.endpoint, store, tracked.key, write)
    tracked.changes = opened.detector
    return opened


def build_plan(
    spec: Spec,
    sync: SyncSpec,
    registry: Registry,
    destination: Destination,
    sender: Sender,
    options: RunOptions,
    run_id: str,
) -> SyncPlan:
    """Everything one sync needs, built and checked before a row is read (also for replay)."""
    source = open_source(spec, sync, registry)
    endpoint = destination.endpoint(sync.destination)
    mapping = compile_sync_mapping(sync, registry, destination)
    batch_size = min(sync.delivery.batch_size or endpoint.batch_size, endpoint.batch_size)
    return SyncPlan(
        name=sync.name,
        source=source,
        mapping=mapping,
        endpoint=endpoint,
        batch_size=batch_size,
        concurrency=sync.delivery.concurrency or DEFAULT_CONCURRENCY,
        limiter=sender.limiter(endpoint, sync.delivery.rate_limit, owner=sync.name),
        policy=RetryPolicy.from_spec(sync.delivery.retry),
        rejects=RejectFile(
            sync.reject_file,
            sync.name,
            endpoint.personal_fields,
            options.reveal_pii,
            run_id=run_id,
            dry_run=options.dry_run,
        ),
        dry_run=options.dry_run,
        reject_policy=reject_policy(sync),
        stop=options.stop,
        reveal_pii=options.reveal_pii,
    )


def resumed(
    plan: SyncPlan,
    tracked: SyncState,
    fence: Callable[[], Awaitable[None]] | None,
    watch: Watch | None = None,
) -> SyncPlan:
    """The plan resumed where the state says, its marks saved, its unchanged records skipped
    (and each screen of them shown to `watch`, when given), each request fenced by the lease."""
    tracked.before_save = plan.rejects.commit  # a saved mark never counts an unwritten reject
    if tracked.resumed_saved_at is not None:  # rows the interrupted run already rejected
        plan.rejects.resuming(tracked.resumed_saved_at)
    return dataclasses.replace(
        plan,
        resume=tracked.resume,
        on_checkpoint=tracked.on_checkpoint,
        changes=tracked.changes,
        on_screen=watch(plan, tracked.changes) if watch and tracked.changes else None,
        fence=fence,
        triggers=tracked.triggers,
    )
