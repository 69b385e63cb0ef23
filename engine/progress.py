"""A one-line progress display on a terminal: rows read, delivered, rate, ETA when the total is known.

Hand-written (a `\\r` line twice a second) rather than rich: one line needs no dependency. Nothing
is drawn when stderr is not a terminal, so CI logs and pipes stay clean.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from engine.report import SyncStats

INTERVAL = 0.5


def line(stats: SyncStats, total: int | None, elapsed: float) -> str:
    finished = stats.delivered + stats.rejected + stats.filtered
    rate = finished / elapsed if elapsed > 0 else 0.0
    text = f"{stats.sync}: read {stats.read:,}"
    if total:
        text += f"/~{total:,} ({min(100.0, 100 * finished / total):.0f}% done)"
    text += f", delivered {stats.delivered:,}, rejected {stats.rejected:,}, {rate:,.0f} records/s"
    if total and rate > 0 and finished < total:
        remaining = (total - finished) / rate
        text += f", ETA {int(remaining // 60)}m{int(remaining % 60):02d}s"
    return text


class Board:
    """The syncs running now (several run at once), each with its total and start, in one line."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[SyncStats, int | None, float]] = {}

    def add(self, stats: SyncStats, total: int | None) -> None:
        self._rows[stats.sync] = (stats, total, time.monotonic())

    def remove(self, stats: SyncStats) -> None:
        self._rows.pop(stats.sync, None)

    def text(self) -> str:
        now = time.monotonic()
        return " | ".join(
            line(s, total, now - started) for s, total, started in self._rows.values()
        )


async def show(board: Board, stream: TextIO = sys.stderr) -> None:
    """Redraw until cancelled, then end the line so later output starts clean."""
    width = 0
    try:
        while True:
            await asyncio.sleep(INTERVAL)
            text = board.text()
            stream.write("\r" + text.ljust(width))
            stream.flush()
            width = len(text)
    finally:
        if width:
            stream.write("\n")
            stream.flush()


def wanted(stream: TextIO = sys.stderr) -> bool:
    return stream.isatty()
