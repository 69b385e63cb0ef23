"""A requested stop (SIGINT/SIGTERM): the reader stops, in-flight requests get a bounded grace."""

from __future__ import annotations

import asyncio

from engine.errors import ExitCode, OmnisyncError


class Interrupted(OmnisyncError):
    """The run was stopped by a signal; the in-flight requests did not finish within the grace."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class StopRequest:
    """Set once; `requested` is a plain attribute so the reader can test it per row for free."""

    def __init__(self, grace: float = 10.0) -> None:
        self.grace = grace
        self.requested = False
        self.reason = ""
        self.exit_code = ExitCode.INTERRUPTED
        self._event: asyncio.Event | None = None

    def flag(self, reason: str, exit_code: ExitCode) -> None:
        """Mark the stop without touching the loop: safe from a signal handler, which runs between
        two bytecodes of whatever runs (a transform), so the reader sees it at its next row even
        before the loop gets control back. The first reason stays."""
        if not self.requested:
            self.requested, self.reason, self.exit_code = True, reason, exit_code

    def request(self, reason: str, exit_code: ExitCode) -> None:
        """Mark the stop (if not yet flagged) and wake what waits for it; on the loop only."""
        self.flag(reason, exit_code)
        if self._event is not None:
            self._event.set()

    async def wait(self) -> None:
        if self._event is None:
            self._event = asyncio.Event()
            if self.requested:
                self._event.set()
        await self._event.wait()

    async def expire(self) -> None:
        """Raise Interrupted once a stop was requested and the grace has run out."""
        await self.wait()
        await asyncio.sleep(self.grace)
        raise Interrupted(
            f"{self.reason}: in-flight requests did not finish within {self.grace:g}s",
            self.exit_code,
        )
