"""A whole run: open the destinations and the HTTP session once, run the selected syncs in order."""

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
from engine.contracts import Destination, Source, SourceContext, estimated_total
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import Sender
from engine.errors import ExitCode, OmnisyncError
from engine.pipeline import DEFAULT_CONCURRENCY, RejectBudget, SyncPlan, SyncRun
from engine.plugins import Registry, load_registry
from engine.report import RejectFile, SyncStats
from engine.specfile import Spec, SyncSpec
from engine.state.session import run_state
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
    async with contextlib.AsyncExitStack() as stack:
        destinations = await open_destinations(stack, spec, syncs, registry)
        session = await stack.enter_async_context(_session(syncs))
        sender = Sender(session, clock)
        state = stack.enter_context(
            run_state(spec, registry, options.dry_run, options.full_refresh)
        )
        for sync in syncs:
            plan = _plan(spec, sync, registry, destinations[sync.destination_type], sender, options)
            structlog.contextvars.bind_contextvars(sync=sync.name)
            tracked = state.begin(sync, plan.source)
            plan = dataclasses.replace(
                plan, resume=tracked.resume, on_checkpoint=tracked.on_checkpoint
            )
            run = SyncRun(plan, sender)
            tracked.report(run.stats)
            log.info("sync_started", source=sync.source_type, endpoint=plan.endpoint.name)
            clean = False
            try:
                stats = await _run_sync(run, options.progress)
                clean = not (options.stop.requested or stats.unsent or stats.failed)
            except OmnisyncError as exc:
                result.syncs.append(run.stats)
                result.exit_code = exc.exit_code
                result.error = str(exc)
                log.error("sync_failed", error=str(exc), **run.stats.as_dict())
                break
            finally:
                tracked.end(clean)
                structlog.contextvars.unbind_contextvars("sync")
            result.syncs.append(stats)
            log.info("sync_finished", **stats.as_dict())
            if options.stop.requested:
                result.exit_code = options.stop.exit_code
                result.error = f"{options.stop.reason}: stopped after the requests in flight"
                break
            if stats.read and stats.rejected / stats.read > sync.max_reject_ratio:
                result.exit_code = max(result.exit_code, ExitCode.REJECTS_EXCEEDED)
    return result


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
            sync.reject_file, sync.name, endpoint.personal_fields, options.reveal_pii
        ),
        dry_run=options.dry_run,
        budget=RejectBudget(sync.max_reject_ratio, sync.min_rows_for_reject_ratio),
        stop=options.stop,
    )
