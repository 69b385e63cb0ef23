"""A lease a run can prove it still holds: renewed from a thread, trusted until a local deadline.

A run paused (SIGSTOP, a stalled VM) or cut off from its store past its lease may find another run
took over; whatever it sends or stores after that overwrites newer values. So each acquisition takes
a new epoch (a fencing token) kept in the store, and the holder may act only while it can prove the
lease is its own:

- the deadline: the time a renewal was *sent* plus the lease, minus a margin, on this process's
  monotonic clock. The store judges expiry by its own clock from when the renewal *arrived* (later),
  so the holder's deadline always passes first, whatever the machines' wall clocks say;
- past the deadline (a pause, failed renewals) the holder renews before it acts, and stops with
  LeaseLost when it cannot (the store refuses the renewal of an epoch it no longer holds).

The backends (postgres.py, s3_lease.py) say how a renewal is made; sqlite.py holds an flock,
which the kernel keeps for a live process, and needs no renewal.
"""

from __future__ import annotations

import threading
import time

from engine import logging as omnilog
from engine.state.base import LeaseLost, StateError

log = omnilog.get_logger("omnisync.state")

MIN_LEASE = 3.0  # seconds: a shorter lease leaves no room for its renewals and the margin


def margin_for(ttl: float) -> float:
    """How long before the lease's end the holder stops trusting it: clock-rate drift, a store
    that keeps whole seconds (S3), the time between the proof and the request leaving."""
    return min(max(ttl * 0.25, 1.5), ttl * 0.5)


def check_lease(ttl: float, where: str) -> float:
    if ttl < MIN_LEASE:
        raise StateError(
            f"state store {where}: lease {ttl:g}s is too short (at least {MIN_LEASE:g}s)"
        )
    return ttl


class RenewedLease:
    """The deadline, the renewal thread and the proof; a backend implements _renew and _give_back."""

    def __init__(self, ttl: float, scope: str, where: str) -> None:
        self.ttl = ttl
        self.margin = margin_for(ttl)
        self.scope = scope
        self.where = where
        self.epoch = 0
        self.deadline = 0.0
        self.lost: str | None = None  # why the lease can no longer be proven
        self._guard = threading.Lock()  # one renewal at a time: the thread's or a proof's
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _renew(self) -> bool:
        """Extend the lease in the store if it still holds this epoch; False when it does not.
        Raises when the store cannot be reached."""
        raise NotImplementedError

    def _give_back(self) -> None:
        """Mark the lease free in the store (only if it still holds this epoch)."""
        raise NotImplementedError

    def held(self, sent_at: float, epoch: int) -> None:
        """Acquired with `epoch` by a request sent at `sent_at` (monotonic): start renewing."""
        self.epoch, self.deadline = epoch, sent_at + self.ttl - self.margin
        interval = (self.ttl - self.margin) / 3
        self._thread = threading.Thread(
            target=self._keep, args=(interval,), name="omnisync-lease", daemon=True
        )
        self._thread.start()

    def _keep(self, interval: float) -> None:
        while not self._stop.wait(interval) and self.lost is None:
            self._renew_now()

    def _renew_now(self) -> None:
        with self._guard:
            if self.lost is not None or self._stop.is_set():
                return
            sent = time.monotonic()
            try:
                renewed = self._renew()
            except Exception as exc:  # unreachable: the deadline runs out; a later try may work
                log.warning("state_lease_not_renewed", scope=self.scope, error=str(exc))
                return
            if renewed:
                self.deadline = sent + self.ttl - self.margin
            else:
                self._lose("another run took it over")

    def _lose(self, why: str) -> None:
        if self.lost is None:
            self.lost = why
            log.error("state_lease_lost", scope=self.scope, epoch=self.epoch, reason=why)

    def prove(self) -> None:
        if self.lost is None and time.monotonic() < self.deadline:
            return
        self._renew_now()
        if self.lost is None and time.monotonic() < self.deadline:
            return
        raise LeaseLost(
            f"state store {self.where}: this run can no longer prove it holds the lease of "
            f"{self.scope} (epoch {self.epoch}: {self.lost or 'not renewed in time'}); it stopped "
            "before sending or storing anything more. Another run may have taken over"
        )

    def release(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        with self._guard:
            if self.lost is None:
                try:
                    self._give_back()
                except Exception as exc:  # it expires on its own
                    log.warning("state_lease_not_released", scope=self.scope, error=str(exc))
