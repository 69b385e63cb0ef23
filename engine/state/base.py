"""The state store contract: where each sync's low-water mark and record digests survive between runs.

A backend is a plugin in the `omnisync.state` entry point group, built from the spec's `state:`
block. It stores, per sync key, the encoded position, the fingerprint of what that position means
(see fingerprint.py), when it was saved, and a readable rendering of it; the digests of the records
the API acknowledged, by hashed key (see digests.py); and a lock per spec so two runs of one spec
never interleave. No row values beyond the position, no clear keys, no secrets. Calls are
synchronous and short; the engine throttles them. Every write carries SCHEMA_VERSION: state written
by a newer omnisync, or that does not parse, is reported as a problem, never silently replaced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from engine import durations
from engine.errors import OmnisyncError
from engine.rows import Position

SCHEMA_VERSION = 2  # of every record a backend writes; a higher one is refused (2: lease epochs)
DEFAULT_LOCK_TIMEOUT = 60.0  # seconds a run waits for another run of the same spec

COMMON_OPTIONS: dict[str, Any] = {
    "history": {
        "type": "object",
        "properties": {"keep": {**durations.SCHEMA}},
        "additionalProperties": False,
        "description": "run history and the record ledger: `keep` is how long (default 90d; 0 "
        "keeps none)",
    },
    "lock_timeout": {
        **durations.SCHEMA,
        "description": "how long a run waits while another run of the same spec holds the state "
        "lock, then stops (default 60s)",
    },
    "shared_budget": {
        "type": "boolean",
        "description": "share each account's rate with the other runs using this store at the "
        "same time (default: true for postgres and s3, false for sqlite); false for an account "
        "known to have no other sender",
    },
    "scope": {
        "type": "string",
        "minLength": 1,
        "maxLength": 200,
        "description": "whose state this is (default: the spec's path in its git repository "
        "plus the destination account); specs with one scope share positions, digests and lock",
    },
}


class StateError(OmnisyncError):
    """The state cannot be reached or trusted: the run refuses rather than start over silently."""


class StateLocked(StateError):
    """Another run of the same spec held the lock for longer than lock_timeout."""


class LeaseLost(StateError):
    """This run can no longer prove it holds its spec's lease: another run may have taken over.
    Nothing more is sent or stored; the store refuses a write made with an older epoch."""


@dataclass(frozen=True)
class StateContext:
    """What a backend needs beyond its own block: relative paths are relative to the spec."""

    spec_dir: Path


@dataclass(frozen=True)
class StoredPosition:
    sync_key: str
    position: Position | None  # None when the stored record cannot be used: see `problem`
    fingerprint: str
    saved_at: dt.datetime  # aware, UTC
    where: str  # the position as the source rendered it when it was saved
    problem: str | None = None  # why `position` is None (corrupt, newer schema ...)


class Lease(Protocol):
    """A held lock; release() is idempotent, and a crashed holder's lock frees itself."""

    def release(self) -> None: ...


@runtime_checkable
class Fenced(Protocol):
    """Optional for a lease: proof that it is still held, so that a run paused or cut off past
    its lease never sends or stores after another run took over (docs/state.md, Fencing).

    Each acquisition takes a new `epoch` (a fencing token, kept in the store); every write of the
    store is refused unless the store still holds this epoch."""

    epoch: int
    deadline: float  # time.monotonic() until which the lease is surely held, margin included

    def prove(self) -> None:
        """Return when the lease is held now (past `deadline`, renewing it first); raise
        LeaseLost when it cannot be proven."""
        ...


@runtime_checkable
class StateStore(Protocol):
    config_schema: ClassVar[dict[str, Any]]  # the backend's options, beside `backend:`

    def __init__(self, config: Mapping[str, Any], context: StateContext) -> None: ...

    def load(self, sync_key: str) -> StoredPosition | None: ...

    def save(self, sync_key: str, position: Position, fingerprint: str, where: str) -> None: ...

    def clear(self, sync_key: str) -> bool:
        """Forget the sync's position; True when there was one."""
        ...

    def entries(self, prefix: str = "") -> list[StoredPosition]:
        """Every stored position whose key starts with `prefix`, by key."""
        ...

    def lock(self, scope: str, timeout: float) -> Lease:
        """Hold `scope` (a spec) exclusively; wait up to `timeout` s, then raise StateLocked."""
        ...

    def lookup_digests(self, sync_key: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """The stored digest of each of these hashed keys that has one."""
        ...

    def save_digests(self, sync_key: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        """Store (hashed key, digest) pairs atomically: all of them or none."""
        ...

    def clear_digests(self, sync_key: str) -> int:
        """Forget the sync's digests; how many there were."""
        ...

    def count_digests(self, sync_key: str) -> int: ...

    def describe(self) -> str:
        """Where the state lives, for messages (a path or URL without credentials)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class MovesState(Protocol):
    """Optional for a backend: move a sync's position and digests to another key in one step
    (a store written before state scopes existed keeps them under `<spec file name>:<sync>`)."""

    def move(self, old_key: str, new_key: str) -> tuple[bool, int]:
        """Move what old_key holds unless new_key holds anything: (position moved, digests
        moved)."""
        ...


def lock_timeout(config: Mapping[str, Any]) -> float:
    """The block's lock_timeout in seconds (validated by the schema already)."""
    value = config.get("lock_timeout")
    return DEFAULT_LOCK_TIMEOUT if value is None else durations.parse_duration(value)
