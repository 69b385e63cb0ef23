"""What happened: counters per sync, the reject file, the run report."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from engine.delivery.counts import RequestStats

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


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
    left_source: int = 0  # keys omnisync sent before that a full read no longer found
    # events (docs/triggers.md): sent once per window; `delivered` counts the keys triggered
    events: bool = False  # the sync's endpoint fires events
    skipped: int = 0  # already triggered in the window, or earlier in this run
    unknown: int = 0  # sent by an earlier run whose outcome nobody knows: not sent again
    unknown_keys: list[str] = field(default_factory=list)  # their keys (masked unless revealed)
    would_trigger: list[str] = field(default_factory=list)  # a dry run's first keys to trigger
    skipped_keys: list[str] = field(default_factory=list)  # a dry run's first keys skipped
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    requests: RequestStats = field(default_factory=RequestStats)
    stopped: str | None = None  # why the sync stopped early
    resumed_from: str | None = None  # the stored position this run started after
    notes: list[str] = field(default_factory=list)  # e.g. a stored position found stale
    warnings: list[str] = field(
        default_factory=list
    )  # settings worth a look (engine.run.preflight)
    endpoint: str | None = None  # where the sync delivers (the destination's endpoint name)
    route: str | None = None  # the endpoint's URL path, when the destination says it
    stored_position: str | None = None  # where the next run starts; None: from the beginning
    rate_limit: float | None = None  # the pace the sync started at (requests per second)
    reject_reasons: dict[str, int] = field(default_factory=dict)  # by field and reason, no values

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def as_dict(self) -> dict[str, Any]:
        elapsed = self.elapsed
        return {
            "sync": self.sync,
            "endpoint": self.endpoint,
            "route": self.route,
            "rows_read": self.read,
            "filtered": self.filtered,
            "rejected": self.rejected,
            "delivered": self.delivered,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "unsent": self.unsent,
            "left_the_source": self.left_source,
            **(
                {
                    "triggered": self.delivered,
                    "skipped_in_window": self.skipped,
                    "outcome_unknown": self.unknown,
                    "outcome_unknown_keys": list(self.unknown_keys),
                }
                if self.events
                else {}
            ),
            "requests": self.requests.requests,
            "requests_by_status": dict(sorted(self.requests.by_status.items())),
            "retries": self.requests.retries,
            "throttled_429": self.requests.by_status.get("429", 0),
            "waiting_on_retries_s": round(self.requests.waiting_s, 3),
            "elapsed_s": round(elapsed, 3),
            "records_per_s": round(self.delivered / elapsed, 1) if elapsed > 0 else 0.0,
            "stopped": self.stopped,
            "resumed_from": self.resumed_from,
            "stored_position": self.stored_position,
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "rate_limit": self.rate_limit,
            "reject_reasons": dict(sorted(self.reject_reasons.items(), key=lambda kv: -kv[1])),
            # [[Unix second, answers, 429s, retry waits begun], ...]: `run --html` draws it
            "per_second": [[t, *c] for t, c in sorted(self.requests.timeline.items())],
        }

    def rejected_for(self, field_name: str | None, reason: str) -> None:
        """One more reject of this kind; quoted values are left out (they may be personal)."""
        kind = f"{field_name or 'record'}: {_QUOTED.sub('…', reason)[:120]}"
        self.reject_reasons[kind] = self.reject_reasons.get(kind, 0) + 1


def write_report(
    path: Path,
    stats: list[SyncStats],
    exit_code: int,
    run: dict[str, Any] | None = None,
    extra: list[dict[str, Any]] | None = None,
) -> None:
    """`run`: what the whole run was (id, times, version, specs); `extra`: per sync, beside its
    counters (its spec file, reject file)."""
    report = report_data(stats, exit_code, run, extra)
    with open_private(path) as handle:
        handle.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


def report_data(
    stats: list[SyncStats],
    exit_code: int,
    run: dict[str, Any] | None = None,
    extra: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report as plain data: what `--report` writes and the Python API returns."""
    syncs = [{**s.as_dict(), **(extra[i] if extra else {})} for i, s in enumerate(stats)]
    return {"exit_code": exit_code, **(run or {}), "syncs": syncs}


def open_private(path: Path) -> IO[bytes]:
    """Create or truncate a file only its owner can read (0600): it may hold personal data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its old mode otherwise
    return os.fdopen(descriptor, "wb")


@dataclass(frozen=True)
class SyncOutcome:
    """One sync of one spec, with the exit it stands for (0 ok, 1 failed, 3 too many rejects)."""

    spec: str
    stats: SyncStats
    exit_code: int
    reject_file: str | None = None
