"""State in a PostgreSQL table, for runs that keep no disk (CI): `state: {backend: postgres, url: ...}`.

Two tables, `<table>` (one row per sync: position, fingerprint, schema version) and
`<table>_digests` (hashed key -> digest), created on first use. Every write is one statement or
one transaction in autocommit mode, so it is atomic. The lock is a session-level advisory lock on a
connection of its own: the server drops it when the holder's connection ends, crash included.
psycopg is imported only when this backend is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from engine.crashpoints import crash_point
from engine.rows import Position
from engine.state.base import (
    COMMON_OPTIONS,
    SCHEMA_VERSION,
    StateContext,
    StateError,
    StoredPosition,
)
from engine.state.codec import encode_position
from engine.state.fingerprint import MASK
from engine.state.lock import wait_for
from engine.state.stored import stored_position

if TYPE_CHECKING:
    import psycopg

    from engine.state.ledger_sql import PostgresLedger

DEFAULT_TABLE = "omnisync_state"
_DRIVER = re.compile(r"^postgres(?:ql)?(?:\+[a-z0-9]+)?://", re.IGNORECASE)
_PASSWORD = re.compile(r"(?P<head>://[^:/@\s]*):[^@/\s]*@")


class PostgresStateStore:
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "type": "string",
                "pattern": _DRIVER.pattern,
                "description": "postgresql://user:password@host:5432/database (use ${STATE_DB})",
            },
            "table": {
                "type": "string",
                "pattern": "^[a-z_][a-z0-9_]{0,50}$",
                "description": f"table name (default {DEFAULT_TABLE}; digests in <table>_digests)",
            },
            **COMMON_OPTIONS,
        },
    }

    def __init__(self, config: Mapping[str, Any], context: StateContext) -> None:
        self.url = _DRIVER.sub("postgresql://", str(config["url"]))
        self.table = str(config.get("table") or DEFAULT_TABLE)
        self._db: psycopg.Connection[Any] | None = None

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg

        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StateError(f"state store {self.describe()}: {_first_line(exc)}") from None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._db is None:
            db = self._connect()
            self._run(db, self._create)
            self._db = db
        return self._db

    def _create(self, db: psycopg.Connection[Any]) -> None:
        from psycopg import sql

        positions, digests = sql.Identifier(self.table), sql.Identifier(self.table + "_digests")
        with db.transaction():  # concurrent first runs: one creates, the others wait for it
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id(self.table, ""),))
            db.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (sync_key text PRIMARY KEY,"
                    " schema_version integer NOT NULL, position text NOT NULL,"
                    " fingerprint text NOT NULL, saved_at timestamptz NOT NULL,"
                    " location text NOT NULL)"
                ).format(positions)
            )
            db.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (sync_key text NOT NULL, key bytea NOT NULL,"
                    " digest bytea NOT NULL, PRIMARY KEY (sync_key, key))"
                ).format(digests)
            )

    def _run(self, db: psycopg.Connection[Any], action: Any) -> Any:
        import psycopg

        try:
            return action(db)
        except psycopg.Error as exc:
            raise StateError(f"state store {self.describe()}: {_first_line(exc)}") from None

    def _query(
        self, text: str, args: Sequence[Any] = (), crash: str | None = None
    ) -> list[tuple[Any, ...]]:
        """One statement, atomic; `crash` names the test-only crash point before its commit."""
        from psycopg import sql

        statement = sql.SQL(text).format(
            positions=sql.Identifier(self.table), digests=sql.Identifier(self.table + "_digests")
        )

        def run(db: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
            if crash is None:
                cursor = db.execute(statement, args)
                return cursor.fetchall() if cursor.description else [(cursor.rowcount,)]
            with db.transaction():
                cursor = db.execute(statement, args)
                crash_point(crash)
            return [(cursor.rowcount,)]

        rows: list[tuple[Any, ...]] = self._run(self._connection(), run)
        return rows

    def load(self, sync_key: str) -> StoredPosition | None:
        rows = self._query(
            "SELECT sync_key, position, fingerprint, saved_at, location, schema_version"
            " FROM {positions} WHERE sync_key = %s",
            (sync_key,),
        )
        return stored_position(*rows[0]) if rows else None

    def save(self, sync_key: str, position: Position, fingerprint: str, where: str) -> None:
        text = encode_position(position)
        self._query(
            "INSERT INTO {positions} (sync_key, schema_version, position, fingerprint, saved_at,"
            " location) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (sync_key) DO UPDATE SET"
            " schema_version = excluded.schema_version, position = excluded.position,"
            " fingerprint = excluded.fingerprint, saved_at = excluded.saved_at,"
            " location = excluded.location",
            (sync_key, SCHEMA_VERSION, text, fingerprint, dt.datetime.now(dt.UTC), where),
            crash="state_write",
        )

    def clear(self, sync_key: str) -> bool:
        rows = self._query("DELETE FROM {positions} WHERE sync_key = %s", (sync_key,))
        return bool(rows[0][0])

    def entries(self, prefix: str = "") -> list[StoredPosition]:
        rows = self._query(
            "SELECT sync_key, position, fingerprint, saved_at, location, schema_version"
            " FROM {positions} WHERE left(sync_key, %s) = %s ORDER BY sync_key",
            (len(prefix), prefix),
        )
        return [stored_position(*row) for row in rows]

    def lock(self, scope: str, timeout: float) -> AdvisoryLease:
        self._connection()  # the tables exist before anyone waits
        db = self._connect()
        key = _lock_id(self.table, scope)

        def attempt() -> AdvisoryLease | None:
            row = self._run(db, lambda c: c.execute("SELECT pg_try_advisory_lock(%s)", (key,)))
            return AdvisoryLease(db, key) if row.fetchone()[0] else None

        try:
            return wait_for(attempt, timeout, scope, self.describe(), lambda: "a run")
        except BaseException:
            db.close()
            raise

    def lookup_digests(self, sync_key: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        if not keys:
            return {}
        rows = self._query(
            "SELECT key, digest FROM {digests} WHERE sync_key = %s AND key = ANY(%s)",
            (sync_key, list(keys)),
        )
        return {bytes(key): bytes(digest) for key, digest in rows}

    def save_digests(self, sync_key: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        if not items:
            return
        latest = dict(items)  # a key twice in one statement would fail: its last digest
        # one statement: atomic, and one round trip however many digests
        self._query(
            "INSERT INTO {digests} (sync_key, key, digest)"
            " SELECT %s, k, d FROM unnest(%s::bytea[], %s::bytea[]) AS t(k, d)"
            " ON CONFLICT (sync_key, key) DO UPDATE SET digest = excluded.digest",
            (sync_key, list(latest), list(latest.values())),
            crash="digest_save",
        )

    def clear_digests(self, sync_key: str) -> int:
        return int(self._query("DELETE FROM {digests} WHERE sync_key = %s", (sync_key,))[0][0])

    def count_digests(self, sync_key: str) -> int:
        rows = self._query("SELECT count(*) FROM {digests} WHERE sync_key = %s", (sync_key,))
        return int(rows[0][0])

    def ledger(self) -> PostgresLedger:
        """Run history and the record ledger, in tables beside this one (ledger_sql.py)."""
        from engine.state.ledger_sql import PostgresLedger

        return PostgresLedger(self._connection, self.table + "_", self.describe())

    def describe(self) -> str:
        url = _PASSWORD.sub(r"\g<head>:" + MASK + "@", self.url)
        return f"{url} (table {self.table})"

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class AdvisoryLease:
    """A session advisory lock, held by a connection of its own."""

    def __init__(self, db: psycopg.Connection[Any], key: int) -> None:
        self._db: psycopg.Connection[Any] | None = db
        self._key = key

    def release(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            try:
                db.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            finally:
                db.close()  # closing alone would release it too


def _lock_id(table: str, scope: str) -> int:
    digest = hashlib.sha256(f"omnisync\0{table}\0{scope}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
