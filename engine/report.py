"""What happened: counters per sync, the reject file, the run report."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from engine.crashpoints import crash_point
from engine.delivery.counts import RequestStats
from engine.logging import redact
from engine.pii import mask, mask_fields, mask_reason
from engine.records import Rejection


@dataclass
class SyncStats:
    sync: str
    read: int = 0
    filtered: int = 0
    rejected: int = 0
    delivered: int = 0
    unchanged: int = 0  # skipped: the API already acknowledged this content for this key
    failed: int = 0  # sent, and the API kept failing past the retry policy
    unsent: int = 0  # read, never sent: the sync stopped first (or a dry run)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    requests: RequestStats = field(default_factory=RequestStats)
    stopped: str | None = None  # why the sync stopped early
    resumed_from: str | None = None  # the stored position this run started after
    notes: list[str] = field(default_factory=list)  # e.g. a stored position found stale

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def as_dict(self) -> dict[str, Any]:
        elapsed = self.elapsed
        return {
            "sync": self.sync,
            "rows_read": self.read,
            "filtered": self.filtered,
            "rejected": self.rejected,
            "delivered": self.delivered,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "unsent": self.unsent,
            "requests": self.requests.requests,
            "requests_by_status": dict(sorted(self.requests.by_status.items())),
            "retries": self.requests.retries,
            "elapsed_s": round(elapsed, 3),
            "records_per_s": round(self.delivered / elapsed, 1) if elapsed > 0 else 0.0,
            "stopped": self.stopped,
            "resumed_from": self.resumed_from,
            "notes": list(self.notes),
        }


class RejectFile:
    """JSON Lines, one rejected row each; opened lazily so a clean run leaves no empty file."""

    def __init__(self, path: Path, sync: str, personal: frozenset[str], reveal: bool) -> None:
        self.path = path
        self.sync = sync
        self.personal = personal
        self.reveal = reveal
        self._handle: IO[bytes] | None = None
        self.count = 0

    def write(self, rejection: Rejection, where: str, key: str | None) -> None:
        if self._handle is None:
            self._handle = open_private(self.path)
        data = rejection.payload if rejection.payload is not None else rejection.values
        reason = rejection.reason
        entry = {
            "sync": self.sync,
            "position": where,
            "key": key if self.reveal or key is None else mask_reason(key, None, frozenset()),
            "field": rejection.field,
            "reason": redact(
                reason if self.reveal else mask_reason(reason, rejection.field, self.personal)
            ),
            "record": data if self.reveal else mask_fields(data, self.personal),
        }
        line = redact(orjson.dumps(entry, default=str).decode()).encode() + b"\n"
        middle = len(line) // 2
        self._handle.write(line[:middle])
        crash_point("reject_append", self._handle.flush)
        self._handle.write(line[middle:])
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def write_report(path: Path, stats: list[SyncStats], exit_code: int) -> None:
    report = {"exit_code": exit_code, "syncs": [s.as_dict() for s in stats]}
    with open_private(path) as handle:
        handle.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


def open_private(path: Path) -> IO[bytes]:
    """Create or truncate a file only its owner can read (0600): it may hold personal data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its old mode otherwise
    return os.fdopen(descriptor, "wb")


__all__ = ["RejectFile", "SyncStats", "mask", "mask_fields", "open_private", "write_report"]
