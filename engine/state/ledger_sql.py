"""The ledger in SQLite and PostgreSQL: three tables beside the state's own, created on first use.

`runs` (one row a run), `entries` (one row per filtered, rejected or removed record, indexed by
sync and hashed key) and `bulk` (blobs of (hashed key, digest) pairs per action and batch). `find`
looks a key up in `entries` by index and in `bulk` with the database's own byte search (SQLite
instr, PostgreSQL position): no blob crosses the wire unless it holds the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from engine.state.base import StateError
from engine.state.ledger import RunRecord, Seen, Single, find_in_blob

_TABLES = (
    "CREATE TABLE IF NOT EXISTS {runs} (run_id TEXT NOT NULL, spec TEXT NOT NULL,"
    " started TEXT NOT NULL, ended TEXT, exit_code INTEGER, info TEXT NOT NULL,"
    " PRIMARY KEY (run_id, spec))",  # one `omnisync run` of several specs: one row each
    "CREATE TABLE IF NOT EXISTS {entries} (run_id TEXT NOT NULL, sync_key TEXT NOT NULL,"
    " action TEXT NOT NULL, key {blob}, shown TEXT, reason TEXT)",
    "CREATE INDEX IF NOT EXISTS {entries_key} ON {entries} (sync_key, key)",
    "CREATE TABLE IF NOT EXISTS {bulk} (run_id TEXT NOT NULL, sync_key TEXT NOT NULL,"
    " action TEXT NOT NULL, body {blob} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {bulk_run} ON {bulk} (sync_key, run_id)",
)


class SqlLedger:
    """Shared by both databases; `connect` is the backend's own (checked) connection."""

    blob = "BLOB"
    mark = "?"  # the driver's placeholder
    search = "instr(body, ?) > 0"

    def __init__(
        self,
        connect: Callable[[], Any],
        prefix: str,
        describe: str,
        absent: Callable[[], bool] = lambda: False,
    ) -> None:
        self._connect = connect
        self._absent = absent  # a store never written: reading it creates nothing
        parts = ("runs", "entries", "bulk", "entries_key", "bulk_run")
        self.names = {k: '"' + f"{prefix}{k}".replace('"', "") + '"' for k in parts}
        self.describe = describe
        self._ready = False

    def _sql(self, text: str) -> str:
        return text.format(blob=self.blob, **self.names).replace("?", self.mark)

    def _db(self) -> Any:
        db = self._connect()
        if not self._ready:
            self._run(lambda: self._create(db))
            self._ready = True
        return db

    def _create(self, db: Any) -> None:
        for statement in _TABLES:
            db.execute(self._sql(statement))

    def _run(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except StateError:
            raise
        except Exception as exc:  # the driver's error: one line naming the store
            first = (str(exc).strip().splitlines() or [""])[0]
            raise StateError(f"state store {self.describe}: history: {first}") from None

    def _batch(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Several executemany in one transaction."""
        db = self._db()

        def run() -> None:
            db.execute("BEGIN")
            try:
                for text, rows in statements:
                    if rows:
                        db.executemany(self._sql(text), rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        self._run(run)

    def _fetch(self, text: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._absent():
            return []
        db = self._db()
        rows: list[tuple[Any, ...]] = self._run(
            lambda: db.execute(self._sql(text), args).fetchall()
        )
        return rows

    def begin_run(self, run: RunRecord) -> None:
        self._batch(
            [
                (
                    "INSERT INTO {runs} VALUES (?, ?, ?, ?, ?, ?)",
                    [(run.run_id, run.spec, run.started, None, None, json.dumps(run.info()))],
                )
            ]
        )

    def end_run(self, run: RunRecord) -> None:
        self._batch(
            [
                (
                    "UPDATE {runs} SET ended = ?, exit_code = ?, info = ?"
                    " WHERE run_id = ? AND spec = ?",
                    [(run.ended, run.exit_code, json.dumps(run.info()), run.run_id, run.spec)],
                )
            ]
        )

    def write(
        self, run_id: str, sync_key: str, bulk: Mapping[str, bytes], rows: Sequence[Single]
    ) -> None:
        self._batch(
            [
                (
                    "INSERT INTO {bulk} VALUES (?, ?, ?, ?)",
                    [(run_id, sync_key, action, body) for action, body in bulk.items()],
                ),
                (
                    "INSERT INTO {entries} VALUES (?, ?, ?, ?, ?, ?)",
                    [(run_id, sync_key, r.action, r.key, r.shown, r.reason) for r in rows],
                ),
            ]
        )

    def runs(self, spec: str, limit: int | None = None) -> list[RunRecord]:
        text = "SELECT * FROM {runs} WHERE spec = ? ORDER BY started DESC, run_id DESC"
        args: list[Any] = [spec]
        if limit is not None:
            text += " LIMIT ?"
            args.append(limit)
        return [
            RunRecord.from_row(str(r[0]), str(r[1]), str(r[2]), r[3], r[4], json.loads(r[5]))
            for r in self._fetch(text, args)
        ]

    def find(self, sync_key: str, key: bytes) -> list[Seen]:
        found = [
            Seen(run_id, action, None, shown, reason)
            for run_id, action, shown, reason in self._fetch(
                "SELECT run_id, action, shown, reason FROM {entries}"
                " WHERE sync_key = ? AND key = ?",
                (sync_key, key),
            )
        ]
        for run_id, action, body in self._fetch(
            "SELECT run_id, action, body FROM {bulk} WHERE sync_key = ? AND " + self.search,
            (sync_key, key),
        ):
            digest = find_in_blob(bytes(body), key)
            if digest is not None:
                found.append(Seen(run_id, action, digest))
        return found

    def bulk(self, sync_key: str, run_ids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        """Row by row from the cursor: SQLite holds one blob in memory at a time (psycopg's
        client-side cursor holds one run's blobs)."""
        if self._absent():
            return
        db = self._db()
        text = self._sql("SELECT action, body FROM {bulk} WHERE sync_key = ? AND run_id = ?")
        for run_id in run_ids:
            args = (sync_key, run_id)
            cursor = self._run(partial(db.execute, text, args))
            while (row := self._run(cursor.fetchone)) is not None:
                yield str(row[0]), bytes(row[1])

    def prune(self, spec: str, before: str) -> int:
        old = [
            (str(row[0]),)
            for row in self._fetch(
                "SELECT run_id FROM {runs} WHERE spec = ? AND started < ?", (spec, before)
            )
        ]
        if old:
            self._batch(
                [
                    ("DELETE FROM {bulk} WHERE run_id = ?", old),
                    ("DELETE FROM {entries} WHERE run_id = ?", old),
                    (
                        "DELETE FROM {runs} WHERE run_id = ? AND spec = ?",
                        [(r, spec) for (r,) in old],
                    ),
                ]
            )
        return len(old)


class PostgresLedger(SqlLedger):
    blob = "bytea"
    mark = "%s"
    search = "position(%s in body) > 0"

    def _create(self, db: Any) -> None:
        with db.transaction():  # concurrent first runs: one creates, the others wait for it
            db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.names["runs"],))
            super()._create(db)

    def _batch(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        db = self._db()

        def run() -> None:
            with db.transaction(), db.cursor() as cursor:
                for text, rows in statements:
                    if rows:
                        cursor.executemany(self._sql(text), rows)

        self._run(run)
