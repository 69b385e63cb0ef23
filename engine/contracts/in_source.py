"""Optional contract of a source that compares rows with their digests itself (`change_detection:
in_source`), so unchanged rows are never read out of it.

Re-exported by engine.contracts (import from there); apart so the core contracts stay short.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from engine.rows import Position, Row


@dataclass(frozen=True)
class ScreenRequest:
    """What the engine hands a source that compares rows with their digests itself
    (`change_detection: in_source`): the source keeps the digests, the engine says what they mean."""

    sync_id: bytes  # 16 bytes naming the sync's digests (its state key, hashed)
    fingerprint: str  # what a digest means besides the row: mapping, destination, generation
    inputs: tuple[str, ...]  # the columns the mapping reads: a change in any of them resends
    key: tuple[str, ...]  # the columns naming a record (unique in the source)
    options: Mapping[str, Any] = field(default_factory=dict)  # the spec's block: where they live
    write: bool = True  # False in a dry run: compare, never write


class SourceScreen(Protocol):
    """One sync's comparison inside the source, for one run. Digests are 16 bytes; a digest of 16
    zero bytes is the pending mark ("sent, not acknowledged"), equal to no row's digest."""

    def read(self, resume: Position | None) -> AsyncIterator[Row]:
        """Only the rows whose digest differs from the stored one (or that have none), in the
        source's order, strictly after `resume`; each a ScreenedRow with (key hash, digest)."""
        ...

    def pending(self, keys: Sequence[bytes]) -> set[bytes]:
        """Mark these keys pending before their records are sent; the ones that held a digest."""
        ...

    def save(self, pairs: Sequence[tuple[bytes, bytes]]) -> None:
        """(key hash, digest) of acknowledged records, stored atomically."""
        ...

    def unchanged(self) -> int | None:
        """After a whole read: rows compared and left in the source (None: the read stopped)."""
        ...

    def fetched(self) -> int:
        """Rows that left the source (were read) in this run."""
        ...

    def left_source(self) -> int:
        """After a clean full read: forget the digests of keys the source no longer has; how many."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ScreensChanges(Protocol):
    """Optional for a source: it can compare each row with its stored digest itself (a database
    computing the digests and the diff in SQL), so unchanged rows are never read out of it."""

    def screen_problem(self, request: ScreenRequest, prepare: bool) -> str | None:
        """Why it cannot (no write permission, no hash function), or None. `prepare` (a run):
        create what it needs first; without it (`validate`) only look. May block."""
        ...

    def open_screen(self, request: ScreenRequest) -> SourceScreen: ...


def screens_changes(source: object) -> bool:
    """True for a source (class or instance) that can compare rows with digests itself."""
    return isinstance(source, ScreensChanges)
