"""Change detection in the database (`change_detection: in_source` on a sql source).

The database computes each row's digest, a hash of the columns the mapping reads plus the
engine's fingerprint in which no two rows' values read alike (connectors/sql_screen_dialects.py),
and its key hash, the key columns' hash the same way.
It compares them with the digest table omnisync keeps beside the data (primary key: sync id, key
hash; 16-byte binary values, compared as bytes) in one LEFT JOIN, and only rows with no digest
or another one leave the database:

    SELECT s.* FROM (SELECT t.*, h(<key>) AS omnisync_kh, h(<inputs>|<fp>) AS omnisync_dg
                     FROM <table> t WHERE <resume>) s
    LEFT JOIN omnisync_digests d ON d.sync_id = :sync AND d.key_hash = s.omnisync_kh
    WHERE d.digest IS NULL OR d.digest <> s.omnisync_dg ORDER BY <key>

The read runs in one snapshot (REPEATABLE READ) with a count of the rows and of the digests, so
the unchanged rows are counted without being read, and a key that left the source is told by
arithmetic (digests kept minus rows that matched one); only when one did is the slower delete of
their digests run. PostgreSQL counts the rows the join would let out first, in parallel (a
cursor runs on one core): an unchanged rerun is that one count and opens no cursor. SQLite has
no hash function, so omnisync registers one (Python's hashlib) on its own connections, and copies
the changed rows into a temporary table first: a read left open would keep the digests' writes
from committing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Generator, Sequence
from typing import TYPE_CHECKING, Any

from connectors._threaded import iterate_in_thread
from connectors.json_safe import json_safe
from connectors.sql_screen_dialects import digest_table, named, open_engine, row_hash, short_error
from engine.contracts import ScreenRequest
from engine.crashpoints import crash_point
from engine.errors import OmnisyncError
from engine.lazy import lazy_module
from engine.rows import Position, Row, ScreenedRow
from engine.state.base import StateError

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection

    from connectors.sql import SqlSource
else:
    sa = lazy_module("sqlalchemy")

PENDING = bytes(16)
KEY_HASH, DIGEST, NEW = "omnisync_kh", "omnisync_dg", "omnisync_new"


class SqlScreen:
    """One run's comparison in the database (engine.contracts.SourceScreen)."""

    def __init__(self, source: SqlSource, request: ScreenRequest) -> None:
        self.source = source
        self.request = request
        self.engine = open_engine(source.url)  # the digests' writes; the read opens its own
        self.dialect = self.engine.dialect.name
        self.table = digest_table(request)
        self.sync_id = request.sync_id
        self._fetched = 0
        self._new = 0
        self._total: int | None = None
        self._digests: int | None = None
        self._finished = False
        # key hashes read that held a digest and are not marked pending yet: the read tells
        # (no lookup per chunk); removed as they are marked, so the set stays about a chunk
        self._known: set[bytes] = set()
        # a dry run before the first run: no digest table yet, every row is new
        with self.engine.connect() as conn:
            self._kept = sa.inspect(conn).has_table(self.table.name, schema=self.table.schema)

    # -- the read ------------------------------------------------------------------------

    def read(self, resume: Position | None) -> AsyncIterator[Row]:
        return iterate_in_thread(lambda: self._rows(resume), self.source.chunk)

    def _rows(self, resume: Position | None) -> Generator[Row, None, None]:
        engine = open_engine(self.source.url)
        try:
            with engine.connect() as conn:
                if self.dialect == "sqlite":  # commits once the changed rows are copied
                    yield from self._read(conn, resume)
                    return
                # one snapshot: the counts see what the read saw
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield from self._read(conn, resume)
        except sa.exc.SQLAlchemyError as exc:
            raise OmnisyncError(
                f"{self.source.sync}: {self.source.safe_url}: {short_error(exc)}"
            ) from None
        finally:
            engine.dispose()

    def _read(self, conn: Connection, resume: Position | None) -> Generator[Row, None, None]:
        source, d = self.source, self.table
        selectable = source.screen_selectable(conn, self.request)
        order = source._order(selectable)
        base = source._statement(conn, selectable, order, resume).order_by(None)
        cols = selectable.c
        missing = [n for n in (*self.request.key, *self.request.inputs) if n not in cols]
        if missing:
            raise OmnisyncError(f"{source.sync}: the rows have no column {', '.join(missing)}")
        key_hash = row_hash([cols[n] for n in self.request.key], self.dialect)
        digest = row_hash(
            [cols[n] for n in self.request.inputs], self.dialect, self.request.fingerprint
        )
        inner = base.add_columns(key_hash.label(KEY_HASH), digest.label(DIGEST)).subquery("s")
        joined = inner.outerjoin(
            d, sa.and_(d.c.sync_id == self.sync_id, d.c.key_hash == inner.c[KEY_HASH])
        )
        changed = sa.or_(d.c.digest.is_(None), d.c.digest != inner.c[DIGEST])
        stmt = (
            sa.select(inner, sa.case((d.c.digest.is_(None), 1), else_=0).label(NEW))
            .select_from(joined)
            .where(changed)
        )
        total = sa.select(sa.func.count()).select_from(base.subquery("c"))
        digests = sa.select(sa.func.count()).where(d.c.sync_id == self.sync_id)
        if not self._kept:
            stmt = sa.select(inner, sa.literal(1).label(NEW))
            digests = sa.select(sa.literal(0))
        if self.dialect == "sqlite":
            yield from self._read_copied(conn, stmt.subquery("changed"), order, total, digests)
            return
        if self.dialect == "postgresql":
            # a server-side cursor is planned for its first rows (cursor_tuple_fraction 0.1): a
            # nested loop that hashes every row once per digest. The whole result is wanted,
            # and the digests' hash table fits in memory instead of spilling in batches.
            conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
            conn.exec_driver_sql("SET LOCAL work_mem = '128MB'")
            if self._kept and self._nothing_changed(conn, joined, changed, digests):
                return
        result = conn.execution_options(stream_results=True, yield_per=source.chunk).execute(
            stmt.order_by(*(stmt.selected_columns[n] for n in order))
        )
        yield from self._convert(result, order)
        if self._total is None:
            self._total = int(conn.execute(total).scalar_one())
        if self._digests is None:
            self._digests = int(conn.execute(digests).scalar_one())
        self._finished = True

    def _nothing_changed(
        self,
        conn: Connection,
        joined: Any,
        changed: sa.ColumnElement[bool],
        digests: sa.Select[Any],
    ) -> bool:
        """PostgreSQL: count first, in parallel, what a cursor would read on one core (a cursor
        never runs in parallel). When no row is new or changed nothing is read at all; else the
        counts stand and the cursor reads the rows."""
        self._digests = int(conn.execute(digests).scalar_one())
        if not self._digests:
            return False  # a first run: every row is new, no need to count them first
        counts = sa.select(sa.func.count(), sa.func.count().filter(changed)).select_from(joined)
        total, to_read = conn.execute(counts).one()
        self._total = int(total)
        self._finished = not to_read
        return self._finished

    def _read_copied(
        self,
        conn: Connection,
        changed: sa.Subquery,
        order: Sequence[str],
        total: sa.Select[Any],
        digests: sa.Select[Any],
    ) -> Generator[Row, None, None]:
        """SQLite: the changed rows copied to a temporary table, then streamed from it, so no
        read holds the database's lock while the digests are written."""
        copy = sa.Table(
            f"omnisync_changed_{uuid.uuid4().hex[:12]}",
            sa.MetaData(),
            *(sa.Column(c.name, _storable(c.type)) for c in changed.c),
            prefixes=["TEMPORARY"],
        )
        copy.create(conn)
        try:
            conn.execute(sa.insert(copy).from_select(list(changed.c.keys()), sa.select(changed)))
            self._total = int(conn.execute(total).scalar_one())
            self._digests = int(conn.execute(digests).scalar_one())
            conn.commit()  # the main database's lock goes; the copy is the connection's own
            result = conn.execute(sa.select(copy).order_by(*(copy.c[n] for n in order)))
            yield from self._convert(result, order)
            self._finished = True
        finally:
            copy.drop(conn, checkfirst=True)

    def _convert(
        self, result: sa.CursorResult[Any], order: Sequence[str]
    ) -> Generator[Row, None, None]:
        names = [str(n) for n in result.keys()]  # noqa: SIM118 (a Result, not a dict)
        skip = {names.index(KEY_HASH), names.index(DIGEST), names.index(NEW)}
        kept = [(i, n) for i, n in enumerate(names) if i not in skip]
        at = [names.index(n) for n in order]
        kh, dg, new = names.index(KEY_HASH), names.index(DIGEST), names.index(NEW)
        with result:
            for raw in result:
                self._fetched += 1
                hashed = bytes(raw[kh])
                if raw[new]:
                    self._new += 1
                else:
                    self._known.add(hashed)
                yield ScreenedRow(
                    {n: json_safe(raw[i]) for i, n in kept},
                    tuple(raw[i] for i in at),
                    (hashed, bytes(raw[dg])),
                )

    # -- the engine's calls ----------------------------------------------------------------

    def pending(self, keys: Sequence[bytes]) -> set[bytes]:
        """The keys that held a digest (the read said which) get the pending mark."""
        held = self._known.intersection(keys)
        if not held:
            return held
        self._known.difference_update(held)
        if not self.request.write:
            return held
        d = self.table
        where = sa.and_(d.c.sync_id == self.sync_id, d.c.key_hash.in_(sorted(held)))
        try:
            with self.engine.connect() as conn, conn.begin():
                conn.execute(sa.update(d).where(where).values(digest=PENDING))
        except sa.exc.SQLAlchemyError as exc:
            raise self._failed("marking records pending", exc) from None
        return held

    def save(self, pairs: Sequence[tuple[bytes, bytes]]) -> None:
        if not self.request.write or not pairs:
            return
        try:
            with self.engine.connect() as conn, conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(self._postgres_upsert(pairs))
                else:
                    rows = [{"sync_id": self.sync_id, "key_hash": k, "digest": v} for k, v in pairs]
                    conn.execute(self._upsert(), rows)
                crash_point("digest_save")
        except sa.exc.SQLAlchemyError as exc:
            raise self._failed("writing digests back", exc) from None

    def _failed(self, doing: str, exc: Exception) -> StateError:
        """A failed write of the digests, named like a failed state store: the sync stops, and
        what was not written back is sent again by the next run."""
        return StateError(
            f"digest table {named(self.table)} in {self.source.safe_url}: {doing}: {short_error(exc)}"
        )

    def _postgres_upsert(self, pairs: Sequence[tuple[bytes, bytes]]) -> Any:
        """One statement for the whole batch, its keys and digests in one bytea (32 bytes a
        pair) cut apart by the database: a row per digest through executemany, or two arrays,
        cost the client several times the database's own work. The keys are unique (the
        detector keeps a key's latest digest), as ON CONFLICT needs."""
        from sqlalchemy.dialects import postgresql

        d = self.table
        packed = b"".join(key + digest for key, digest in pairs)
        given = sa.select(sa.bindparam("packed", packed, type_=sa.LargeBinary).label("b")).cte()
        at = sa.func.generate_series(0, len(pairs) - 1).table_valued("i").render_derived("at")
        rows = sa.select(
            sa.literal(self.sync_id, sa.LargeBinary),
            sa.func.substring(given.c.b, at.c.i * 32 + 1, 16),
            sa.func.substring(given.c.b, at.c.i * 32 + 17, 16),
        ).select_from(given.join(at, sa.true()))
        upsert = postgresql.insert(d).from_select(["sync_id", "key_hash", "digest"], rows)
        return upsert.on_conflict_do_update(
            index_elements=[d.c.sync_id, d.c.key_hash], set_={"digest": upsert.excluded.digest}
        )

    def _upsert(self) -> Any:
        d = self.table
        if self.dialect in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import insert as my_insert

            my = my_insert(d)
            return my.on_duplicate_key_update(digest=my.inserted.digest)
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        lite = lite_insert(d)
        return lite.on_conflict_do_update(
            index_elements=[d.c.sync_id, d.c.key_hash], set_={"digest": lite.excluded.digest}
        )

    def unchanged(self) -> int | None:
        return None if not self._finished or self._total is None else self._total - self._fetched

    def fetched(self) -> int:
        return self._fetched

    def left_source(self) -> int:
        """Digests kept minus the rows that matched one: when some key left, their digests are
        deleted (a key seen again is then sent again, which the destination's upsert absorbs)."""
        if not self._finished or self._total is None or self._digests is None:
            return 0
        matched = self._total - self._new
        if self._digests <= matched:
            return 0
        return self._forget_gone()

    def _forget_gone(self) -> int:
        source, d = self.source, self.table
        seen = sa.Table(
            f"omnisync_seen_{uuid.uuid4().hex[:12]}",
            sa.MetaData(),
            sa.Column("key_hash", d.c.key_hash.type, primary_key=True),
            prefixes=["TEMPORARY"],
        )
        with self.engine.connect() as conn, conn.begin():
            selectable = source.screen_selectable(conn, self.request)
            key_hash = row_hash([selectable.c[n] for n in self.request.key], self.dialect)
            seen.create(conn)
            conn.execute(
                sa.insert(seen).from_select(
                    ["key_hash"], sa.select(key_hash).select_from(selectable).distinct()
                )
            )
            gone = conn.execute(
                sa.delete(d).where(
                    d.c.sync_id == self.sync_id,
                    ~sa.exists().where(seen.c.key_hash == d.c.key_hash),
                )
            ).rowcount
            seen.drop(conn)
        return int(gone or 0)

    def close(self) -> None:
        self.engine.dispose()


def _storable(kind: Any) -> Any:
    """A column type the temporary copy can declare (the hashes' type is not known)."""
    return sa.LargeBinary() if isinstance(kind, sa.types.NullType) else kind
