"""What happened: counters per sync, the reject file, the run report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from engine.delivery.counts import RequestStats
from engine.rejects import RejectFile, mask, mask_fields


@dataclass
class SyncStats:
    sync: str
    read: int = 0
    filtered: int = 0
    rejected: int = 0
    delivered: int = 0
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


def write_report(path: Path, stats: list[SyncStats], exit_code: int) -> None:
    report = {"exit_code": exit_code, "syncs": [s.as_dict() for s in stats]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


__all__ = ["RejectFile", "SyncStats", "mask", "mask_fields", "write_report"]
