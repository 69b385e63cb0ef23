"""SQLite digests: saves appended to a log, folded into the keyed table in sorted batches.

Key hashes are random, so a save of 4,096 digests straight into the keyed table (a B-tree) dirties
one page per key once the table outgrows the batch, and every commit writes each dirty page to the
WAL: at 1M keys a first run wrote gigabytes and spent most of its extra CPU in the kernel. A save is
instead one row of `digest_log` (its pairs in one blob, one page or two), and the pairs are also
kept in memory, per sync, where lookups find them first. When that memory holds FOLD_PAIRS pairs,
and when the store closes, the log is folded into `digests` in key order (pages touched once per
fold) and its rows deleted, in one transaction. Durability is unchanged: a save is committed as it
was (WAL, synchronous=NORMAL), only where it lands differs. A run that crashed leaves its log rows;
the next run reads them (in the order they were written, later pairs winning) before its first
lookup of the sync, and folds them with its own at its end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

from engine.crashpoints import crash_point
from engine.state.change_detection import DIGEST_BYTES, PENDING

if TYPE_CHECKING:
    import sqlite3

FOLD_PAIRS = 1 << 17  # pairs held in memory per sync at most before the log is folded (~20 MB)
_PAIR = 2 * DIGEST_BYTES
_CHUNK = 500  # keys per lookup query

LOG_TABLE = """CREATE TABLE IF NOT EXISTS digest_log (
    seq      INTEGER PRIMARY KEY,
    sync_key TEXT NOT NULL,
    pairs    BLOB NOT NULL,
    epoch    INTEGER NOT NULL DEFAULT 0
)"""
LOG_INDEX = "CREATE INDEX IF NOT EXISTS digest_log_sync ON digest_log (sync_key, seq)"

# the pairs of one blob, in key order, as rows: one statement, no Python per row
_FOLD = (
    "WITH RECURSIVE pair(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM pair WHERE n + 1 < ?4)"
    " INSERT INTO digests (sync_key, key, digest, epoch)"
    f" SELECT ?1, substr(?2, n * {_PAIR} + 1, {DIGEST_BYTES}),"
    f" substr(?2, n * {_PAIR} + {DIGEST_BYTES + 1}, {DIGEST_BYTES}), ?3 FROM pair WHERE true"
    " ON CONFLICT(sync_key, key) DO UPDATE SET digest = excluded.digest, epoch = excluded.epoch"
)

Write = Callable[[Callable[["sqlite3.Connection"], Any]], Any]
Query = Callable[[str, Sequence[Any]], "sqlite3.Cursor"]


def pairs_of(blob: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The (hashed key, digest) pairs of one log row, in the order they were saved."""
    for start in range(0, len(blob), _PAIR):
        yield blob[start : start + DIGEST_BYTES], blob[start + DIGEST_BYTES : start + _PAIR]


class DigestLog:
    """The digests of a store: the keyed table plus the log not folded into it yet."""

    def __init__(self, write: Write, query: Query, absent: Callable[[], bool]) -> None:
        self._write = write
        self._query = query
        self._absent = absent
        self._unfolded: dict[str, dict[bytes, bytes]] = {}  # sync -> its log's pairs, newest
        self._saved: set[str] = set()  # syncs this store saved to: folded when it closes

    def _log(self, sync_key: str) -> dict[bytes, bytes]:
        """The sync's pairs in the log, read once (a crashed run's saves, or none)."""
        held = self._unfolded.get(sync_key)
        if held is None:
            held = {}
            if not self._absent():
                rows = self._query(
                    "SELECT pairs FROM digest_log WHERE sync_key = ? ORDER BY seq", (sync_key,)
                )
                for (blob,) in rows.fetchall():
                    held.update(pairs_of(bytes(blob)))
            self._unfolded[sync_key] = held
        return held

    def _folded(self, sync_key: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """The keyed table's digests of these keys."""
        found: dict[bytes, bytes] = {}
        ordered = sorted(keys)  # neighbours in the index: fewer pages touched per query
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT key, digest FROM digests WHERE sync_key = ? AND key IN ({marks})",
                (sync_key, *chunk),
            )
            found.update(rows.fetchall())
        return found

    def lookup(self, sync_key: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        if self._absent():
            return {}
        held = self._log(sync_key)
        if not held:
            return self._folded(sync_key, keys)
        found = {key: held[key] for key in keys if key in held}
        rest = [key for key in keys if key not in found]
        if rest:
            found.update(self._folded(sync_key, rest))
        return found

    def save(self, sync_key: str, items: Sequence[tuple[bytes, bytes]], epoch: int) -> None:
        """One log row for all of them: committed together or not at all."""
        held = self._log(sync_key)
        blob = b"".join(chain.from_iterable(items))

        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO digest_log (sync_key, pairs, epoch) VALUES (?, ?, ?)",
                (sync_key, blob, epoch),
            )
            crash_point("digest_save")

        self._write(work)
        held.update(items)
        self._saved.add(sync_key)
        if len(held) >= FOLD_PAIRS:
            self.fold(sync_key, epoch)

    def fold(self, sync_key: str, epoch: int) -> None:
        """The sync's log into the keyed table, in key order, and its rows deleted: one step."""
        held = self._log(sync_key)
        if not held:
            return
        ordered = b"".join(chain.from_iterable(sorted(held.items())))

        def work(db: sqlite3.Connection) -> None:
            db.execute(_FOLD, (sync_key, ordered, epoch, len(held)))
            db.execute("DELETE FROM digest_log WHERE sync_key = ?", (sync_key,))

        self._write(work)
        held.clear()

    def fold_saved(self, epoch: int, recovered: bool) -> None:
        """At close: the log of every sync this store saved to, and with `recovered` (a run
        holding the lock) also the logs a crashed run left that this one read."""
        folding = set(self._saved)
        if recovered:
            folding.update(sync_key for sync_key, held in self._unfolded.items() if held)
        for sync_key in sorted(folding):
            self.fold(sync_key, epoch)
        self._saved.clear()

    def count(self, sync_key: str) -> int:
        """Keys with a digest (PENDING ones not counted), the log's pairs over the table's."""
        if self._absent():
            return 0
        row = self._query(
            "SELECT count(*) FROM digests WHERE sync_key = ? AND digest != ?", (sync_key, PENDING)
        ).fetchone()
        count = int(row[0])
        held = self._log(sync_key)
        if held:
            before = self._folded(sync_key, list(held))
            count -= sum(1 for digest in before.values() if digest != PENDING)
            count += sum(1 for digest in held.values() if digest != PENDING)
        return count

    def forget(self, sync_key: str) -> None:
        """The sync's log is no longer this store's to fold (cleared or moved away)."""
        self._unfolded.pop(sync_key, None)
        self._saved.discard(sync_key)
