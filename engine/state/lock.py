"""Waiting for a lock another run holds: poll with a growing pause, then stop with a clear message."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from engine import logging as omnilog
from engine.state.base import StateLocked

log = omnilog.get_logger("omnisync.state")

T = TypeVar("T")


def wait_for(
    attempt: Callable[[], T | None],
    timeout: float,
    scope: str,
    where: str,
    holder: Callable[[], str] = lambda: "another run",
) -> T:
    """attempt() until it returns the lock, or raise StateLocked after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pause = 0.05
    waiting = False
    while True:
        got = attempt()
        if got is not None:
            if waiting:
                log.info("state_lock_acquired", scope=scope)
            return got
        left = deadline - time.monotonic()
        if left <= 0:
            raise StateLocked(
                f"{holder()} of {scope} holds the state lock in {where}; waited {timeout:g} s "
                "(state: lock_timeout) and stopped without reading or sending anything"
            )
        if not waiting:
            waiting = True
            log.warning(
                "state_lock_wait",
                scope=scope,
                message=f"{holder()} holds the state lock; waiting up to {timeout:g} s",
            )
        time.sleep(min(pause, left))
        pause = min(pause * 2, 1.0)
