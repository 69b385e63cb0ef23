"""The SQLite backend's lock: an exclusive flock on a lock file per scope, beside the state file.

The kernel keeps an flock for as long as its holder lives, paused or not, and drops it when the
holder dies: no other run can take over a live holder's lock, so it needs no renewal. What could
still let two runs in is the lock file being deleted or replaced under the holder (a new file takes
a new flock): the proof checks that the path still names the locked file. Each acquisition also
takes a new epoch in the state file, and every write checks it (sqlite.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from pathlib import Path

from engine.state.base import LeaseLost

RECHECK = 1.0  # seconds between two checks of the lock file


def lock_path(state: Path, scope: str) -> Path:
    """`<state file>.<scope>-<hash>.lock`: readable, short (a scope may be a long path), and
    through a hash of the whole scope, one per scope."""
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", scope)[-60:]
    label = f"{readable}-{hashlib.sha256(scope.encode()).hexdigest()[:12]}"
    return state.with_name(f"{state.name}.{label}.lock")


class FileLease:
    """An exclusive flock on a lock file: the kernel drops it when the holder exits or dies."""

    def __init__(self, fd: int, path: Path, where: str) -> None:
        self._fd: int | None = fd
        self.path = path
        self.where = where
        self.scope = ""  # and these two set by the store once it took an epoch
        self.epoch = 0
        self.deadline = time.monotonic() + RECHECK

    @classmethod
    def attempt(cls, path: Path, where: str) -> FileLease | None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return cls(fd, path, where)

    def prove(self) -> None:
        """The flock is held and the path still names the locked file, or LeaseLost."""
        fd = self._fd
        try:
            same = fd is not None and os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except OSError:
            same = False
        if not same:
            raise LeaseLost(
                f"state store {self.where}: the lock file {self.path} was removed or replaced "
                f"while this run held it (epoch {self.epoch}); it stopped before sending or "
                "storing anything more. Another run may have taken over"
            )
        self.deadline = time.monotonic() + RECHECK

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
