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
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

from engine import logging as omnilog
from engine.clock import Clock, SystemClock
from engine.contracts import Destination, Source, estimated_total, keeps_records
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import Sender, departures
from engine.errors import ExitCode, OmnisyncError, SpecError
from engine.outcomes import progress
from engine.outcomes.reject_file import RejectFile, new_run_id
from engine.outcomes.reject_policy import RejectPolicy
from engine.outcomes.report import SyncStats
from engine.plugins import Registry, load_registry
from engine.run import preflight
from engine.run.columns import column_errors, source_of
from engine.run.pipeline import DEFAULT_CONCURRENCY, SyncPlan, SyncRun
from engine.run.resume import RunState, run_state
from engine.run.stop import StopRequest
from engine.run.sync_order import Finished, run_syncs
from engine.specfile import Spec, SyncSpec
from engine.transforms.base import TransformContext
from engine.transforms.mapping import CompiledMapping, compile_mapping

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
    # on every reject line of this run: the CLI's run id (in every log line) when it bound one
    run_id = omnilog.bound().get("run_id") or new_run_id()
    await _check_columns(spec, syncs, registry)
    one_at_a_time = asyncio.Lock() if options.fail_fast else None
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
            async with one_at_a_time or contextlib.nullcontext():  # FIFO: the spec's order
                if options.stop.requested:
                    why = f"not run: {options.stop.reason} came first"
                    return Finished(_not_run(sync, why), False)
                if one_at_a_time is not None and failures:
                    why = (
                        "not run: an earlier sync failed and --fail-fast stops at the first failure"
                    )
                    return Finished(_not_run(sync, why), False)
                destination = destinations[sync.destination_type]
                try:
                    stats, clean = await _run_one(
                        spec, sync, registry, destination, sender, state, options, board, run_id
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
    exceeded = [
        message
        for sync, stats in zip(syncs, result.syncs, strict=True)
        if (message := _policy(sync).exceeded(stats.rejected, stats.read)) is not None
    ]
    messages = [_named(sync.name, failures[sync.name]) for sync in syncs if sync.name in failures]
    result.error = "\n".join([*messages, *exceeded]) or None
    if failed:  # a failure outranks rejects; the first in the spec's order gives the code
        result.exit_code = failed[0].exit_code
    elif exceeded:
        result.exit_code = ExitCode.REJECTS_EXCEEDED
    if options.stop.requested:
        result.exit_code = options.stop.exit_code
        result.error = f"{options.stop.reason}: stopped after the requests in flight"
    return result


async def _check_columns(spec: Spec, syncs: Sequence[SyncSpec], registry: Registry) -> None:
    """Every column the syncs name exists in their sources, or SpecError before anything is sent.

    A source that cannot be opened here is left to its sync, which then fails on its own."""
    lines: list[str] = []
    for sync in syncs:
        try:
            source = open_source(spec, sync, registry)
            lines += await asyncio.to_thread(column_errors, spec, sync, source)
        except OmnisyncError:
            continue
    if lines:
        raise SpecError(lines)


def _policy(sync: SyncSpec) -> RejectPolicy:
    return RejectPolicy(
        sync.name,
        sync.reject_file,
        sync.max_reject_ratio,
        sync.early_stop.ratio,
        sync.early_stop.after,
    )


def _named(name: str, error: OmnisyncError) -> str:
    text = str(error)
    return text if text.startswith(f"{name}:") else f"{name}: {text}"


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
    run_id: str,
) -> tuple[SyncStats, bool]:
    """One sync from plan to report, in its own task: (stats, finished cleanly)."""
    omnilog.bind(sync=sync.name)  # this task's context only
    stats = SyncStats(sync.name)
    tracked = None
    plan = None
    clean = False
    try:
        plan = build_plan(spec, sync, registry, destination, sender, options, run_id)
        tracked = state.begin(
            sync, plan.source, plan.endpoint.key, remembered=keeps_records(destination)
        )
        tracked.before_save = plan.rejects.commit  # a saved mark never counts an unwritten reject
        if tracked.resumed_saved_at is not None:  # rows the interrupted run already rejected
            plan.rejects.resuming(tracked.resumed_saved_at)
        plan = dataclasses.replace(
            plan,
            resume=tracked.resume,
            on_checkpoint=tracked.on_checkpoint,
            changes=tracked.changes,
            fence=state.fence,
        )
        run = SyncRun(plan, sender)
        stats = run.stats
        stats.endpoint = plan.endpoint.name
        stats.route = getattr(plan.endpoint, "route_path", None)  # optional, for reports
        # for the warnings and the progress display; a database may be asked: not on the loop
        total = await asyncio.to_thread(estimated_total, plan.source)
        for warning in preflight.warnings_for(spec, sync, plan.endpoint.rate_limit, total):
            log.warning("check_this", message=warning)
            stats.warnings.append(warning)
        tracked.report(stats)
        log.info("sync_started", source=sync.source_type, endpoint=plan.endpoint.name)
        board.add(stats, total, getattr(plan.limiter, "rate", None))
        beat = None
        if options.heartbeat and not options.progress:
            beat = asyncio.create_task(progress.heartbeat(stats, total, options.heartbeat))
        try:
            stats = await run.run()
        finally:
            board.remove(stats)
            if beat is not None:
                beat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beat
        clean = not (options.stop.requested or stats.unsent or stats.failed)
    except OmnisyncError as exc:
        stats.stopped = stats.stopped or str(exc)
        log.error("sync_failed", error=str(exc), **stats.as_dict())
        raise SyncFailed(stats, exc) from None
    finally:
        if tracked is not None:
            tracked.end(clean)
            stats.stored_position = tracked.stored_after(clean)
        if plan is not None:
            plan.rejects.close()  # after the last save: rows past the mark are written after it
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
    return source_of(spec, sync, registry)


def compile_sync_mapping(
    sync: SyncSpec, registry: Registry, destination: Destination
) -> CompiledMapping:
    return compile_mapping(
        sync.mapping,
        registry.transforms,
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
    run_id: str,
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
            sync.reject_file,
            sync.name,
            endpoint.personal_fields,
            options.reveal_pii,
            run_id=run_id,
            dry_run=options.dry_run,
        ),
        dry_run=options.dry_run,
        reject_policy=_policy(sync),
        stop=options.stop,
    )
