"""A lock on S3: a lease object created with If-None-Match, renewed with If-Match, taken over
only once it expired. A crashed holder's lease expires after `ttl`; a live one renews it every
ttl/3 from a background thread, so a long run keeps it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid

from engine import logging as omnilog
from engine.state.s3_objects import Conflict, Objects

log = omnilog.get_logger("omnisync.state")


class S3Lease:
    def __init__(self, objects: Objects, key: str, ttl: float) -> None:
        self.objects = objects
        self.key = key
        self.ttl = ttl
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._etag: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.holder = "another run"  # who held it at the last refused attempt
        self.lost = False

    def _body(self) -> bytes:
        return json.dumps({"owner": self.owner, "expires": time.time() + self.ttl}).encode()

    def attempt(self) -> S3Lease | None:
        """Take the lease if it is free or expired; None when a live holder has it."""
        try:
            self._etag = self.objects.put(self.key, self._body())
        except Conflict:
            current = self.objects.get(self.key)
            if current is None:
                return None  # released meanwhile: the next attempt creates it
            body, etag = current
            try:
                held = json.loads(body)
                expires, self.holder = float(held["expires"]), f"run {held['owner']}"
            except (ValueError, KeyError, TypeError):
                expires = 0.0  # an unreadable lease protects nothing
            if expires > time.time():
                return None
            try:
                self._etag = self.objects.put(self.key, self._body(), etag)
            except Conflict:
                return None
            log.warning("state_lease_taken_over", previous=self.holder, key=self.key)
        self._thread = threading.Thread(target=self._renew, name="omnisync-lease", daemon=True)
        self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self._etag = self.objects.put(self.key, self._body(), self._etag)
            except Exception as exc:  # lost or unreachable: say so, the next write conflicts
                self.lost = True
                log.error("state_lease_lost", key=self.key, error=str(exc))
                return

    def release(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        if not self.lost:
            with contextlib.suppress(Conflict):  # taken over meanwhile: not ours to delete
                self.objects.delete(self.key, self._etag)
