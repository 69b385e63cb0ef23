"""SIGINT/SIGTERM during a run: the first stops reading and lets requests in flight finish within
the grace (then the report is written and the exit code is 130 or 143); a second exits at once.

The handlers are Python-level (`signal.signal`), not the event loop's: those run only when the loop
gets control back, which a long transform on the loop's thread may not give for minutes. A Python
handler runs between two bytecodes of whatever is running: it flags the stop at once (the reader
tests the flag per row, so a run busy mapping rows stops at the next one), hands it to the loop
thread-safely and arms a watchdog that ends the process shortly after the grace if the loop never
got there. A single C call that holds the interpreter (int() of a huge digit string) delays even
this handler: the transforms bound their input for that reason (docs/transforms.md).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from engine.errors import ExitCode
from engine.run.stop import StopRequest

_CODES = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}
WATCHDOG_MARGIN = 2.0  # seconds after the grace for the report to be written the normal way


def install(loop: asyncio.AbstractEventLoop, stop: StopRequest) -> Callable[[], None]:
    """Returns the function that puts the previous handlers back (and disarms the watchdog)."""
    watchdog: list[threading.Timer] = []
    seen: list[signal.Signals] = []

    def on_loop(signum: signal.Signals) -> None:
        stop.request(f"interrupted by {signum.name}", _CODES[signum])

    def handle(number: int, _frame: FrameType | None) -> None:
        signum = signal.Signals(number)
        code = _CODES[signum]
        if stop.requested or seen:
            _say(f"\n{signum.name} again: exiting now, without a report\n")
            os._exit(int(code))
        seen.append(signum)  # first thing: a second signal may interrupt this very handler
        _say(
            f"\n{signum.name}: stopping; requests in flight get up to {stop.grace:g}s "
            "(send it again to quit at once)\n"
        )
        timer = threading.Timer(stop.grace + WATCHDOG_MARGIN, _expired, (signum, code))
        timer.daemon = True
        timer.start()
        watchdog.append(timer)
        stop.flag(f"interrupted by {signum.name}", code)  # the reader stops at its next row
        loop.call_soon_threadsafe(on_loop, signum)  # ... and the loop wakes what waits

    previous: dict[signal.Signals, Any] = {signum: signal.getsignal(signum) for signum in _CODES}
    for signum in _CODES:
        # the loop's handler only sets its wake-up descriptor: a signal caught by another thread
        # (a reader, a resolver) still wakes the loop, so the main thread runs `handle` at once
        loop.add_signal_handler(signum, _nothing)
        signal.signal(signum, handle)

    def remove() -> None:
        for timer in watchdog:
            timer.cancel()
        for signum, handler in previous.items():
            loop.remove_signal_handler(signum)
            signal.signal(signum, handler)

    return remove


def _nothing() -> None:
    """The loop's part of a signal is only to wake up; `handle` does the work."""


def _expired(signum: signal.Signals, code: ExitCode) -> None:
    """The run did not wind down within the grace (the loop was blocked): end it here."""
    _say(f"{signum.name}: the run did not stop within its grace; exiting without a report\n")
    os._exit(int(code))


def _say(text: str) -> None:
    """Straight to the descriptor: the handler may have interrupted a write to sys.stderr."""
    os.write(sys.stderr.fileno(), text.encode())
