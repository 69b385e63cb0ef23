"""State in a PostgreSQL table, for runs that keep no disk (CI): `state: {backend: postgres, url: ...}`.

Two tables, `<table>` (one row per sync: position, fingerprint, schema version) and
`<table>_digests` (hashed key -> digest), created on first use. Every write is one statement or
one transaction in autocommit mode, so it is atomic. The lock is a session-level advisory lock on a
connection of its own plus a lease row with an epoch in `<table>_leases` (postgres_lease.py); every
write is a transaction that first checks, under a row lock, that the store still holds this run's
epoch, so a run that lost its lock cannot write (LeaseLost). psycopg is imported only when this
backend is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from engine import durations
from engine.crashpoints import crash_point
from engine.rows import Position
from engine.state.base import (
    COMMON_OPTIONS,
    SCHEMA_VERSION,
    LeaseLost,
    StateContext,
    StateError,
    StoredPosition,
)
from engine.state.budget_postgres import PostgresBudgets
from engine.state.change_detection import PENDING
from engine.state.codec import encode_position
from engine.state.fencing import check_lease
from engine.state.fingerprint import MASK
from engine.state.lock import wait_for
from engine.state.stored import stored_position
from engine.state.triggers import SqlTriggers, trigger_crash

if TYPE_CHECKING:
    import psycopg

    from engine.state.ledger_sql import PostgresLedger
    from engine.state.postgres_lease import PostgresLease

DEFAULT_TABLE = "omnisync_state"
DEFAULT_LEASE = 30.0  # seconds a holder whose connection ended keeps others waiting
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
            "lease": {
                **durations.SCHEMA,
                "description": "how long the lock outlives a holder whose connection ended, "
                f"crash included (default {DEFAULT_LEASE:g}s, at least 3s)",
            },
            **COMMON_OPTIONS,
        },
    }

    def __init__(self, config: Mapping[str, Any], context: StateContext) -> None:
        self.url = _DRIVER.sub("postgresql://", str(config["url"]))
        self.table = str(config.get("table") or DEFAULT_TABLE)
        self.lease_ttl = check_lease(
            durations.parse_duration(config.get("lease", DEFAULT_LEASE)), self.describe()
        )
        self._db: psycopg.Connection[Any] | None = None
        self._lease: PostgresLease | None = None  # held by this run: every write checks it

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
        leases = sql.Identifier(self.table + "_leases")
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
            for table in (positions, digests):  # absent from a schema-1 table
                db.execute(
                    sql.SQL(
                        "ALTER TABLE {} ADD COLUMN IF NOT EXISTS epoch bigint NOT NULL DEFAULT 0"
                    ).format(table)
                )
            db.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (scope text NOT NULL, key bytea NOT NULL,"
                    " state text NOT NULL, at double precision NOT NULL,"
                    " epoch bigint NOT NULL DEFAULT 0, PRIMARY KEY (scope, key))"
                ).format(sql.Identifier(self.table + "_triggers"))
            )
            db.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (scope text PRIMARY KEY, epoch bigint NOT NULL,"
                    " owner text, expires timestamptz NOT NULL)"
                ).format(leases)
            )

    def _run(self, db: psycopg.Connection[Any], action: Any) -> Any:
        import psycopg

        try:
            return action(db)
        except psycopg.Error as exc:
            raise StateError(f"state store {self.describe()}: {_first_line(exc)}") from None

    def _statement(self, text: str) -> Any:
        from psycopg import sql

        return sql.SQL(text).format(
            positions=sql.Identifier(self.table),
            digests=sql.Identifier(self.table + "_digests"),
            leases=sql.Identifier(self.table + "_leases"),
        )

    def _query(self, text: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One reading statement."""
        statement = self._statement(text)

        def run(db: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
            cursor = db.execute(statement, args)
            return cursor.fetchall()

        rows: list[tuple[Any, ...]] = self._run(self._connection(), run)
        return rows

    def _write(self, text: str, args: Sequence[Any] = (), crash: str | None = None) -> int:
        """One writing statement in a transaction that first checks, the lease row locked, that
        the store still holds this run's epoch; how many rows it touched. `crash` names the
        test-only crash point before its commit."""
        statement = self._statement(text)

        def run(db: psycopg.Connection[Any]) -> int:
            with db.transaction():
                self._fence(db)
                cursor = db.execute(statement, args)
                if crash is not None:
                    crash_point(crash)
            return cursor.rowcount

        count: int = self._run(self._connection(), run)
        return count

    def _fence(self, db: psycopg.Connection[Any]) -> None:
        lease = self._lease
        if lease is None:
            return
        lease.prove()
        row = db.execute(
            self._statement("SELECT epoch FROM {leases} WHERE scope = %s FOR SHARE"),
            (lease.scope,),
        ).fetchone()
        if row is None or row[0] != lease.epoch:
            raise LeaseLost(
                f"state store {self.describe()}: another run took the lock of {lease.scope} "
                f"(epoch {row[0] if row else None}, this run's {lease.epoch}); this run stopped "
                "before sending or storing anything more"
            )

    @property
    def epoch(self) -> int:
        return self._lease.epoch if self._lease is not None else 0

    def load(self, sync_key: str) -> StoredPosition | None:
        rows = self._query(
            "SELECT sync_key, position, fingerprint, saved_at, location, schema_version"
            " FROM {positions} WHERE sync_key = %s",
            (sync_key,),
        )
        return stored_position(*rows[0]) if rows else None

    def save(self, sync_key: str, position: Position, fingerprint: str, where: str) -> None:
        text = encode_position(position)
        now = dt.datetime.now(dt.UTC)
        self._write(
            "INSERT INTO {positions} (sync_key, schema_version, position, fingerprint, saved_at,"
            " location, epoch) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (sync_key)"
            " DO UPDATE SET schema_version = excluded.schema_version,"
            " position = excluded.position, fingerprint = excluded.fingerprint,"
            " saved_at = excluded.saved_at, location = excluded.location, epoch = excluded.epoch",
            (sync_key, SCHEMA_VERSION, text, fingerprint, now, where, self.epoch),
            crash="state_write",
        )

    def clear(self, sync_key: str) -> bool:
        return self._write("DELETE FROM {positions} WHERE sync_key = %s", (sync_key,)) > 0

    def entries(self, prefix: str = "") -> list[StoredPosition]:
        rows = self._query(
            "SELECT sync_key, position, fingerprint, saved_at, location, schema_version"
            " FROM {positions} WHERE left(sync_key, %s) = %s ORDER BY sync_key",
            (len(prefix), prefix),
        )
        return [stored_position(*row) for row in rows]

    def lock(self, scope: str, timeout: float) -> PostgresLease:
        from psycopg import sql

        from engine.state.postgres_lease import PostgresLease  # its socket wait: when running

        self._connection()  # the tables exist before anyone waits
        lease = PostgresLease(
            self._connect(),
            sql.Identifier(self.table + "_leases"),
            _lock_id(self.table, scope),
            scope,
            self.lease_ttl,
            self.describe(),
        )

        def attempt() -> PostgresLease | None:
            got: PostgresLease | None = self._run(lease.db, lambda _: lease.attempt())
            return got

        try:
            self._lease = wait_for(attempt, timeout, scope, self.describe(), lambda: lease.holder)
        except BaseException:
            lease.db.close()
            raise
        return self._lease

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
        self._write(
            "INSERT INTO {digests} (sync_key, key, digest, epoch)"
            " SELECT %s, k, d, %s FROM unnest(%s::bytea[], %s::bytea[]) AS t(k, d)"
            " ON CONFLICT (sync_key, key) DO UPDATE SET digest = excluded.digest,"
            " epoch = excluded.epoch",
            (sync_key, self.epoch, list(latest), list(latest.values())),
            crash="digest_save",
        )

    def clear_digests(self, sync_key: str) -> int:
        return self._write("DELETE FROM {digests} WHERE sync_key = %s", (sync_key,))

    def count_digests(self, sync_key: str) -> int:
        rows = self._query(
            "SELECT count(*) FROM {digests} WHERE sync_key = %s AND digest != %s",
            (sync_key, PENDING),
        )
        return int(rows[0][0])

    def budgets(self) -> PostgresBudgets:
        """Where the rate budgets shared with other runs live (engine/state/budget.py)."""
        return PostgresBudgets(self.url, self.table, self.describe())

    def move(self, old_key: str, new_key: str) -> tuple[bool, int]:
        statement = self._statement

        def run(db: psycopg.Connection[Any]) -> tuple[bool, int]:
            with db.transaction():  # all of it moves, or nothing
                self._fence(db)
                # a concurrent move of the same keys waits here, then finds new_key taken
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id(self.table, new_key),))
                taken = db.execute(
                    statement(
                        "SELECT 1 FROM {positions} WHERE sync_key = %s"
                        " UNION ALL SELECT 1 FROM {digests} WHERE sync_key = %s LIMIT 1"
                    ),
                    (new_key, new_key),
                ).fetchall()
                if taken:
                    return False, 0
                moved, digests = (
                    db.execute(
                        statement(f"UPDATE {{{table}}} SET sync_key = %s WHERE sync_key = %s"),
                        (new_key, old_key),
                    ).rowcount
                    for table in ("positions", "digests")
                )
            return moved > 0, digests

        result: tuple[bool, int] = self._run(self._connection(), run)
        return result

    def triggers(self) -> SqlTriggers:
        """Trigger marks (engine/state/triggers.py) in `<table>_triggers`, fenced like every
        write: the lease row is checked in the write's own transaction."""
        table = f'"{self.table}_triggers"'  # the option's pattern allows no quote

        def write(text: str, rows: Sequence[Sequence[Any]], crash: str | None) -> int:
            statement = text.replace("?", "%s")

            def run(db: psycopg.Connection[Any]) -> int:
                with db.transaction():
                    self._fence(db)
                    with db.cursor() as cursor:
                        cursor.executemany(statement, rows)
                        count = cursor.rowcount
                    trigger_crash(crash)
                return count

            done: int = self._run(self._connection(), run)
            return done

        def query(text: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
            statement = text.replace("?", "%s")

            def run(db: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
                return db.execute(statement, args).fetchall()

            rows: list[tuple[Any, ...]] = self._run(self._connection(), run)
            return rows

        return SqlTriggers(table, write, query, lambda: self.epoch)

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


def _lock_id(table: str, scope: str) -> int:
    digest = hashlib.sha256(f"omnisync\0{table}\0{scope}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
