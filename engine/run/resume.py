"""A run's use of the state store: where each sync resumes, throttled saves, what a clean end does.

- begin: a stored position whose fingerprint matches becomes the sync's resume point; a stale or
  unreadable one is ignored with a warning (and cleared, unless this is a dry run); --full-refresh
  ignores and clears it.
- during the run: each advance of the low-water mark is kept; it is saved when `every` advances
  piled up or `interval` seconds passed since the last save, so a SIGKILL loses at most that much.
- end: a failure or a stop saves the last mark; a clean finish clears the position of a sync
  without `incremental` (its next run reads everything again) and keeps it for an incremental one.
- a dry run may resume from a stored position but never writes one.

Keys are qualified by the spec's state identity (engine/state/identity.py); state a former omnisync
stored under the spec's file name is moved under the new key the first time a run needs it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from engine import logging as omnilog
from engine.contracts import Source, account_of, resume_problem
from engine.errors import OmnisyncError
from engine.outcomes.report import SyncStats
from engine.plugins import Registry
from engine.rows import Position
from engine.specfile import Spec, SyncSpec
from engine.state.base import (
    Fenced,
    Lease,
    StateContext,
    StateError,
    StateStore,
    StoredPosition,
    lock_timeout,
)
from engine.state.change_detection import ChangeDetector, namespace
from engine.state.codec import PositionCodecError, render_position
from engine.state.fingerprint import destination_fingerprint, fingerprint
from engine.state.identity import StateIdentity, state_identity
from engine.state.moving import holds_state, move_former
from engine.state.triggers import TriggerGate, scope_of, trigger_store

log = omnilog.get_logger("omnisync.state")

DEFAULT_BACKEND = "sqlite"
SAVE_INTERVAL = 1.0  # seconds between saves at most, while the mark moves
SAVE_EVERY = 8  # ... or this many advances of the mark (one per finished batch at most)
START: Position = ()  # "before the first row": stored when a run starts from the beginning
STALE = "source changed since the stored position: starting from the beginning"


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


def locate(source: Source | None, position: Position) -> str:
    if source is not None:
        try:
            return source.locate(position)
        except Exception:  # a source that cannot place a foreign-looking position
            pass
    return render_position(position)


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


class SyncState:
    def __init__(
        self,
        store: StateStore,
        key: str,
        fingerprint: str,
        source: Source | None,
        incremental: bool,
        dry_run: bool,
        interval: float = SAVE_INTERVAL,
        every: int = SAVE_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.key = key
        self.fingerprint = fingerprint
        self.source = source
        self.incremental = incremental
        self.dry_run = dry_run
        self.interval = interval
        self.every = every
        self.clock = clock
        self.resume: Position | None = None  # where this run starts, set by RunState.begin
        self.latest: Position | None = None  # the low-water mark of this run
        self._pending = 0  # advances since the last save
        self._saved_at = clock()
        self._broken = False  # a position that cannot be stored: stop trying
        self.resumed_from: str | None = None
        self.resumed_saved_at: dt.datetime | None = None  # when the resumed position was saved
        self.notes: list[str] = []
        self.changes: ChangeDetector | None = None
        self.triggers: TriggerGate | None = None
        # an event sync saves its mark only at a clean end: a rerun after a crash reads again
        # every key the interrupted run touched, and reports each of unknown outcome by its key
        self.events = False
        self.before_save: Callable[[], None] | None = None  # the reject file's commit

    def start(self, stored: StoredPosition | None, full_refresh: bool) -> Position | None:
        if stored is None:
            return None
        if full_refresh:
            self._forget("full_refresh", "full refresh: the stored position was ignored")
            return None
        if stored.position == START and stored.fingerprint == self.fingerprint:
            # a run from the beginning that ended before it saved a mark: start there again
            self.resumed_saved_at = stored.saved_at
            return None
        if stored.position is None:
            raise StateError(
                f"the stored state of {self.key} in {self.store.describe()} is "
                f"{stored.problem or 'unreadable'}; nothing was read or sent. Run `omnisync state "
                "reset SPEC --select NAME` to start that sync over"
            )
        if stored.fingerprint != self.fingerprint:
            self._forget("state_stale", STALE, level="warning")
            return None
        changed = resume_problem(self.source, stored.position)  # a file replaced since, say
        if changed is not None:
            self._forget("state_stale", f"{changed}: starting from the beginning", "warning")
            return None
        # rendered when saved, by this same source after it read: some sources (sql) only know
        # their key columns once they ran their query
        self.resumed_from = stored.where or locate(self.source, stored.position)
        log.info("sync_resumed", after=self.resumed_from, saved_at=stored.saved_at.isoformat())
        self.resumed_saved_at = stored.saved_at
        return stored.position

    def mark_start(self) -> None:
        """Store "the beginning" (the empty position) before a run from the start writes any
        reject: if it is killed before its first mark, its rerun knows which reject lines it
        already wrote (those written after this save) and does not write them twice."""
        if self.dry_run:
            return
        try:
            self.store.save(self.key, START, self.fingerprint, "the beginning")
        except PositionCodecError:  # a store that cannot hold it: rejects may then repeat
            log.warning("state_not_saved", message="the start of the run could not be stored")

    def report(self, stats: SyncStats) -> None:
        stats.resumed_from = self.resumed_from
        stats.notes.extend(self.notes)

    def _forget(self, event: str, note: str, level: str = "info") -> None:
        self.notes.append(note)
        getattr(log, level)(event, message=note, state=self.store.describe())
        if not self.dry_run:
            self.store.clear(self.key)

    @property
    def on_checkpoint(self) -> Callable[[Position], None] | None:
        """What the pipeline calls when the low-water mark moves; a dry run saves nothing."""
        return None if self.dry_run else self.advance

    def advance(self, position: Position) -> None:
        self.latest = position
        self._pending += 1
        if self.events:
            return
        if self._pending >= self.every or self.clock() - self._saved_at >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self.dry_run or self._broken or not self._pending or self.latest is None:
            return
        if self.before_save is not None:
            self.before_save()
        try:
            self.store.save(
                self.key, self.latest, self.fingerprint, locate(self.source, self.latest)
            )
        except PositionCodecError as exc:
            self._broken = True
            log.warning("state_not_saved", reason=str(exc), message="this sync cannot resume")
            return
        self._pending = 0
        self._saved_at = self.clock()

    def stored_after(self, clean: bool) -> str | None:
        """Where the next run starts (for the report): None when nothing is stored."""
        if self.dry_run or (self.events and not clean):  # the store as it was found
            return self.resumed_from
        if self._broken or (clean and not self.incremental):
            return None
        return locate(self.source, self.latest) if self.latest is not None else self.resumed_from

    def end(self, clean: bool) -> None:
        """Save the last mark; on a clean finish, clear it unless the sync is incremental."""
        if self.dry_run:
            return
        if self.changes is not None:  # what the API acknowledged, whatever else happened
            self.changes.flush()
        if clean and not self.incremental:
            if self.store.clear(self.key):
                log.info("state_cleared", reason="finished cleanly; the next run reads everything")
            return
        if self.events and not clean:  # the last clean run's mark stays (see `events`)
            return
        self.flush()
