"""Shared rate budgets in PostgreSQL: one row per member in `<table>_budgets`.

A change runs in one transaction under an advisory lock on the budget, on the server's clock
(clock_timestamp()), so members on different machines settle one at a time and agree on time.
The board has a connection of its own: renewals never wait behind the run's state writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.state.base import StateError
from engine.state.budget import Member, Table

if TYPE_CHECKING:
    import psycopg


class PostgresBudgets:
    shared_by_default = True

    def __init__(self, url: str, table: str, describe: str) -> None:
        self.url = url
        self.table = table + "_budgets"
        self.where = describe
        self._db: psycopg.Connection[Any] | None = None

    def _connection(self) -> psycopg.Connection[Any]:
        import psycopg
        from psycopg import sql

        if self._db is None:
            db = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id(self.table),))
                db.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (budget text NOT NULL, member text NOT NULL,"
                        " cap integer NOT NULL, grant_now integer NOT NULL, held integer NOT NULL,"
                        " held_until double precision NOT NULL, expires double precision NOT NULL,"
                        " PRIMARY KEY (budget, member))"
                    ).format(sql.Identifier(self.table))
                )
            self._db = db
        return self._db

    def apply(self, budget: str, change: Callable[[Table, float], tuple[Table, int]]) -> int:
        import psycopg

        try:
            return self._apply(budget, change)
        except psycopg.Error as exc:
            self.close()  # a broken connection: the next renewal opens a new one
            raise StateError(f"shared budget in {self.where}: {_first_line(exc)}") from None

    def _apply(self, budget: str, change: Callable[[Table, float], tuple[Table, int]]) -> int:
        from psycopg import sql

        db = self._connection()
        name = sql.Identifier(self.table)
        with db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id(self.table + budget),))
            row = db.execute("SELECT extract(epoch from clock_timestamp())::float8").fetchone()
            assert row is not None
            before = self._read(db, budget)
            after, grant = change(before, float(row[0]))
            gone = [member for member in before if member not in after]
            if gone:
                db.execute(
                    sql.SQL("DELETE FROM {} WHERE budget = %s AND member = ANY(%s)").format(name),
                    (budget, gone),
                )
            for member, m in after.items():
                if before.get(member) != m:
                    db.execute(
                        sql.SQL(
                            "INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s, %s)"
                            " ON CONFLICT (budget, member) DO UPDATE SET cap = excluded.cap,"
                            " grant_now = excluded.grant_now, held = excluded.held,"
                            " held_until = excluded.held_until, expires = excluded.expires"
                        ).format(name),
                        (budget, member, m.cap, m.grant, m.held, m.held_until, m.expires),
                    )
        return grant

    def _read(self, db: psycopg.Connection[Any], budget: str) -> Table:
        from psycopg import sql

        rows = db.execute(
            sql.SQL(
                "SELECT member, cap, grant_now, held, held_until, expires FROM {} WHERE budget = %s"
            ).format(sql.Identifier(self.table)),
            (budget,),
        ).fetchall()
        return {str(r[0]): Member(int(r[1]), int(r[2]), int(r[3]), r[4], r[5]) for r in rows}

    def members(self, budget: str) -> Table:
        import psycopg

        try:
            return self._read(self._connection(), budget)
        except psycopg.Error as exc:
            raise StateError(f"shared budget in {self.where}: {_first_line(exc)}") from None

    def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            db.close()


def _lock_id(text: str) -> int:
    digest = hashlib.sha256(f"omnisync-budget\0{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
