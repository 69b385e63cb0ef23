"""A run's use of the state store: the store opened and its lease taken, each sync's change
detector or trigger gate, and a SyncState per sync (sync_state.py: where it resumes, its saves).

Keys are qualified by the spec's state identity (engine/state/identity.py); state a former omnisync
stored under the spec's file name is moved under the new key the first time a run needs it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from engine import logging as omnilog
from engine.contracts import Source, account_of
from engine.errors import OmnisyncError
from engine.plugins import Registry
from engine.run.sync_state import SyncState
from engine.specfile import Spec, SyncSpec
from engine.state.base import (
    Fenced,
    Lease,
    StateContext,
    StateError,
    StateStore,
    lock_timeout,
)
from engine.state.change_detection import ChangeDetector, namespace
from engine.state.fingerprint import destination_fingerprint, fingerprint
from engine.state.identity import StateIdentity, state_identity
from engine.state.moving import holds_state, move_former
from engine.state.triggers import TriggerGate, scope_of, trigger_store

log = omnilog.get_logger("omnisync.state")

DEFAULT_BACKEND = "sqlite"


def open_store(spec: Spec, registry: Registry) -> StateStore:
    block: Mapping[str, Any] = spec.state or {}
    backend = str(block.get("backend", DEFAULT_BACKEND))
    factory = registry.state.get(backend)
    if factory is None:
        raise OmnisyncError(
            f"no state backend named {backend!r}; installed: {sorted(registry.state)}"
        )
    config = {k: v for k, v in block.items() if k != "backend"}
    store: StateStore = factory(config, StateContext(spec.directory))
    return store


def spec_identity(spec: Spec, registry: Registry) -> StateIdentity:
    """Whose state the spec's is: its `state.scope`, or its place plus the accounts it delivers to
    (every sync's destination, selected or not, so `--select` never changes it)."""
    accounts = []
    for kind in sorted({sync.destination_type for sync in spec.syncs}):
        factory = registry.destinations.get(kind)
        if factory is not None and kind in spec.connections:
            account = account_of(factory(spec.connections[kind]))
            if account:
                accounts.append(account)
    return state_identity(spec.file, spec.state_scope, accounts)


@contextmanager
def run_state(
    spec: Spec, registry: Registry, dry_run: bool = False, full_refresh: bool = False
) -> Iterator[RunState]:
    """The store, locked for the run. A store that fails as the run lets go of it (closing,
    releasing the lock) does not undo what the syncs did: the error is kept in `closed_with`."""
    store = open_store(spec, registry)
    identity = spec_identity(spec, registry)
    lease: Lease | None = None
    state: RunState | None = None
    try:
        # two runs of one spec never interleave; a dry run writes nothing and needs no lock
        if not dry_run:
            timeout = lock_timeout(spec.state or {})
            try:
                lease = store.lock(identity.scope, timeout)
            except Exception as exc:
                raise _named(store, "taking the lock", exc) from None
        state = RunState(store, spec, dry_run, full_refresh, identity, fence_of(lease))
        yield state
    finally:
        problem = _let_go(store, lease)
        if problem is not None:
            log.error("state_close_failed", error=str(problem))
            if state is not None:
                state.closed_with = problem


def _let_go(store: StateStore, lease: Lease | None) -> StateError | None:
    """Close the store, then release the lock, whatever the first did; the first failure."""
    steps: list[tuple[str, Callable[[], None]]] = [("closing it", store.close)]
    if lease is not None:
        steps.append(("releasing the lock", lease.release))
    problem = None
    for doing, action in steps:
        try:
            action()
        except Exception as exc:
            problem = problem or _named(store, doing, exc)
    return problem


def _named(store: StateStore, doing: str, exc: Exception) -> StateError:
    """A backend's own error (its driver's, the file system's) as one line naming the store."""
    if isinstance(exc, StateError):
        return exc
    first = (str(exc).strip().splitlines() or [""])[0]
    return StateError(f"state store {store.describe()}: {doing}: {type(exc).__name__}: {first}")


def fence_of(lease: Lease | None) -> Callable[[], Awaitable[None]] | None:
    """What the sender awaits before each request: nothing while the lease is surely held (a
    local deadline); past it, the proof (a renewal) in a thread, or LeaseLost: the run stops
    before sending. None for a lease that offers no proof (a third-party backend)."""
    if not isinstance(lease, Fenced):
        return None
    proven: Fenced = lease

    async def fence() -> None:
        if time.monotonic() >= proven.deadline:
            await asyncio.to_thread(proven.prove)

    return fence


def sync_key(spec: Spec, name: str, registry: Registry | None = None) -> str:
    """The key the sync's state is stored under (its spec's identity, then the sync name)."""
    from engine.plugins import load_registry

    return spec_identity(spec, registry or load_registry()).key(name)


def sync_fingerprint(spec: Spec, sync: SyncSpec) -> str:
    return fingerprint(sync.source_type, sync.source, sync.cursor, spec.secrets)


class RunState:
    def __init__(
        self,
        store: StateStore,
        spec: Spec,
        dry_run: bool,
        full_refresh: bool,
        identity: StateIdentity,
        fence: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.spec = spec
        self.dry_run = dry_run
        self.full_refresh = full_refresh
        self.closed_with: StateError | None = None  # the store failed as the run let go of it
        self.identity = identity
        self.fence = fence  # awaited before each request (see fence_of)
        self.resend_unknown = False  # send again the triggers of unknown outcome
        self.clock: Callable[[], float] = time.time  # wall time of trigger marks (tests: a fake)

    def begin(
        self,
        sync: SyncSpec,
        source: Source,
        key: Callable[[Any], str | None],
        remembered: bool = True,
        events: str | None = None,
    ) -> SyncState:
        """The sync's tracked state: its `resume` is where the sync starts (None: the beginning),
        its `changes` what skips unchanged records (`key`: the endpoint's record key; none when
        the destination does not keep what it receives, `remembered` False)."""
        where, note = self._key(sync.name)
        tracked = SyncState(
            self.store,
            where,
            sync_fingerprint(self.spec, sync),
            source,
            incremental=sync.cursor is not None,
            dry_run=self.dry_run,
        )
        tracked.notes.extend([note] if note else [])
        tracked.resume = tracked.start(self.store.load(tracked.key), self.full_refresh)
        if events is not None:  # a destination that forgets: once per run, nothing stored
            tracked.triggers = self._triggers(sync, key, tracked.key, events, remembered)
            tracked.events = True
        elif remembered:
            tracked.changes = self._changes(sync, key, tracked.key)
        if tracked.resume is None:
            tracked.mark_start()
        return tracked

    def replay_changes(
        self, sync: SyncSpec, key: Callable[[Any], str | None], remembered: bool = True
    ) -> ChangeDetector | None:
        """For `rejects replay`: the sync's change detection exactly as a run has it, so what the
        replay delivers is remembered and the next run skips it; the stored position is left alone
        (a replay reads only the listed rows)."""
        return self._changes(sync, key, self._key(sync.name)[0]) if remembered else None

    def replay_triggers(
        self, sync: SyncSpec, key: Callable[[Any], str | None], events: str, remembered: bool
    ) -> TriggerGate:
        """For `rejects replay` of an event sync: the run's trigger gate, so a replayed trigger
        is held to once per window and marked like a run's (docs/triggers.md)."""
        return self._triggers(sync, key, self._key(sync.name)[0], events, remembered)

    def _key(self, name: str) -> tuple[str, str | None]:
        """(the sync's key, a note): what a former omnisync stored under the old key is moved
        first; a dry run moves nothing and reads the old key while the new one is empty."""
        key, former = self.identity.key(name), self.identity.former_key(name)
        if key == former:
            return key, None
        if self.dry_run:
            if holds_state(self.store, former) and not holds_state(self.store, key):
                return former, f"state read from its former key {former} (a run moves it)"
            return key, None
        note = move_former(self.store, former, key)
        if note is not None:
            log.info("state_moved", former=former, key=key, message=note)
        return key, note

    def _namespace(self, sync: SyncSpec) -> bytes:
        """The hashing key of the sync's record keys: change detection's, the ledger's."""
        meaning = destination_fingerprint(
            sync.destination_type,
            self.spec.connections.get(sync.destination_type, {}),
            sync.destination,
            self.spec.secrets,
        )
        return namespace(self.identity.former_key(sync.name), meaning)

    def _triggers(
        self,
        sync: SyncSpec,
        key: Callable[[Any], str | None],
        sync_key: str,
        scope: str,
        remembered: bool,
    ) -> TriggerGate:
        store = trigger_store(self.store)
        if store is None:
            raise StateError(
                f"{sync.name}: the state store {self.store.describe()} keeps no trigger marks; "
                "an endpoint that fires events needs one (sqlite, postgres or s3)"
            )
        if sync.once_per is None:  # validate requires it
            raise StateError(f"{sync.name}: an endpoint that fires events needs once_per")
        return TriggerGate(
            store,
            scope_of(sync_key, scope),
            self._namespace(sync),
            key,
            sync.once_per,
            save=remembered and not self.dry_run,
            resend_unknown=self.resend_unknown,
            clock=self.clock,
        )

    def _changes(
        self, sync: SyncSpec, key: Callable[[Any], str | None], sync_key: str
    ) -> ChangeDetector | None:
        if not sync.change_detection or self.full_refresh:
            # digests not kept up to date must not be trusted later; a full refresh sends
            # everything, and saves each digest anew once the API acknowledged it
            if not self.dry_run:
                self.store.clear_digests(sync_key)
            if not sync.change_detection:
                return None
        meaning = destination_fingerprint(
            sync.destination_type,
            self.spec.connections.get(sync.destination_type, {}),
            sync.destination,
            self.spec.secrets,
        )
        return ChangeDetector(
            self.store,
            sync_key,
            meaning,
            key,
            save=not self.dry_run,
            skip=not self.full_refresh,
            label=self.identity.former_key(sync.name),  # digests hashed before a move still match
        )
