"""The state store contract: where each sync's low-water mark survives between runs.

A backend is a plugin in the `omnisync.state` entry point group, built from the spec's `state:`
block. It stores, per sync key, the encoded position, the fingerprint of what that position means
(see fingerprint.py), when it was saved, and a readable rendering of it. Nothing else: no row
values beyond the position, no secrets. Calls are synchronous and short; the engine throttles them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from engine.records import Position


@dataclass(frozen=True)
class StateContext:
    """What a backend needs beyond its own block: relative paths are relative to the spec."""

    spec_dir: Path


@dataclass(frozen=True)
class StoredPosition:
    sync_key: str
    position: Position | None  # None when the stored text no longer decodes
    fingerprint: str
    saved_at: dt.datetime  # aware, UTC
    where: str  # the position as the source rendered it when it was saved


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

    def describe(self) -> str:
        """Where the state lives, for messages (a path or URL without credentials)."""
        ...

    def close(self) -> None: ...
