"""The default state backend: one SQLite file (WAL), `.omnisync/state.db` beside the spec.

Saves are a single-row upsert in autocommit mode with synchronous=NORMAL: in WAL that survives a
process crash (SIGKILL, OOM) and costs tens of microseconds, so the engine can save a few times a
second without slowing delivery. A power loss may lose the last saves; the run then resumes a
little earlier, which at-least-once delivery tolerates. The file's `user_version` is the schema
version; a file written by a newer omnisync is refused. Record digests are saved to a log and
folded into their keyed table in sorted batches (sqlite_digests.py). The lock is an flock per scope beside the
file (sqlite_lease.py), which the kernel releases when its holder dies; each acquisition takes a new
epoch in the `leases` table, and every write is made in a transaction that first checks the store
still holds this run's epoch (a write of a run that lost its lock is refused, LeaseLost).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from engine import logging as omnilog
from engine.crashpoints import crash_point
from engine.lazy import lazy_module
from engine.rows import Position
from engine.state.base import (
    COMMON_OPTIONS,
    SCHEMA_VERSION,
    LeaseLost,
    StateContext,
    StateError,
    StoredPosition,
)
from engine.state.budget_sqlite import SqliteBudgets
from engine.state.codec import encode_position
from engine.state.lock import wait_for
from engine.state.sqlite_digests import LOG_INDEX, LOG_TABLE, DigestLog
from engine.state.sqlite_lease import FileLease, lock_path
from engine.state.stored import stored_position
from engine.state.triggers import SqlTriggers, trigger_crash

if TYPE_CHECKING:
    import sqlite3

    from engine.state.ledger_sql import SqlLedger
else:  # when a run opens the store, not when a spec is checked
    sqlite3 = lazy_module("sqlite3")

T = TypeVar("T")
log = omnilog.get_logger("omnisync.state")
DEFAULT_PATH = ".omnisync/state.db"
_CACHE_KIB = 16384  # page cache per connection (memory is taken only as pages are read)
_CHECKPOINT_PAGES = 4000  # WAL pages between automatic checkpoints (16 MB at 4 KiB pages)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS positions (
    sync_key    TEXT PRIMARY KEY,
    position    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    saved_at    TEXT NOT NULL,
    location    TEXT NOT NULL,
    epoch       INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE IF NOT EXISTS digests (
    sync_key TEXT NOT NULL,
    key      BLOB NOT NULL,
    digest   BLOB NOT NULL,
    epoch    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sync_key, key)
) WITHOUT ROWID""",
    LOG_TABLE,
    LOG_INDEX,
    """CREATE TABLE IF NOT EXISTS triggers (
    scope TEXT NOT NULL,
    key   BLOB NOT NULL,
    state TEXT NOT NULL,
    at    REAL NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS leases (
    scope    TEXT PRIMARY KEY,
    epoch    INTEGER NOT NULL,
    owner    TEXT NOT NULL,
    taken_at TEXT NOT NULL
)""",
)
_EPOCH_COLUMNS = ("positions", "digests")  # added to a schema-1 file


class SqliteStateStore:
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "description": f"SQLite file; relative to the spec (default {DEFAULT_PATH})",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "seconds to wait for another run holding the file (default 10)",
            },
            **COMMON_OPTIONS,
        },
    }

    def __init__(self, config: Mapping[str, Any], context: StateContext) -> None:
        path = Path(str(config.get("path") or DEFAULT_PATH))
        self.path = path if path.is_absolute() else context.spec_dir / path
        self.timeout = float(config.get("timeout", 10.0))
        self._db: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None  # (device, inode) of the file opened
        self._lease: FileLease | None = None  # held by this run: every write checks its epoch
        self._digests = DigestLog(self._write, self._execute, self._absent)  # sqlite_digests.py

    def _connection(self) -> sqlite3.Connection:
        """Opened on first use, so `state show` on a spec never run creates nothing."""
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                # lookups land on random pages: a cache that holds the hot part of the index, and
                # checkpoints (the only fsyncs of WAL + NORMAL) every 16 MB, not every 4 MB; saves
                # go to a log first (sqlite_digests.py)
                db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
                db.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    db.close()
                    raise StateError(
                        f"state store {self.path} was written by a newer omnisync (schema "
                        f"{version}, this one knows {SCHEMA_VERSION}); upgrade, or use another path"
                    )
                for statement in _SCHEMA:
                    db.execute(statement)
                if version < SCHEMA_VERSION:
                    _upgrade(db)
                self._file = _identity(self.path)
            except (OSError, sqlite3.Error) as exc:
                raise StateError(f"state store {self.path}: {exc}") from None
            self._db = db
        else:
            self._check_file()
        return self._db

    def _check_file(self) -> None:
        """SQLite goes on writing to a file removed under it, and the next run finds nothing: a
        file removed or replaced while this run holds it is a failure, said at the next call."""
        try:
            same = _identity(self.path) == self._file
        except OSError:
            same = False
        if not same:
            raise StateError(
                f"state store {self.path}: the file was removed or replaced during the run; "
                "what this run saved since then is lost"
            )

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._connection().execute(sql, args)
        except sqlite3.Error as exc:
            raise StateError(f"state store {self.path}: {exc}") from None

    def _absent(self) -> bool:
        return self._db is None and not self.path.exists()

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """One transaction, begun as the writer, refused unless this run still holds its lease."""
        db = self._connection()
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                lease = self._lease
                if lease is not None:
                    lease.prove()
                    row = db.execute(
                        "SELECT epoch FROM leases WHERE scope = ?", (lease.scope,)
                    ).fetchone()
                    if row is None or row[0] != lease.epoch:
                        raise _stale(self.path, lease, row[0] if row else None)
                return work(db)
        except sqlite3.Error as exc:
            raise StateError(f"state store {self.path}: {exc}") from None

    @property
    def epoch(self) -> int:
        return self._lease.epoch if self._lease is not None else 0

    def load(self, sync_key: str) -> StoredPosition | None:
        if self._absent():
            return None
        rows = self._execute(
            "SELECT sync_key, position, fingerprint, saved_at, location"
            " FROM positions WHERE sync_key = ?",
            (sync_key,),
        ).fetchall()
        return stored_position(*rows[0]) if rows else None

    def save(self, sync_key: str, position: Position, fingerprint: str, where: str) -> None:
        text = encode_position(position)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")

        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO positions (sync_key, position, fingerprint, saved_at, location, epoch)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(sync_key) DO UPDATE SET"
                " position = excluded.position, fingerprint = excluded.fingerprint,"
                " saved_at = excluded.saved_at, location = excluded.location,"
                " epoch = excluded.epoch",
                (sync_key, text, fingerprint, now, where, self.epoch),
            )
            crash_point("state_write")

        self._write(work)

    def clear(self, sync_key: str) -> bool:
        if self._absent():
            return False
        return self._write(
            lambda db: (
                db.execute("DELETE FROM positions WHERE sync_key = ?", (sync_key,)).rowcount > 0
            )
        )

    def entries(self, prefix: str = "") -> list[StoredPosition]:
        if self._absent():
            return []
        rows = self._execute(
            "SELECT sync_key, position, fingerprint, saved_at, location FROM positions"
            " WHERE substr(sync_key, 1, ?) = ? ORDER BY sync_key",
            (len(prefix), prefix),
        ).fetchall()
        return [stored_position(*row) for row in rows]

    def lock(self, scope: str, timeout: float) -> FileLease:
        self._lease = None  # a store holds one lease: the one it takes now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        path = lock_path(self.path, scope)
        lease = wait_for(
            lambda: FileLease.attempt(path, str(self.path)),
            timeout,
            scope,
            str(self.path),
            lambda: "a run",
        )
        lease.scope = scope
        try:
            lease.epoch = self._write(lambda db: _take_epoch(db, scope))
        except BaseException:
            lease.release()
            raise
        self._lease = lease
        return lease

    def lookup_digests(self, sync_key: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        return self._digests.lookup(sync_key, keys)

    def save_digests(self, sync_key: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        self._digests.save(sync_key, items, self.epoch)

    def clear_digests(self, sync_key: str) -> int:
        if self._absent():
            return 0
        self._digests.fold(sync_key, self.epoch)  # then one table holds them all
        self._digests.forget(sync_key)
        return self._write(
            lambda db: db.execute("DELETE FROM digests WHERE sync_key = ?", (sync_key,)).rowcount
        )

    def count_digests(self, sync_key: str) -> int:
        return self._digests.count(sync_key)

    def budgets(self) -> SqliteBudgets:
        """Where the rate budgets shared with other runs live (engine/state/budget.py)."""
        return SqliteBudgets(self.path, self.timeout)

    def move(self, old_key: str, new_key: str) -> tuple[bool, int]:
        if self._absent():
            return False, 0
        for key in (old_key, new_key):  # then the keyed table holds all of both
            self._digests.fold(key, self.epoch)
            self._digests.forget(key)

        def work(db: sqlite3.Connection) -> tuple[bool, int]:  # all of it moves, or nothing
            taken = db.execute(
                "SELECT 1 FROM positions WHERE sync_key = ?"
                " UNION ALL SELECT 1 FROM digests WHERE sync_key = ? LIMIT 1",
                (new_key, new_key),
            ).fetchall()
            if taken:
                return False, 0
            moved = db.execute(
                "UPDATE positions SET sync_key = ? WHERE sync_key = ?", (new_key, old_key)
            ).rowcount
            digests = db.execute(
                "UPDATE digests SET sync_key = ? WHERE sync_key = ?", (new_key, old_key)
            ).rowcount
            return moved > 0, digests

        return self._write(work)

    def describe(self) -> str:
        return str(self.path)

    def triggers(self) -> SqlTriggers:
        """Trigger marks (engine/state/triggers.py), in this same file, fenced like every write."""

        def write(sql: str, rows: Sequence[Sequence[Any]], crash: str | None) -> int:
            def work(db: sqlite3.Connection) -> int:
                count = db.executemany(sql, rows).rowcount
                trigger_crash(crash)
                return count

            return self._write(work)

        def query(sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
            return list(self._execute(sql, args).fetchall())

        return SqlTriggers("triggers", write, query, lambda: self.epoch, "?", self._absent)

    def ledger(self) -> SqlLedger:
        """Run history and the record ledger, in this same file (engine/state/ledger_sql.py)."""
        from engine.state.ledger_sql import SqlLedger

        return SqlLedger(self._connection, "history_", self.describe(), self._absent)

    def close(self) -> None:
        """Fold the digest logs this run saved to or read under its lock (sqlite_digests.py), then
        close the file; a run that lost its lock leaves its log rows for the next holder."""
        try:
            if self._db is not None:
                self._digests.fold_saved(self.epoch, recovered=self._lease is not None)
        except LeaseLost as lost:
            log.warning("digest_log_left", message=f"{lost}; the next run folds its digest log")
        finally:
            self._digests = DigestLog(self._write, self._execute, self._absent)
            if self._db is not None:
                self._db.close()
                self._db = None


def _identity(path: Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino


def _upgrade(db: sqlite3.Connection) -> None:
    """A file of an older schema: the epoch columns added, then the version."""
    for table in _EPOCH_COLUMNS:
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if "epoch" not in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _take_epoch(db: sqlite3.Connection, scope: str) -> int:
    """One more than the scope's last epoch: this acquisition's fencing token."""
    import socket  # here: loading the state plugins (every command does) must stay cheap

    row = db.execute(
        "INSERT INTO leases (scope, epoch, owner, taken_at) VALUES (?, 1, ?, ?)"
        " ON CONFLICT(scope) DO UPDATE SET epoch = epoch + 1, owner = excluded.owner,"
        " taken_at = excluded.taken_at RETURNING epoch",
        (scope, f"{socket.gethostname()}:{os.getpid()}", dt.datetime.now(dt.UTC).isoformat()),
    ).fetchone()
    return int(row[0])


def _stale(path: Path, lease: FileLease, stored: int | None) -> LeaseLost:
    return LeaseLost(
        f"state store {path}: another run took the lock of {lease.scope} (epoch {stored}, this "
        f"run's {lease.epoch}); this run stopped before sending or storing anything more"
    )
