"""The values that flow through a sync: rows from a source, records for a destination, outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Position = tuple[Any, ...]
"""Orderable place of a row in its source (file index and line, cursor value, object key and line)."""


class Row:
    """One source row; `error` is set instead of `values` when the source could not parse it."""

    __slots__ = ("error", "position", "values")

    def __init__(
        self, values: dict[str, Any] | None, position: Position, error: str | None = None
    ) -> None:
        self.values = values
        self.position = position
        self.error = error


class ScreenedRow(Row):
    """A row a source compared with its stored digest itself: `mark` is (key hash, digest)."""

    __slots__ = ("mark",)

    def __init__(
        self, values: dict[str, Any] | None, position: Position, mark: tuple[bytes, bytes]
    ) -> None:
        super().__init__(values, position)
        self.mark = mark


class Record:
    """A mapped payload on its way to the destination, with the sequence number of its row."""

    __slots__ = ("mark", "payload", "position", "seq")

    def __init__(self, payload: Any, position: Position, seq: int) -> None:
        self.payload = payload
        self.position = position
        self.seq = seq
        self.mark: tuple[bytes, bytes] | None = None  # (hashed key, digest) for change detection


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a row or record was not delivered; written to the reject file."""

    position: Position
    reason: str
    field: str | None = None
    payload: Any = None
    values: dict[str, Any] | None = None
