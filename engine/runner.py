"""A whole run: open the destinations and the HTTP session once, run the selected syncs together.

Syncs start at the same time (engine/schedule.py) except where `depends_on` orders them; one
sync's failure does not stop the others, and a sync whose dependency did not finish cleanly is
skipped with the reason. Each sync keeps its own stats, reject file, state and log binding.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
import structlog

from engine import progress
from engine.clock import Clock, SystemClock
from engine.contracts import Destination, Source, SourceContext, estimated_total, keeps_records
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import Sender, departures
from engine.errors import ExitCode, OmnisyncError
from engine.pipeline import DEFAULT_CONCURRENCY, RejectBudget, SyncPlan, SyncRun
from engine.plugins import Registry, load_registry
from engine.report import RejectFile, SyncStats
from engine.schedule import Finished, run_syncs
from engine.specfile import Spec, SyncSpec
from engine.state.session import RunState, run_state
from engine.stop import StopRequest
from engine.transforms.base import TransformContext
from engine.transforms.mapping import CompiledMapping, compile_mapping

log = structlog.get_logger("omnisync.run")


@dataclass
class RunOptions:
    select: Sequence[str] = ()
    dry_run: bool = False
    reveal_pii: bool = False
    stop: StopRequest = field(default_factory=StopRequest)
    progress: bool = False  # draw a progress line on stderr
    full_refresh: bool = False  # ignore and clear the stored positions of the selected syncs


@dataclass
class RunResult:
    syncs: list[SyncStats] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    error: str | None = None


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
    registry = registry or load_registry()
    clock = clock or SystemClock()
    syncs = selected(spec, options.select)
    result = RunResult()
    failures: dict[str, OmnisyncError] = {}
    async with contextlib.AsyncExitStack() as stack:
        destinations = await open_destinations(stack, spec, syncs, registry)
        session = await stack.enter_async_context(http_session(syncs, clock))
        sender = Sender(session, clock)
        state = stack.enter_context(
            run_state(spec, registry, options.dry_run, options.full_refresh)
        )
        board = progress.Board()
        display = asyncio.create_task(progress.show(board)) if options.progress else None

        async def run(sync: SyncSpec) -> Finished[SyncStats]:
            if options.stop.requested:
                return Finished(_not_run(sync, f"not run: {options.stop.reason} came first"), False)
            destination = destinations[sync.destination_type]
            try:
                stats, clean = await _run_one(
                    spec, sync, registry, destination, sender, state, options, board
                )
            except SyncFailed as failed:
                failures[sync.name] = failed.error
                return Finished(failed.stats, False)
            return Finished(stats, clean)  # rejects over the ratio still let dependants run

        try:
            result.syncs = await run_syncs(syncs, run, _not_run)
        finally:
            if display is not None:
                display.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await display
    failed = [failures[sync.name] for sync in syncs if sync.name in failures]
    if failed:  # a failure outranks rejects; the first in the spec's order gives the code
        result.exit_code = failed[0].exit_code
        result.error = "\n".join(str(error) for error in failed)
    elif any(
        stats.read and stats.rejected / stats.read > sync.max_reject_ratio
        for sync, stats in zip(syncs, result.syncs, strict=True)
    ):
        result.exit_code = ExitCode.REJECTS_EXCEEDED
    if options.stop.requested:
        result.exit_code = options.stop.exit_code
        result.error = f"{options.stop.reason}: stopped after the requests in flight"
    return result


class SyncFailed(Exception):
    """One sync failed; the run goes on with the others."""

    def __init__(self, stats: SyncStats, error: OmnisyncError) -> None:
        super().__init__(str(error))
        self.stats = stats
        self.error = error


async def _run_one(
    spec: Spec,
    sync: SyncSpec,
    registry: Registry,
    destination: Destination,
    sender: Sender,
    state: RunState,
    options: RunOptions,
    board: progress.Board,
) -> tuple[SyncStats, bool]:
    """One sync from plan to report, in its own task: (stats, finished cleanly)."""
    structlog.contextvars.bind_contextvars(sync=sync.name)  # this task's context only
    stats = SyncStats(sync.name)
    tracked = None
    clean = False
    try:
        plan = build_plan(spec, sync, registry, destination, sender, options)
        tracked = state.begin(
            sync, plan.source, plan.endpoint.key, remembered=keeps_records(destination)
        )
        plan = dataclasses.replace(
            plan,
            resume=tracked.resume,
            on_checkpoint=tracked.on_checkpoint,
            changes=tracked.changes,
        )
        run = SyncRun(plan, sender)
        stats = run.stats
        tracked.report(stats)
        log.info("sync_started", source=sync.source_type, endpoint=plan.endpoint.name)
        board.add(stats, estimated_total(plan.source) if options.progress else None)
        try:
            stats = await run.run()
        finally:
            board.remove(stats)
        clean = not (options.stop.requested or stats.unsent or stats.failed)
    except OmnisyncError as exc:
        stats.stopped = stats.stopped or str(exc)
        log.error("sync_failed", error=str(exc), **stats.as_dict())
        raise SyncFailed(stats, exc) from None
    finally:
        if tracked is not None:
            tracked.end(clean)
    log.info("sync_finished", **stats.as_dict())
    return stats, clean


def _not_run(sync: SyncSpec, why: str) -> SyncStats:
    """A sync that did not start: nothing read, and the reason in the report."""
    stats = SyncStats(sync.name, stopped=why)
    stats.finished = stats.started
    log.warning("sync_not_run", sync=sync.name, reason=why)
    return stats


async def open_destinations(
    stack: contextlib.AsyncExitStack, spec: Spec, syncs: Sequence[SyncSpec], registry: Registry
) -> dict[str, Destination]:
    """Each destination the syncs use, opened once (the sandbox starts here) and closed by stack."""
    destinations: dict[str, Destination] = {}
    for sync in syncs:
        if sync.destination_type not in destinations:
            destination = registry.destinations[sync.destination_type](
                spec.connections[sync.destination_type]
            )
            destinations[sync.destination_type] = await stack.enter_async_context(destination)
    return destinations


def open_source(spec: Spec, sync: SyncSpec, registry: Registry) -> Source:
    context = SourceContext(spec.directory, sync.name, sync.cursor, sync.lookback)
    source: Source = registry.sources[sync.source_type](sync.source, context)
    return source


def compile_sync_mapping(
    sync: SyncSpec, registry: Registry, destination: Destination
) -> CompiledMapping:
    return compile_mapping(
        sync.mapping,
        registry,
        TransformContext(destination.default_utc_offset()),
        row_filter=sync.filter,
        dedupe_key=sync.dedupe_key,
    )


def http_session(syncs: list[SyncSpec], clock: Clock) -> aiohttp.ClientSession:
    timeout = max((s.delivery.timeout for s in syncs), default=60.0)
    # One pooled, keep-alive session for the whole run; TLS verified with the system's CAs.
    connector = aiohttp.TCPConnector(limit=64, ssl=ssl.create_default_context())
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout)),
        skip_auto_headers=("User-Agent",),
        headers={"User-Agent": "omnisync"},
        trace_configs=[departures(clock)],  # a request's window slot is when it really left
    )


def build_plan(
    spec: Spec,
    sync: SyncSpec,
    registry: Registry,
    destination: Destination,
    sender: Sender,
    options: RunOptions,
) -> SyncPlan:
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
            sync.reject_file, sync.name, endpoint.personal_fields, options.reveal_pii
        ),
        dry_run=options.dry_run,
        budget=RejectBudget(sync.max_reject_ratio, sync.min_rows_for_reject_ratio),
        stop=options.stop,
    )
