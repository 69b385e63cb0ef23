"""A sync's parts, made one way for `run`, `rejects replay`, `plan` and `test`.

The destinations and the HTTP session are opened once per run and shared by its syncs; a sync's
source, compiled mapping and reject policy are its own. What the run then does with them is
engine/run/runner.py's business.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.clock import Clock
from engine.contracts import Destination, Source
from engine.delivery.sender import SessionOnDemand, departures
from engine.lazy import lazy_module
from engine.outcomes.reject_policy import RejectPolicy
from engine.plugins import Registry
from engine.run.columns import source_of
from engine.run.resume import RunState
from engine.specfile import Spec, SyncSpec
from engine.state.budget import BudgetBoard, shared_board
from engine.transforms.base import TransformContext
from engine.transforms.mapping import CompiledMapping, compile_mapping

if TYPE_CHECKING:
    import aiohttp
else:
    aiohttp = lazy_module("aiohttp")


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


def http_session(syncs: Sequence[SyncSpec], clock: Clock) -> aiohttp.ClientSession:
    """One pooled, keep-alive session for the whole run; TLS verified with the system's CAs
    (aiohttp's default context, made once as it is imported: another one costs a read of the
    whole CA store at every start)."""
    timeout = max((s.delivery.timeout for s in syncs), default=60.0)
    connector = aiohttp.TCPConnector(limit=64, ssl=True)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout)),
        skip_auto_headers=("User-Agent",),
        headers={"User-Agent": "omnisync"},
        trace_configs=[departures(clock)],  # a request's window slot is when it really left
    )


def session_on_demand(
    stack: contextlib.AsyncExitStack, syncs: Sequence[SyncSpec], clock: Clock
) -> SessionOnDemand:
    """The run's session (http_session), opened by its first request and closed by `stack`."""
    session = SessionOnDemand(lambda: http_session(syncs, clock))
    stack.push_async_callback(session.close)
    return session


def shared_budgets(
    stack: contextlib.AsyncExitStack, state: RunState, dry_run: bool
) -> BudgetBoard | None:
    """The state store's board for rate budgets shared with other runs (docs/delivery.md), closed
    by `stack`; None for a dry run (it sends nothing) or when the spec says the account is alone."""
    if dry_run:
        return None
    board = shared_board(state.store, state.spec.state or {})
    if board is not None:
        stack.callback(board.close)
    return board


def open_source(spec: Spec, sync: SyncSpec, registry: Registry) -> Source:
    return source_of(spec, sync, registry)


def compile_sync_mapping(
    sync: SyncSpec, registry: Registry, destination: Destination
) -> CompiledMapping:
    """The sync's mapping, filter and dedupe key; naive datetimes get the destination's offset."""
    return compile_mapping(
        sync.mapping,
        registry.transforms,
        TransformContext(destination.default_utc_offset()),
        row_filter=sync.filter,
        dedupe_key=sync.dedupe_key,
    )


def reject_policy(sync: SyncSpec) -> RejectPolicy:
    """The sync's two reject thresholds: max_reject_ratio and early_stop."""
    return RejectPolicy(
        sync.name,
        sync.reject_file,
        sync.max_reject_ratio,
        sync.early_stop.ratio,
        sync.early_stop.after,
    )
