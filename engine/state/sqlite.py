"""The default state backend: one SQLite file (WAL), `.omnisync/state.db` beside the spec.

Saves are a single-row upsert in autocommit mode with synchronous=NORMAL: in WAL that survives a
process crash (SIGKILL, OOM) and costs tens of microseconds, so the engine can save a few times a
second without slowing delivery. A power loss may lose the last saves; the run then resumes a
little earlier, which at-least-once delivery tolerates. The file's `user_version` is the schema
version; a file written by a newer omnisync is refused. The lock is an flock on `state.db.<spec>.lock`,
which the kernel releases when its holder dies.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from engine.crashpoints import crash_point
from engine.lazy import lazy_module
from engine.rows import Position
from engine.state.base import (
    COMMON_OPTIONS,
    SCHEMA_VERSION,
    StateContext,
    StateError,
    StoredPosition,
)
from engine.state.codec import encode_position
from engine.state.lock import wait_for
from engine.state.stored import stored_position

if TYPE_CHECKING:
    import sqlite3

    from engine.state.ledger_sql import SqlLedger
else:  # when a run opens the store, not when a spec is checked
    sqlite3 = lazy_module("sqlite3")

DEFAULT_PATH = ".omnisync/state.db"
_CHUNK = 500  # keys per lookup query

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS positions (
    sync_key    TEXT PRIMARY KEY,
    position    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    saved_at    TEXT NOT NULL,
    location    TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS digests (
    sync_key TEXT NOT NULL,
    key      BLOB NOT NULL,
    digest   BLOB NOT NULL,
    PRIMARY KEY (sync_key, key)
) WITHOUT ROWID""",
)


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

    def _connection(self) -> sqlite3.Connection:
        """Opened on first use, so `state show` on a spec never run creates nothing."""
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
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
                    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
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
        db = self._connection()
        try:
            with db:
                db.execute("BEGIN")
                db.execute(
                    "INSERT INTO positions (sync_key, position, fingerprint, saved_at, location)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT(sync_key) DO UPDATE SET"
                    " position = excluded.position, fingerprint = excluded.fingerprint,"
                    " saved_at = excluded.saved_at, location = excluded.location",
                    (sync_key, text, fingerprint, now, where),
                )
                crash_point("state_write")
        except sqlite3.Error as exc:
            raise StateError(f"state store {self.path}: {exc}") from None

    def clear(self, sync_key: str) -> bool:
        if self._absent():
            return False
        return self._execute("DELETE FROM positions WHERE sync_key = ?", (sync_key,)).rowcount > 0

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", scope)
        lock_path = self.path.with_name(f"{self.path.name}.{safe}.lock")
        return wait_for(
            lambda: FileLease.attempt(lock_path), timeout, scope, str(self.path), lambda: "a run"
        )

    def lookup_digests(self, sync_key: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        if self._absent():
            return {}
        found: dict[bytes, bytes] = {}
        ordered = sorted(keys)  # neighbours in the index: fewer pages touched per query
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._execute(
                f"SELECT key, digest FROM digests WHERE sync_key = ? AND key IN ({marks})",
                (sync_key, *chunk),
            )
            found.update(rows.fetchall())
        return found

    def save_digests(self, sync_key: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        db = self._connection()
        try:
            with db:  # one transaction: all of them or none
                db.execute("BEGIN")
                db.executemany(
                    "INSERT INTO digests (sync_key, key, digest) VALUES (?, ?, ?)"
                    " ON CONFLICT(sync_key, key) DO UPDATE SET digest = excluded.digest",
                    [(sync_key, key, digest) for key, digest in items],
                )
                crash_point("digest_save")
        except sqlite3.Error as exc:
            raise StateError(f"state store {self.path}: {exc}") from None

    def clear_digests(self, sync_key: str) -> int:
        if self._absent():
            return 0
        return self._execute("DELETE FROM digests WHERE sync_key = ?", (sync_key,)).rowcount

    def count_digests(self, sync_key: str) -> int:
        if self._absent():
            return 0
        row = self._execute("SELECT count(*) FROM digests WHERE sync_key = ?", (sync_key,))
        return int(row.fetchone()[0])

    def describe(self) -> str:
        return str(self.path)

    def ledger(self) -> SqlLedger:
        """Run history and the record ledger, in this same file (engine/state/ledger_sql.py)."""
        from engine.state.ledger_sql import SqlLedger

        return SqlLedger(self._connection, "history_", self.describe(), self._absent)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _identity(path: Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino


class FileLease:
    """An exclusive flock on a lock file: the kernel drops it when the holder exits or dies."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def attempt(cls, path: Path) -> FileLease | None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return cls(fd)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
