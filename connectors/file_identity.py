"""Which file a stored position was counted in: its size, modification time and content hash.

A position (path, line) only means something in the file it was read from. A file replaced
between a crash and its rerun (an export written again, rows inserted at the top) must not be
resumed by line number: the rows before the stored line are no longer the rows that were sent.
The identity is taken when the file is opened for reading; a file that only grew at its end
(its first `size` bytes hash the same) still resumes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

DIGEST_CHARS = 32  # 128 bits of SHA-256: enough to tell files apart, short in the state store


@dataclass(frozen=True)
class FileIdentity:
    size: int
    mtime_ns: int
    digest: str  # of the first `size` bytes

    def as_position(self) -> tuple[int, int, str]:
        return (self.size, self.mtime_ns, self.digest)

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        stat = path.stat()
        with path.open("rb") as handle:
            digest = _digest(handle, stat.st_size)
        return cls(stat.st_size, stat.st_mtime_ns, digest)


def still_same(path: Path, stored: tuple[object, ...]) -> str | None:
    """None when `path` is the file `stored` (size, mtime_ns, digest) names, or only grew; else why not."""
    if len(stored) != 3:  # stored before positions held the identity: trusted as before
        return None
    size, mtime_ns, digest = stored
    if not path.exists():
        return "the file is gone"
    stat = path.stat()
    if stat.st_size == size and stat.st_mtime_ns == mtime_ns:
        return None
    if not isinstance(size, int) or stat.st_size < size:
        return f"the file shrank from {size} to {stat.st_size} bytes"
    with path.open("rb") as handle:
        if _digest(handle, size) == digest:
            return None
    return "its content before the stored position changed"


def _digest(handle: IO[bytes], size: int) -> str:
    hasher = hashlib.sha256()
    left = size
    while left > 0:
        chunk = handle.read(min(left, 1 << 20))
        if not chunk:
            break
        hasher.update(chunk)
        left -= len(chunk)
    return hasher.hexdigest()[:DIGEST_CHARS]
