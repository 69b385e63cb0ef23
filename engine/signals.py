"""SIGINT/SIGTERM during a run: the first stops reading and lets requests in flight finish within
the grace (then the report is written and the exit code is 130 or 143); a second exits at once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable

from engine.errors import ExitCode
from engine.stop import StopRequest

_CODES = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}


def install(loop: asyncio.AbstractEventLoop, stop: StopRequest) -> Callable[[], None]:
    """Returns the function that puts the default handlers back."""

    def handle(signum: signal.Signals) -> None:
        code = _CODES[signum]
        if stop.requested:
            sys.stderr.write(f"\n{signum.name} again: exiting now, without a report\n")
            sys.stderr.flush()
            os._exit(int(code))
        stop.request(f"interrupted by {signum.name}", code)
        sys.stderr.write(
            f"\n{signum.name}: stopping; requests in flight get up to {stop.grace:g}s "
            "(send it again to quit at once)\n"
        )
        sys.stderr.flush()

    for signum in _CODES:
        loop.add_signal_handler(signum, handle, signum)

    def remove() -> None:
        for signum in _CODES:
            loop.remove_signal_handler(signum)

    return remove
