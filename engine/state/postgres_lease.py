"""The PostgreSQL backend's lock: a session advisory lock plus a lease row with an epoch.

The advisory lock alone is not enough: a holder whose connection drops (a network cut, a server
restart, an idle timeout) loses it without knowing, and the next run takes it at once while the
first one may still send. So the lock's connection also keeps a row in `<table>_leases` (scope,
epoch, owner, expires by the server's clock), renewed from a thread (fencing.py). A run that gets
the advisory lock while the row says another holder's lease is still running (its connection ended
without a release) waits until it expires: by then that holder's own deadline has passed and it has
stopped. Each acquisition takes the next epoch; every write checks it (postgres.py).
"""

from __future__ import annotations

import os
import socket
import time
from typing import TYPE_CHECKING, Any

from engine.state.fencing import RenewedLease

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql


class PostgresLease(RenewedLease):
    def __init__(
        self,
        db: psycopg.Connection[Any],
        leases: sql.Composable,
        key: int,
        scope: str,
        ttl: float,
        where: str,
    ) -> None:
        super().__init__(ttl, scope, where)
        self.db = db  # this lease's own connection: the advisory lock lives and dies with it
        self.leases = leases
        self.key = key
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.holder = "another run"  # who held it at the last refused attempt

    def _sql(self, text: str) -> sql.Composed:
        from psycopg import sql

        return sql.SQL(text).format(leases=self.leases)

    def attempt(self) -> PostgresLease | None:
        """The advisory lock, then the next epoch unless the row holds a live lease of another."""
        db = self.db
        if not _one(db.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)))[0]:
            self.holder = "a run"
            return None
        with db.transaction():
            row = db.execute(
                self._sql(
                    "SELECT owner, extract(epoch FROM expires - now()) FROM {leases}"
                    " WHERE scope = %s FOR UPDATE"
                ),
                (self.scope,),
            ).fetchone()
            if row is not None and row[0] is not None and row[1] > 0:
                left = float(row[1])
                self.holder = f"a run ({row[0]}: its connection ended, its lease runs {left:.0f} s)"
                epoch = None
            else:
                sent = time.monotonic()
                epoch = _one(
                    db.execute(
                        self._sql(
                            "INSERT INTO {leases} (scope, epoch, owner, expires)"
                            " VALUES (%s, 1, %s, now() + make_interval(secs => %s))"
                            " ON CONFLICT (scope) DO UPDATE SET epoch = {leases}.epoch + 1,"
                            " owner = excluded.owner, expires = excluded.expires RETURNING epoch"
                        ),
                        (self.scope, self.owner, self.ttl),
                    )
                )[0]
        if epoch is None:  # that holder's lease runs out first: its deadline passes before
            db.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            return None
        self.held(sent, int(epoch))
        return self

    def _renew(self) -> bool:
        row = self.db.execute(
            self._sql(
                "UPDATE {leases} SET expires = now() + make_interval(secs => %s)"
                " WHERE scope = %s AND epoch = %s RETURNING 1"
            ),
            (self.ttl, self.scope, self.epoch),
        ).fetchone()
        return row is not None

    def _give_back(self) -> None:
        self.db.execute(
            self._sql(
                "UPDATE {leases} SET owner = NULL, expires = now() WHERE scope = %s AND epoch = %s"
            ),
            (self.scope, self.epoch),
        )

    def release(self) -> None:
        try:
            super().release()
        finally:
            self.db.close()  # the advisory lock ends with its session


def _one(cursor: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    row = cursor.fetchone()
    assert row is not None  # a statement that always returns one row
    return tuple(row)
