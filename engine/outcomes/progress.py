"""What a running sync is doing, while it runs.

On a terminal: one status line for the syncs running at once (each: read, delivered, unchanged,
filtered, rejected; total, percent and ETA when the source knows its size; the request rate against
the limit; a retry wait with its countdown), redrawn twice a second. Log lines erase it and it
is drawn again below them (engine.logging.StatusLine), so a log line never lands on it.
Off a terminal (CI logs): a JSON `heartbeat` event every 30 s (configurable) with the counts and
the rate.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from typing import Any, TextIO

from engine import logging as omnilog
from engine.outcomes.report import SyncStats

INTERVAL = 0.5
HEARTBEAT = 30.0

log = omnilog.get_logger("omnisync.progress")


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.999))
    return f"{seconds // 60}m{seconds % 60:02d}s"


def counts(stats: SyncStats) -> dict[str, Any]:
    """The counters both displays show."""
    return {
        "read": stats.read,
        "delivered": stats.delivered,
        "unchanged": stats.unchanged,
        "filtered": stats.filtered,
        "rejected": stats.rejected,
    }


def line(
    stats: SyncStats,
    total: int | None,
    elapsed: float,
    limit: float | None = None,
    now: float | None = None,
) -> str:
    finished = stats.delivered + stats.rejected + stats.filtered + stats.unchanged
    rate = finished / elapsed if elapsed > 0 else 0.0
    numbers = counts(stats)
    text = f"{stats.sync}: read {stats.read:,}"
    if total:
        text += f"/~{total:,} ({min(100.0, 100 * finished / total):.0f}% done)"
    text += "".join(f", {k} {v:,}" for k, v in numbers.items() if k != "read")
    text += f", {rate:,.0f} records/s"
    if limit:
        requests_rate = stats.requests.requests / elapsed if elapsed > 0 else 0.0
        text += f", {requests_rate:.1f}/{limit:g} requests/s"
    waits = list(stats.requests.waits.values())
    if waits:
        soonest = min(waits, key=lambda w: w.until)
        remaining = soonest.until - (time.monotonic() if now is None else now)
        statuses = "/".join(sorted({w.status for w in waits}))
        batches = f"{len(waits)} batch{'es' if len(waits) != 1 else ''}"
        return (
            f"{stats.sync}: waiting {_clock(remaining)}: {batches} answered {statuses} "
            f"(retry {soonest.attempt} of {soonest.attempts}); " + text.split(": ", 1)[1]
        )
    if total and rate > 0 and finished < total:
        text += f", ETA {_clock((total - finished) / rate)}"
    return text


class Board:
    """The syncs running now (several run at once), each with its total and start, in one line."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[SyncStats, int | None, float, float | None]] = {}

    def add(self, stats: SyncStats, total: int | None, limit: float | None = None) -> None:
        self._rows[stats.sync] = (stats, total, time.monotonic(), limit)

    def remove(self, stats: SyncStats) -> None:
        self._rows.pop(stats.sync, None)

    def text(self) -> str:
        now = time.monotonic()
        return " | ".join(
            line(s, total, now - started, limit, now)
            for s, total, started, limit in self._rows.values()
        )


def terminal_width(stream: TextIO | None = None) -> int:
    """Columns of the terminal the line is drawn on (stderr), asked at each redraw so a resized
    window is followed; COLUMNS wins when set, as for shutil.get_terminal_size."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size((stream or sys.stderr).fileno()).columns
    except (OSError, ValueError, AttributeError):  # not a terminal, or a stream without a file
        return shutil.get_terminal_size().columns


def fit(text: str, width: int) -> str:
    """The line cut to one column less than the terminal: a line that fills or passes the last
    column wraps, and `\r` then redraws only the wrapped part, leaving a stale row per redraw."""
    room = max(width - 1, 10)
    return text if len(text) <= room else text[: room - 1] + "…"


async def show(board: Board) -> None:
    """Redraw until cancelled, then leave the last line and move below it."""
    try:
        while True:
            await asyncio.sleep(INTERVAL)
            text = board.text()
            if text:
                omnilog.STDERR.show(fit(text, terminal_width()))
    finally:
        omnilog.STDERR.end()


async def heartbeat(stats: SyncStats, total: int | None, every: float = HEARTBEAT) -> None:
    """A JSON event every `every` seconds: a CI log shows the run is alive and how far it is."""
    started = time.monotonic()
    while True:
        await asyncio.sleep(every)
        elapsed = time.monotonic() - started
        finished = stats.delivered + stats.rejected + stats.filtered
        waits = list(stats.requests.waits.values())
        log.info(
            "heartbeat",
            **counts(stats),
            total=total,
            records_per_s=round(finished / elapsed, 1) if elapsed else 0.0,
            requests=stats.requests.requests,
            waiting_batches=len(waits),
            waiting_s=round(max((w.until - time.monotonic() for w in waits), default=0.0), 1),
        )


def wanted(stream: TextIO = sys.stderr) -> bool:
    return stream.isatty()
