"""A lock on S3: a lease object created with If-None-Match, renewed with If-Match, taken over only
once it expired by the store's own clock.

The object holds the holder, its epoch (one more at each acquisition: it is never deleted, a
release marks it free) and the lease's length. Expiry is judged from the object's LastModified and
the Date of the answer, both the store's clock, so a machine whose wall clock runs ahead never takes
a live lease; the holder trusts its lease until its own deadline (fencing.py), which passes first.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from typing import Any

from engine import logging as omnilog
from engine.state.fencing import RenewedLease
from engine.state.s3_objects import Conflict, Objects

log = omnilog.get_logger("omnisync.state")


class S3Lease(RenewedLease):
    def __init__(self, objects: Objects, key: str, ttl: float, scope: str = "") -> None:
        super().__init__(ttl, scope or key, objects.describe())
        self.objects = objects
        self.key = key
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._etag: str | None = None
        self.holder = "another run"  # who held it at the last refused attempt

    def _body(self, epoch: int, released: bool = False) -> bytes:
        document = {"owner": self.owner, "epoch": epoch, "lease": self.ttl, "released": released}
        return json.dumps(document).encode()

    def attempt(self) -> S3Lease | None:
        """Take the lease if it is free, released or expired; None when a live holder has it."""
        sent = time.monotonic()
        try:
            self._etag = self.objects.put(self.key, self._body(1))
            epoch = 1
        except Conflict:
            found = self.objects.get_stamped(self.key)
            if found is None:
                return None  # deleted meanwhile (an older omnisync's release): the next attempt
            body, etag, written, now = found
            held = _parse(body)
            if not _free(held, written, now):
                self.holder = f"run {held.get('owner', '?')}"
                return None
            epoch = _epoch(held) + 1
            sent = time.monotonic()
            try:
                self._etag = self.objects.put(self.key, self._body(epoch), etag)
            except Conflict:
                return None
            if not held.get("released"):
                log.warning("state_lease_taken_over", previous=held.get("owner"), key=self.key)
        self.held(sent, epoch)
        return self

    def _renew(self) -> bool:
        try:
            self._etag = self.objects.put(self.key, self._body(self.epoch), self._etag)
        except Conflict:
            return False
        return True

    def _give_back(self) -> None:
        with contextlib.suppress(Conflict):  # taken over meanwhile: not ours to free
            self._etag = self.objects.put(self.key, self._body(self.epoch, True), self._etag)


def _parse(body: bytes) -> dict[str, Any]:
    try:
        held = json.loads(body)
    except ValueError:
        return {}
    return held if isinstance(held, dict) else {}  # an unreadable lease protects nothing


def _epoch(held: dict[str, Any]) -> int:
    epoch = held.get("epoch")
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else 0


def _free(held: dict[str, Any], written: float, now: float | None) -> bool:
    """Released, or expired by the store's clock (LastModified + lease < the answer's Date)."""
    if not held or held.get("released"):
        return True
    lease = held.get("lease")
    if isinstance(lease, int | float) and not isinstance(lease, bool):
        return written + float(lease) < (now if now is not None else time.time())
    try:  # written by an older omnisync: its own wall clock's expiry
        return float(held["expires"]) < time.time()
    except (KeyError, TypeError, ValueError):
        return True
