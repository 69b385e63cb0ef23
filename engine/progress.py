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


async def show(stats: SyncStats, total: int | None, stream: TextIO = sys.stderr) -> None:
    """Redraw until cancelled, then end the line so later output starts clean."""
    started = time.monotonic()
    width = 0
    try:
        while True:
            await asyncio.sleep(INTERVAL)
            text = line(stats, total, time.monotonic() - started)
            stream.write("\r" + text.ljust(width))
            stream.flush()
            width = len(text)
    finally:
        if width:
            stream.write("\n")
            stream.flush()


def wanted(stream: TextIO = sys.stderr) -> bool:
    return stream.isatty()
