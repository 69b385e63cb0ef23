"""Digests on S3: a base object plus small delta objects, mirrored in a local SQLite file.

S3 answers no "which of these 500 keys do you have": the digests of a sync are read once per run
(streamed, never held in memory) into a temporary SQLite file, which answers the lookups. Each
save appends one delta object (created with If-None-Match, so two writers cannot both write delta
N), and closing the store folds the deltas into a new base (written with If-Match on the old one),
then deletes them. Replaying a delta the base already holds is harmless: the base records the last
delta it contains and later deltas are applied in order.

Each object carries the lease epoch of the run that wrote it (fencing.py). A delta of an older
epoch than one already applied was written late by a run that had lost its lease while a newer
holder wrote: it is ignored, so a stalled run's old values never override the newer digests.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from engine import logging as omnilog
from engine.crashpoints import crash_point
from engine.lazy import lazy_module
from engine.state.base import StateError
from engine.state.change_detection import DIGEST_BYTES, PENDING
from engine.state.s3_objects import Objects

if TYPE_CHECKING:
    import sqlite3
else:
    sqlite3 = lazy_module("sqlite3")  # the S3 backend's local cache, when a run opens it

log = omnilog.get_logger("omnisync.state")
_MAGIC = b"OSD2"  # then the last delta folded in (8 bytes) and the writer's epoch (8 bytes)
_FORMER = b"OSD1"  # no epoch: written before epochs (0)
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
        self.epoch = 0  # the newest epoch applied: an older delta after it is a stale write
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
        if len(head) != len(_MAGIC) + 8 or head[: len(_MAGIC)] not in (_MAGIC, _FORMER):
            raise StateError(f"state store {self.objects.describe()}: {key} is corrupt")
        (upto,) = struct.unpack(">Q", head[len(_MAGIC) :])
        epoch = 0
        if head.startswith(_MAGIC):
            stamp = stream.read(8)
            if len(stamp) != 8:
                raise StateError(f"state store {self.objects.describe()}: {key} is corrupt")
            (epoch,) = struct.unpack(">Q", stamp)
        if epoch < self.epoch:
            log.warning("state_stale_write_ignored", key=key, epoch=epoch, newer=self.epoch)
            return int(upto)
        self.epoch = epoch
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

    def save(self, items: Sequence[tuple[bytes, bytes]], epoch: int = 0) -> None:
        """One delta object (atomic: a PUT is all or nothing), then the local copy."""
        number = self.last + 1
        key = f"{self.folder}delta-{number:012d}"
        head = _MAGIC + struct.pack(">QQ", number, epoch)
        body = head + b"".join(k + d for k, d in items)
        crash_point("digest_save")
        self.objects.put(key, body)
        self.last, self.epoch = number, max(self.epoch, epoch)
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

    def compact(self, scratch: Path, epoch: int = 0) -> None:
        """Fold the deltas into a new base, then delete them (a crash between is harmless)."""
        if not self.deltas or not self.wrote:
            return
        path = scratch / "base"
        with path.open("wb") as out:
            out.write(_MAGIC + struct.pack(">QQ", self.last, max(epoch, self.epoch)))
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
