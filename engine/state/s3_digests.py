"""Digests on S3: a base object plus small delta objects, mirrored in a local SQLite file.

S3 answers no "which of these 500 keys do you have": the digests of a sync are read once per run
(streamed, never held in memory) into a temporary SQLite file, which answers the lookups. Each
save appends one delta object (created with If-None-Match, so two writers cannot both write delta
N), and closing the store folds the deltas into a new base (written with If-Match on the old one),
then deletes them. Replaying a delta the base already holds is harmless: the base records the last
delta it contains and later deltas are applied in order.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from engine.crashpoints import crash_point
from engine.lazy import lazy_module
from engine.state.base import StateError
from engine.state.change_detection import DIGEST_BYTES, PENDING
from engine.state.s3_objects import Objects

if TYPE_CHECKING:
    import sqlite3
else:
    sqlite3 = lazy_module("sqlite3")  # the S3 backend's local cache, when a run opens it

_MAGIC = b"OSD1"
_PAIR = DIGEST_BYTES * 2
_CHUNK = 8192  # pairs per insert while loading


class S3Digests:
    """The digests of one sync_key."""

    def __init__(self, objects: Objects, sync_key: str, scratch: Path) -> None:
        self.objects = objects
        self.folder = objects.key("digests", sync_key) + "/"
        self.db = sqlite3.connect(scratch / "digests.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE d (key BLOB PRIMARY KEY, digest BLOB NOT NULL) WITHOUT ROWID")
        self.base_etag: str | None = None
        self.deltas: list[str] = []  # delta keys folded into the local copy, in order
        self.last = 0  # number of the last delta
        self.wrote = False  # only a writer (holding the lock) folds deltas into the base
        self._load()

    def _load(self) -> None:
        base_key = self.folder + "base"
        found = self.objects.stream(base_key)
        upto = 0
        if found is not None:
            stream, self.base_etag = found  # the version read: replaced only if unchanged
            upto = self.last = self._apply(stream, base_key)
        for key in sorted(self.objects.listing(self.folder + "delta-")):
            number = int(key.rsplit("-", 1)[1])
            if number <= upto:
                self.deltas.append(key)  # folded already; deleted at the next close
                continue
            delta = self.objects.stream(key)
            if delta is not None:
                self._apply(delta[0], key)
                self.deltas.append(key)
                self.last = max(self.last, number)

    def _apply(self, stream: IO[bytes], key: str) -> int:
        head = stream.read(len(_MAGIC) + 8)
        if len(head) != len(_MAGIC) + 8 or not head.startswith(_MAGIC):
            raise StateError(f"state store {self.objects.describe()}: {key} is corrupt")
        (upto,) = struct.unpack(">Q", head[len(_MAGIC) :])
        while chunk := stream.read(_PAIR * _CHUNK):
            if len(chunk) % _PAIR:
                raise StateError(f"state store {self.objects.describe()}: {key} is truncated")
            self._put(_pairs(chunk))
        return int(upto)

    def _put(self, pairs: Sequence[tuple[bytes, bytes]] | Iterator[tuple[bytes, bytes]]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO d (key, digest) VALUES (?, ?)", pairs)

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                self.db.execute(f"SELECT key, digest FROM d WHERE key IN ({marks})", chunk)
            )
        return found

    def save(self, items: Sequence[tuple[bytes, bytes]]) -> None:
        """One delta object (atomic: a PUT is all or nothing), then the local copy."""
        number = self.last + 1
        key = f"{self.folder}delta-{number:012d}"
        body = _MAGIC + struct.pack(">Q", number) + b"".join(k + d for k, d in items)
        crash_point("digest_save")
        self.objects.put(key, body)
        self.last = number
        self.deltas.append(key)
        self.wrote = True
        self._put(items)

    def count(self) -> int:
        row = self.db.execute("SELECT count(*) FROM d WHERE digest != ?", (PENDING,)).fetchone()
        return int(row[0])

    def clear(self) -> int:
        count = self.count()
        for key in list(self.objects.listing(self.folder)):
            self.objects.delete(key)
        self.db.execute("DELETE FROM d")
        self.deltas, self.base_etag, self.last = [], None, 0
        return count

    def compact(self, scratch: Path) -> None:
        """Fold the deltas into a new base, then delete them (a crash between is harmless)."""
        if not self.deltas or not self.wrote:
            return
        path = scratch / "base"
        with path.open("wb") as out:
            out.write(_MAGIC + struct.pack(">Q", self.last))
            for key, digest in self.db.execute("SELECT key, digest FROM d"):
                out.write(key + digest)
        with path.open("rb") as body:
            self.base_etag = self.objects.put(self.folder + "base", body, self.base_etag)
        path.unlink()
        for key in self.deltas:
            self.objects.delete(key)
        self.deltas = []

    def close(self) -> None:
        self.db.close()


def _pairs(chunk: bytes) -> Iterator[tuple[bytes, bytes]]:
    for start in range(0, len(chunk), _PAIR):
        yield chunk[start : start + DIGEST_BYTES], chunk[start + DIGEST_BYTES : start + _PAIR]


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="omnisync-digests-"))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
