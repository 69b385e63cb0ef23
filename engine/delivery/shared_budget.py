"""A limiter's grant in a rate budget shared with other processes (engine/state/budget.py).

Each shared limiter renews its member record every RENEW seconds off the event loop and keeps to
the grant the store settled: a lowered grant applies at once, a raised one once the store counted
it. The first renewal happens before the first request leaves. A store that cannot be reached
leaves the grant as it was while the lease lasts; a window before the lease would run out, the
limiter stops sending (grant 0) and says so, because the others may take its room then. At the end
the member leaves, and its room goes to the others a window later.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars

from engine import logging as omnilog
from engine.clock import Clock
from engine.delivery.lag import MAX_EXTRA
from engine.delivery.limiter import RateLimiter
from engine.state.base import StateError
from engine.state.budget import LEASE, RENEW, BudgetBoard, Table, budget_id, settle

log = omnilog.get_logger("omnisync.delivery")

SLACK = 0.5  # seconds added to a hold: a renewal's round trip and the members' clock skew


class SharedBudget:
    def __init__(
        self, board: BudgetBoard, key: str, limiter: RateLimiter, clock: Clock, member: str
    ) -> None:
        self.board = board
        self.budget = budget_id(key)
        self.limiter = limiter
        self.clock = clock
        self.member = member
        self.members = 0  # in the budget at the last renewal
        self._renewed_at: float | None = None  # when the last successful renewal started
        self._failing = False
        self._task: asyncio.Task[None] | None = None
        limiter.share(0)  # nothing leaves before the first renewal

    @property
    def hold(self) -> float:
        """How long a lowered grant still counts: the widest window this limiter may keep."""
        width = self.limiter.window.shape.width
        return width * (1.0 + self.limiter.control.max_margin + MAX_EXTRA) + SLACK

    def start(self) -> None:
        # its own context: it serves every sync of the budget, its logs name none of them
        self._task = asyncio.create_task(self._keep(), context=contextvars.Context())

    async def _keep(self) -> None:
        while True:
            await self.renew()
            await self.clock.sleep(RENEW)

    async def renew(self) -> None:
        started = self.clock.now()
        cap, hold = self.limiter.cap, self.hold

        def change(table: Table, now: float) -> tuple[Table, int]:
            after, grant = settle(table, self.member, cap, now, hold)
            self.members = len(after)
            return after, grant

        try:
            grant = await asyncio.to_thread(self.board.apply, self.budget, change)
        except StateError as exc:
            self._unreachable(exc, started)
            return
        self._renewed_at, self._failing = started, False
        # the store counts this member until `started + LEASE` at the earliest: its requests
        # stop a window before, whatever becomes of the next renewals
        self.limiter.valid_until = started + LEASE - 2 * self.hold
        if grant != self.limiter.grant:
            log.info(
                "budget_share",
                budget=self.limiter.budget,
                members=self.members,
                grant=grant,
                cap=cap,
            )
        self.limiter.share(grant)

    def _unreachable(self, exc: StateError, started: float) -> None:
        if not self._failing:
            log.warning("budget_renewal_failed", budget=self.limiter.budget, error=str(exc))
            self._failing = True
        if self.limiter.grant and started >= self.limiter.valid_until:
            log.error(
                "budget_lease_lost",
                budget=self.limiter.budget,
                message="the shared budget cannot be renewed: sending paused until it can",
            )
            self.limiter.share(0)

    async def stop(self) -> None:
        """Leave the budget: its room goes to the others once this member's window passed."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.limiter.share(0)
        hold = self.hold
        try:
            await asyncio.to_thread(
                self.board.apply,
                self.budget,
                lambda table, now: settle(table, self.member, self.limiter.cap, now, hold, True),
            )
        except StateError as exc:  # its lease runs out on its own
            log.warning("budget_leave_failed", budget=self.limiter.budget, error=str(exc))
