"""A whole run: open the destinations and the HTTP session once, run the selected syncs in order.

Every column the syncs name is checked against their sources first (a spec error sends nothing);
then each sync runs even when an earlier one failed, unless `fail_fast`; the result lists every
selected sync, with why it stopped or did not run.
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
from engine.columns import column_errors
from engine.contracts import Destination, Source, SourceContext, estimated_total
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import Sender
from engine.errors import ExitCode, OmnisyncError, SpecError
from engine.pipeline import DEFAULT_CONCURRENCY, SyncPlan, SyncRun
from engine.plugins import Registry, load_registry
from engine.reject_policy import RejectPolicy
from engine.rejects import new_run_id
from engine.report import RejectFile, SyncStats
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
    fail_fast: bool = False  # stop at the first failing sync (the others are reported not run)


@dataclass
class RunResult:
    syncs: list[SyncStats] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    errors: list[str] = field(default_factory=list)  # one line each, naming its sync

    @property
    def error(self) -> str | None:
        return "\n".join(self.errors) if self.errors else None

    @error.setter
    def error(self, value: str | None) -> None:
        self.errors = [value] if value else []


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
    """Every selected sync runs, even after one failed (unless `fail_fast`); each is reported."""
    registry = registry or load_registry()
    clock = clock or SystemClock()
    syncs = selected(spec, options.select)
    result = RunResult()
    run_id = new_run_id()
    async with contextlib.AsyncExitStack() as stack:
        destinations = await open_destinations(stack, spec, syncs, registry)
        session = await stack.enter_async_context(_session(syncs))
        sender = Sender(session, clock)
        state = stack.enter_context(
            run_state(spec, registry, options.dry_run, options.full_refresh)
        )
        plans: dict[str, SyncPlan | OmnisyncError] = {}
        for sync in syncs:
            try:
                destination = destinations[sync.destination_type]
                plans[sync.name] = _plan(spec, sync, registry, destination, sender, options, run_id)
            except OmnisyncError as exc:  # a source that cannot be opened fails its sync only
                plans[sync.name] = exc
        await _check_columns(spec, syncs, plans)
        for sync in syncs:
            planned = plans[sync.name]
            why_not = _why_not_run(options, result)
            if why_not is not None:
                result.syncs.append(_not_run(sync.name, why_not))
            elif isinstance(planned, OmnisyncError):
                _failed(result, SyncStats(sync.name), planned)
            else:
                await _run_one(result, sync, planned, state, sender, options)
    return result


async def _check_columns(
    spec: Spec, syncs: Sequence[SyncSpec], plans: dict[str, SyncPlan | OmnisyncError]
) -> None:
    """Every column the syncs name exists in their sources, or SpecError before anything is sent."""
    lines: list[str] = []
    for sync in syncs:
        plan = plans[sync.name]
        if isinstance(plan, SyncPlan):
            try:
                lines += await asyncio.to_thread(column_errors, spec, sync, plan.source)
            except OmnisyncError as exc:  # cannot even read the header: that sync fails
                plans[sync.name] = exc
    if lines:
        raise SpecError(lines)


async def _run_one(
    result: RunResult,
    sync: SyncSpec,
    plan: SyncPlan,
    state: RunState,
    sender: Sender,
    options: RunOptions,
) -> None:
    structlog.contextvars.bind_contextvars(sync=sync.name)
    run = SyncRun(plan, sender)
    tracked = None
    clean = False
    try:
        tracked = state.begin(sync, plan.source)
        tracked.before_save = plan.rejects.commit  # a saved mark never counts an unwritten reject
        if tracked.resumed_saved_at is not None:  # rows the interrupted run already rejected
            plan.rejects.resuming(tracked.resumed_saved_at)
        plan = dataclasses.replace(plan, resume=tracked.resume, on_checkpoint=tracked.on_checkpoint)
        run = SyncRun(plan, sender)
        tracked.report(run.stats)
        log.info("sync_started", source=sync.source_type, endpoint=plan.endpoint.name)
        stats = await _run_sync(run, options.progress)
        clean = not (options.stop.requested or stats.unsent or stats.failed)
    except OmnisyncError as exc:
        _failed(result, run.stats, exc)
        return
    finally:
        if tracked is not None:
            tracked.end(clean)
        plan.rejects.close()  # after the last save: rows past the mark are written after it
        structlog.contextvars.unbind_contextvars("sync")
    result.syncs.append(stats)
    log.info("sync_finished", **stats.as_dict())
    if options.stop.requested:
        result.exit_code = options.stop.exit_code
        result.errors.append(f"{options.stop.reason}: stopped after the requests in flight")
        return
    exceeded = (
        plan.reject_policy.exceeded(stats.rejected, stats.read) if plan.reject_policy else None
    )
    if exceeded is not None:
        result.exit_code = _worse(result.exit_code, ExitCode.REJECTS_EXCEEDED)
        result.errors.append(exceeded)


def _failed(result: RunResult, stats: SyncStats, exc: OmnisyncError) -> None:
    stats.stopped = stats.stopped or str(exc)
    result.syncs.append(stats)
    result.exit_code = _worse(result.exit_code, exc.exit_code)
    message = str(exc) if str(exc).startswith(f"{stats.sync}:") else f"{stats.sync}: {exc}"
    result.errors.append(message)
    log.error("sync_failed", error=message, **stats.as_dict())


def _why_not_run(options: RunOptions, result: RunResult) -> str | None:
    if options.stop.requested:
        return f"not run: {options.stop.reason} came first"
    if options.fail_fast and result.exit_code not in (ExitCode.OK, ExitCode.REJECTS_EXCEEDED):
        return "not run: an earlier sync failed and --fail-fast stops at the first failure"
    return None


def _not_run(name: str, why: str) -> SyncStats:
    stats = SyncStats(name, stopped=why)
    stats.finished = stats.started
    return stats


_SEVERITY = [ExitCode.OK, ExitCode.REJECTS_EXCEEDED, ExitCode.SPEC_INVALID]


def _worse(current: ExitCode, new: ExitCode) -> ExitCode:
    """The exit code of a run: a failure outranks rejects, a signal or a bug outranks both."""

    def rank(code: ExitCode) -> int:
        return _SEVERITY.index(code) if code in _SEVERITY else len(_SEVERITY) + int(code)

    return new if rank(new) > rank(current) else current


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
    context = SourceContext(spec.directory, sync.name, sync.cursor)
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


async def _run_sync(run: SyncRun, show_progress: bool) -> SyncStats:
    if not show_progress:
        return await run.run()
    display = asyncio.create_task(progress.show(run.stats, estimated_total(run.plan.source)))
    try:
        return await run.run()
    finally:
        display.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await display


def _session(syncs: list[SyncSpec]) -> aiohttp.ClientSession:
    timeout = max((s.delivery.timeout for s in syncs), default=60.0)
    # One pooled, keep-alive session for the whole run; TLS verified with the system's CAs.
    connector = aiohttp.TCPConnector(limit=64, ssl=ssl.create_default_context())
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout)),
        skip_auto_headers=("User-Agent",),
        headers={"User-Agent": "omnisync"},
    )


def _plan(
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
        limiter=sender.limiter(endpoint, sync.delivery.rate_limit),
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
        reject_policy=RejectPolicy(
            sync.name,
            sync.reject_file,
            sync.max_reject_ratio,
            sync.early_stop.ratio,
            sync.early_stop.after,
        ),
        stop=options.stop,
    )
