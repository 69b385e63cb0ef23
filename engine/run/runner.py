"""A whole run: open the destinations and the HTTP session once, run the selected syncs together.

Syncs start at the same time (engine/run/sync_order.py) except where `depends_on` orders them; one
sync's failure does not stop the others (`fail_fast` runs them one at a time and stops at the
first failure), and a sync whose dependency did not finish cleanly is skipped with the reason.
Each sync keeps its own stats, reject file, state and log binding. Before any sync starts, every
column the syncs name is looked up in their sources: a missing one is a spec error, nothing sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from engine import logging as omnilog
from engine.clock import Clock, SystemClock
from engine.contracts import (
    Destination,
    endpoint_route,
    estimated_total,
    event_scope,
    keeps_records,
)
from engine.delivery.sender import Sender
from engine.errors import ExitCode, OmnisyncError, SpecError
from engine.outcomes import progress
from engine.outcomes.reject_file import new_run_id
from engine.outcomes.report import SyncStats
from engine.plugins import Registry, load_registry
from engine.run import expect, preflight
from engine.run.assemble import (
    open_destinations,
    open_source,
    session_on_demand,
    shared_budgets,
)
from engine.run.columns import column_errors, config_errors
from engine.run.exit_code import judge
from engine.run.history import RunHistory
from engine.run.in_source import InSource, SourceLedger
from engine.run.pipeline import SyncPlan, SyncRun
from engine.run.resume import RunState, run_state
from engine.run.stop import StopRequest
from engine.run.sync_order import Finished, run_syncs
from engine.run.sync_plan import Watch, build_plan, resumed, screened_in_source
from engine.run.sync_state import SyncState
from engine.specfile import Spec, SyncSpec
from engine.state.base import StateError

log = omnilog.get_logger("omnisync.run")


@dataclass
class RunOptions:
    select: Sequence[str] = ()
    dry_run: bool = False
    reveal_pii: bool = False
    stop: StopRequest = field(default_factory=StopRequest)
    progress: bool = False  # draw a progress line on stderr
    heartbeat: float | None = None  # off a terminal: a JSON heartbeat event every N seconds
    full_refresh: bool = False  # ignore and clear the stored positions of the selected syncs
    fail_fast: bool = False  # one sync at a time, in the spec's order; stop at the first failure
    # a dry run's observer of each sync's change screen (engine/run/change_plan.py)
    watch: Watch | None = None
    resend_unknown: bool = False  # send again the triggers an earlier run left of unknown outcome
    # with `watch`: also count the records that would leave the source (read from the ledger)
    predict_removed: bool = False


@dataclass
class RunResult:
    syncs: list[SyncStats] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    error: str | None = None
    breaches: list[str] = field(default_factory=list)  # `expect:` bounds broken, by sync


def selected(spec: Spec, names: Sequence[str]) -> list[SyncSpec]:
    known = {s.name for s in spec.syncs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise OmnisyncError(
            f"no sync named {', '.join(map(repr, unknown))}; the spec has {', '.join(sorted(known))}"
        )
    return [s for s in spec.syncs if (s.name in names if names else s.enabled)]


async def run_spec(
    spec: Spec,
    options: RunOptions,
    registry: Registry | None = None,
    clock: Clock | None = None,
) -> RunResult:
    """Check the columns, open what the syncs share, run them together, then sum up the run."""
    registry = registry or load_registry()
    syncs = selected(spec, options.select)
    await _check_columns(spec, syncs, registry)  # a spec error: nothing opened, nothing sent
    async with contextlib.AsyncExitStack() as stack:
        run = await _open_run(stack, spec, syncs, registry, options, clock or SystemClock())
        run.history.begin(syncs)
        display = asyncio.create_task(progress.show(run.board)) if options.progress else None
        try:
            finished = await run_syncs(syncs, lambda sync: _turn(run, sync), _not_run)
        finally:
            await _cancelled(display)
        code = judge(syncs, finished, run.failures, options.stop, None)[1]
        recorded = _recorded(run, finished, code)
    result = RunResult(finished)
    closed_with = run.state.closed_with or recorded
    result.error, result.exit_code = judge(syncs, finished, run.failures, options.stop, closed_with)
    result.breaches = expect.run_breaches(syncs, finished)
    if result.exit_code is ExitCode.OK and any(s.unknown for s in finished):
        # a person decides: resend them (--resend-unknown) or leave them (docs/triggers.md)
        result.exit_code = ExitCode.OUTCOME_UNKNOWN
    if result.breaches and result.exit_code is ExitCode.OK:  # a failure says more than a breach
        result.exit_code = ExitCode.EXPECTATION_BREACHED
    return result


def _recorded(run: RunContext, finished: list[SyncStats], code: ExitCode) -> StateError | None:
    """The run's end in its history; the store's failure to take it fails the run."""
    try:
        run.history.end(finished, int(code))
    except StateError as exc:
        log.error("history_not_saved", error=str(exc))
        return exc
    return None


async def _check_columns(spec: Spec, syncs: Sequence[SyncSpec], registry: Registry) -> None:
    """Every column the syncs name exists in their sources, or SpecError before anything is sent.

    A source that cannot be opened here is left to its sync, which then fails on its own."""
    lines: list[str] = []
    for sync in syncs:
        if found := config_errors(spec, sync, registry):  # a dbt model the manifest lacks
            lines += found
            continue
        try:
            source = open_source(spec, sync, registry)
            lines += await asyncio.to_thread(column_errors, spec, sync, source)
        except OmnisyncError:
            continue
    if lines:
        raise SpecError(lines)


@dataclass(frozen=True)
class RunContext:
    """What the syncs of one run share: opened once by `run_spec`, read by every sync's task."""

    spec: Spec
    registry: Registry
    options: RunOptions
    destinations: Mapping[str, Destination]
    sender: Sender
    state: RunState
    board: progress.Board
    run_id: str  # on every reject line of this run
    one_at_a_time: asyncio.Lock | None  # --fail-fast: syncs take turns (FIFO: the spec's order)
    history: RunHistory  # the run's row in the store's history, each sync's record ledger
    failures: dict[str, OmnisyncError] = field(default_factory=dict)  # filled as syncs fail


async def _open_run(
    stack: contextlib.AsyncExitStack,
    spec: Spec,
    syncs: Sequence[SyncSpec],
    registry: Registry,
    options: RunOptions,
    clock: Clock,
) -> RunContext:
    """Destinations, HTTP session and state store, opened once for every sync, closed by `stack`."""
    destinations = await open_destinations(stack, spec, syncs, registry)
    session = session_on_demand(stack, syncs, clock)
    state = stack.enter_context(run_state(spec, registry, options.dry_run, options.full_refresh))
    state.resend_unknown = options.resend_unknown
    sender = Sender(session, clock, budgets=shared_budgets(stack, state, options.dry_run))
    stack.push_async_callback(sender.close)  # leave the shared budgets before the store closes
    run_id = omnilog.bound().get("run_id") or new_run_id()  # the CLI's (in every log line)
    return RunContext(
        spec,
        registry,
        options,
        destinations,
        sender,
        state,
        progress.Board(),
        run_id=run_id,
        one_at_a_time=asyncio.Lock() if options.fail_fast else None,
        history=RunHistory.open(
            state.store,
            spec,
            state.identity,
            run_id,
            options.dry_run,
            options.reveal_pii,
            predict=options.predict_removed,
        ),
    )


async def _turn(run: RunContext, sync: SyncSpec) -> Finished[SyncStats]:
    """One sync's turn: run it unless the run is stopping; its failure is kept for the result."""
    async with run.one_at_a_time or contextlib.nullcontext():
        why = _why_not_run(run)
        if why is not None:
            return Finished(_not_run(sync, why), False)
        try:
            stats, clean = await _run_one(run, sync)
        except SyncFailed as failed:
            run.failures[sync.name] = failed.error
            return Finished(failed.stats, False)
        return Finished(stats, clean)  # rejects over the ratio still let dependants run


def _why_not_run(run: RunContext) -> str | None:
    """A stop came first, or --fail-fast saw a failure: the sync is reported, not started."""
    if run.options.stop.requested:
        return f"not run: {run.options.stop.reason} came first"
    if run.one_at_a_time is not None and run.failures:
        return "not run: an earlier sync failed and --fail-fast stops at the first failure"
    return None


def _not_run(sync: SyncSpec, why: str) -> SyncStats:
    """A sync that did not start: nothing read, and the reason in the report."""
    stats = SyncStats(sync.name, stopped=why)
    stats.finished = stats.started
    log.warning("sync_not_run", sync=sync.name, reason=why)
    return stats


class SyncFailed(Exception):
    """One sync failed; the run goes on with the others."""

    def __init__(self, stats: SyncStats, error: OmnisyncError) -> None:
        super().__init__(str(error))
        self.stats = stats
        self.error = error


async def _run_one(run: RunContext, sync: SyncSpec) -> tuple[SyncStats, bool]:
    """One sync from plan to report, in its own task: (stats, finished cleanly)."""
    omnilog.bind(sync=sync.name)  # this task's context only
    destination = run.destinations[sync.destination_type]
    stats = SyncStats(sync.name)
    tracked: SyncState | None = None
    plan: SyncPlan | None = None
    screened: InSource | None = None
    clean = False
    failure: OmnisyncError | None = None
    try:
        options = run.options
        plan = build_plan(
            run.spec, sync, run.registry, destination, run.sender, options, run.run_id
        )
        events = event_scope(plan.endpoint)
        tracked = run.state.begin(
            sync,
            plan.source,
            plan.endpoint.key,
            remembered=keeps_records(destination),
            events=events,
        )
        write = not options.dry_run
        screened = await screened_in_source(run.spec, sync, plan, tracked, run.state.store, write)
        if screened is not None:  # the source compares: only new and changed rows leave it
            plan = dataclasses.replace(plan, source=screened.source)
        plan = resumed(plan, tracked, run.state.fence, run.options.watch)
        # removals can be told (not for events: a trigger list is not a table of records); in the
        # source, removals are told by the source (InSource.finish), not the ledger
        full = tracked.resume is None and sync.cursor is None and events is None
        ledger = run.history.sync(sync, plan.endpoint, plan.endpoint.key, full and screened is None)
        if ledger is not None and screened is not None:
            ledger = SourceLedger.of(ledger)
        plan = dataclasses.replace(plan, ledger=ledger)
        delivery = SyncRun(plan, run.sender)
        stats = delivery.stats
        stats.events = events is not None
        total = await _announce(run, sync, delivery, tracked)
        stats = await _deliver(run, delivery, total)
        clean = not (options.stop.requested or stats.unsent or stats.failed)
        if screened is not None:
            await asyncio.to_thread(screened.finish, stats, clean, full)
    except OmnisyncError as exc:
        failure = exc
    finally:
        ledger = plan.ledger if plan is not None else None
        # a dry run sends nothing (its records stay unsent): it read the source through unless
        # it stopped or failed; the plan's ledger then tells what would leave the source
        read_through = clean or (
            failure is None and run.options.dry_run and not run.options.stop.requested
        )
        ended = _finish(
            tracked,
            plan,
            clean,
            stats,
            lambda: run.history.end_sync(sync, ledger, stats, read_through),
        )
        if screened is not None:  # after the last digests were written back
            screened.close()
    failure = failure or ended
    if failure is not None:  # the counts stand, also when the state store failed at the end
        stats.stopped = stats.stopped or str(failure)
        log.error("sync_failed", error=str(failure), **stats.as_dict())
        raise SyncFailed(stats, failure) from None
    log.info("sync_finished", **stats.as_dict())
    return stats, clean


async def _announce(
    run: RunContext, sync: SyncSpec, delivery: SyncRun, tracked: SyncState
) -> int | None:
    """Where the sync goes and what deserves a look, said before it starts; its estimated total."""
    plan, stats = delivery.plan, delivery.stats
    stats.endpoint = plan.endpoint.name
    stats.route = endpoint_route(plan.endpoint)
    stats.rate_limit = plan.limiter.rate
    # a database may be asked: not on the loop
    total = await asyncio.to_thread(estimated_total, plan.source)
    for warning in preflight.warnings_for(run.spec, sync, plan.endpoint.rate_limit, total):
        log.warning("check_this", message=warning)
        stats.warnings.append(warning)
    tracked.report(stats)
    log.info("sync_started", source=sync.source_type, endpoint=plan.endpoint.name)
    return total


async def _deliver(run: RunContext, delivery: SyncRun, total: int | None) -> SyncStats:
    """Run the sync, on the progress line (or with a heartbeat off a terminal) while it runs."""
    options, stats = run.options, delivery.stats
    run.board.add(stats, total, delivery.plan.limiter.rate)
    beat = None
    if options.heartbeat and not options.progress:
        beat = asyncio.create_task(progress.heartbeat(stats, total, options.heartbeat))
    try:
        return await delivery.run()
    finally:
        run.board.remove(stats)
        await _cancelled(beat)


def _finish(
    tracked: SyncState | None,
    plan: SyncPlan | None,
    clean: bool,
    stats: SyncStats,
    ledger_end: Callable[[], None] = lambda: None,
) -> StateError | None:
    """The sync's ledger and last save, then its reject file closed whatever the save did; the
    store's failure, if it failed (a sync that ran cleanly has then not finished cleanly)."""
    try:
        ledger_end()
        if tracked is not None:
            tracked.end(clean)
            stats.stored_position = tracked.stored_after(clean)
    except StateError as exc:
        return exc
    finally:
        if plan is not None:
            plan.rejects.close()  # after the last save: rows past the mark are written after it
    return None


async def _cancelled(task: asyncio.Task[None] | None) -> None:
    """Stop a display (progress line, heartbeat) that runs beside a sync, and wait until it has."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
