"""Shared rate budgets in the SQLite state file: processes on one machine sharing one account.

A change is one IMMEDIATE transaction (SQLite's write lock) on a connection of the board's own,
timed by the machine's wall clock. Off by default: a state file is one machine's, and runs on
one machine that share an account say so (`state: {shared_budget: true}`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from engine.lazy import lazy_module
from engine.state.base import StateError
from engine.state.budget import Member, Table

if TYPE_CHECKING:
    import sqlite3
else:
    sqlite3 = lazy_module("sqlite3")

_SCHEMA = """CREATE TABLE IF NOT EXISTS budgets (
    budget TEXT NOT NULL, member TEXT NOT NULL, cap INTEGER NOT NULL, grant_now INTEGER NOT NULL,
    held INTEGER NOT NULL, held_until REAL NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (budget, member)
)"""


class SqliteBudgets:
    shared_by_default = False

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # renewals run on a worker thread, one at a time; the run closes it on its own
            db = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            self._db = db
        return self._db

    def apply(self, budget: str, change: Callable[[Table, float], tuple[Table, int]]) -> int:
        try:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                before = self._read(db, budget)
                after, grant = change(before, time.time())
                db.execute("DELETE FROM budgets WHERE budget = ?", (budget,))
                db.executemany(
                    "INSERT INTO budgets VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (budget, name, m.cap, m.grant, m.held, m.held_until, m.expires)
                        for name, m in after.items()
                    ],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return grant
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"shared budget in {self.path}: {exc}") from None

    def _read(self, db: sqlite3.Connection, budget: str) -> Table:
        rows = db.execute(
            "SELECT member, cap, grant_now, held, held_until, expires FROM budgets"
            " WHERE budget = ?",
            (budget,),
        ).fetchall()
        return {str(r[0]): Member(int(r[1]), int(r[2]), int(r[3]), r[4], r[5]) for r in rows}

    def members(self, budget: str) -> Table:
        try:
            return self._read(self._connection(), budget)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"shared budget in {self.path}: {exc}") from None

    def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            db.close()
