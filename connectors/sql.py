"""Any SQLAlchemy database: a table or a query, streamed through a server-side cursor.

Order and position:
- with an incremental cursor (`incremental: {cursor: updated_at}`), rows are read ordered by
  (cursor, *key) and the position is (cursor value, *key values); a resumed read asks for rows
  strictly after it, so rows that share the cursor value of the last one read are neither lost
  nor read twice. Without a key (a query with no `key:`) the position is (cursor value,) and a
  resumed read takes `cursor >= value`: the rows sharing that value are read again (at-least-once;
  the destination upserts by key). Rows whose cursor is NULL cannot be placed in that order: they
  are left out and counted in a warning.
- without a cursor, rows are ordered by the key (a table's primary key by default), position
  (*key values); with no key at all the position is (row number,) and a resume skips that many
  rows, which is only sound when the query orders its rows itself.
Positions hold the database's own values (datetime, Decimal, ...), so they order exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from connectors import dbt
from connectors._threaded import iterate_in_thread
from connectors.json_safe import json_safe
from engine import logging as omnilog
from engine.contracts import ScreenRequest, SourceContext, SourceScreen
from engine.errors import OmnisyncError, SpecIssue
from engine.lazy import lazy_module
from engine.logging import register_secrets
from engine.rows import Position, Row

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
    from sqlalchemy.exc import SQLAlchemyError

    from connectors import sql_screen, sql_screen_dialects
else:  # SQLAlchemy is imported when a spec reads a database, not when the CLI starts
    sa = lazy_module("sqlalchemy")
    # the in-source screen, when a sync compares in the database: not for `validate` of the rest
    sql_screen = lazy_module("connectors.sql_screen")
    sql_screen_dialects = lazy_module("connectors.sql_screen_dialects")

log = omnilog.get_logger("omnisync.sql")

_IDENTIFIER = {"type": "string", "minLength": 1}


class SqlSource:
    """A table or query of any SQLAlchemy database, in an order a resume can continue."""

    cursors: ClassVar[frozenset[str] | None] = None  # any column of the table or query
    supports_lookback: ClassVar[bool] = True  # reads again behind the mark: incremental.lookback
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "type": "string",
                "minLength": 1,
                "writeOnly": True,
                "description": "SQLAlchemy URL, usually ${DATABASE_URL} (its password is a secret)",
            },
            "table": {**_IDENTIFIER, "description": "table or schema.table"},
            "dbt": {**dbt.SCHEMA, "description": "a dbt model, found in the project's manifest"},
            "query": {"type": "string", "minLength": 1, "description": "SELECT with :name params"},
            "params": {"type": "object", "description": "values bound to the query's :names"},
            "columns": {"type": "array", "items": _IDENTIFIER, "minItems": 1},
            "key": {
                "type": "array",
                "items": _IDENTIFIER,
                "minItems": 1,
                "description": "unique columns: tie-breaker after the cursor, default the primary key",
            },
            "chunk_size": {"type": "integer", "minimum": 1, "maximum": 100000},
        },
        "oneOf": [{"required": ["table"]}, {"required": ["query"]}, {"required": ["dbt"]}],
        "additionalProperties": False,
    }

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.url = str(config["url"])
        try:
            parsed = sa.engine.make_url(self.url)
        except sa.exc.ArgumentError:
            raise OmnisyncError(f"{context.sync_name}: sql url is not a SQLAlchemy URL") from None
        if parsed.password:
            register_secrets([str(parsed.password)])
        self.safe_url = parsed.render_as_string(hide_password=True)
        self.table: str | None = config.get("table") or _dbt_table(config, context)
        self.query: str | None = config.get("query")
        self.params: dict[str, Any] = dict(config.get("params", {}))
        self.selected: list[str] | None = config.get("columns")
        self.key: list[str] | None = config.get("key")
        self.cursor = context.cursor
        self.lookback = context.lookback
        self.chunk = int(config.get("chunk_size", 1000))
        self.sync = context.sync_name

    @classmethod
    def config_issues(cls, config: Mapping[str, Any], spec_dir: Path) -> list[SpecIssue]:
        """A dbt model that the manifest does not have, or no manifest, at its line."""
        return dbt.issues(config["dbt"], ("dbt",), spec_dir) if "dbt" in config else []

    @classmethod
    def dbt_model(cls, config: Mapping[str, Any]) -> str | None:
        """The dbt model this block reads, for `run --after-dbt`."""
        return str(config["dbt"]["ref"]) if "dbt" in config else None

    def locate(self, position: Position) -> str:
        """Where a position points: table[cursor=..., key=...]."""
        what = self.table or "query"
        names = self._order_columns() if self.key else [*self._order_columns(), "row"]
        pairs = ", ".join(f"{n}={json_safe(v)}" for n, v in zip(names, position, strict=False))
        return f"{what}[{pairs}]"

    def estimate_total(self) -> int | None:
        """A table's row count from the database's statistics (PostgreSQL, MySQL/MariaDB) or a
        count (SQLite, a local file); a query's is unknown without running it: None."""
        if self.table is None:
            return None
        schema, _, name = self.table.rpartition(".")
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                dialect = conn.dialect.name
                if dialect == "postgresql":
                    stmt = "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"
                    value = conn.execute(sa.text(stmt), {"t": self.table}).scalar()
                elif dialect in ("mysql", "mariadb"):
                    stmt = (
                        "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE "
                        "TABLE_SCHEMA = COALESCE(:s, DATABASE()) AND TABLE_NAME = :t"
                    )
                    value = conn.execute(sa.text(stmt), {"s": schema or None, "t": name}).scalar()
                elif dialect == "sqlite":
                    table = sa.table(name, schema=schema or None)
                    value = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                else:
                    return None
        except Exception as exc:  # an estimate is a nicety: the read reports real errors
            log.debug(
                "sql_estimate_unavailable",
                reason=_short(exc) if isinstance(exc, sa.exc.SQLAlchemyError) else str(exc),
            )
            return None
        finally:
            engine.dispose()
        return int(value) if value is not None and int(value) >= 0 else None

    def columns(self) -> list[tuple[str, list[str]]]:
        """The columns the rows will have, from the table or the query itself (no row is read)."""
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                if self.query is not None:
                    stmt = sa.text(self.query).bindparams(**self.params)
                    inner = stmt.columns().subquery("omnisync_q")
                    query: sa.Select[Any] = (
                        sa.select(sa.literal_column("*")).select_from(inner).limit(0)
                    )
                    names = [str(n) for n in conn.execute(query).keys()]  # noqa: SIM118
                    return [("the query's result", names)]
                table = self._selectable(conn)
                names = [str(c.name) for c in table.columns]
                if self.selected:
                    names = [n for n in names if n in self.selected]
                return [(f"table {self.table}", names)]
        except sa.exc.ArgumentError as exc:
            raise OmnisyncError(f"{self.sync}: query params: {exc}") from None
        except sa.exc.SQLAlchemyError as exc:
            raise OmnisyncError(f"{self.sync}: {self.safe_url}: {_short(exc)}") from None
        finally:
            engine.dispose()

    def screen_problem(self, request: ScreenRequest, prepare: bool) -> str | None:
        """Why the database cannot compare rows with digests (connectors/sql_screen_dialects.py)."""
        return sql_screen_dialects.problem(self, request, prepare)

    def open_screen(self, request: ScreenRequest) -> SourceScreen:
        """This run's comparison in the database: only new and changed rows are read."""
        return sql_screen.SqlScreen(self, request)

    def screen_selectable(self, conn: Connection, request: ScreenRequest) -> sa.FromClause:
        """The table, or the query with every column it returns declared (the digest reads
        them by name)."""
        if self.query is None:
            return self._selectable(conn)
        names = [name for _, columns in self.columns() for name in columns]
        try:
            text = sa.text(self.query).bindparams(**self.params)
        except sa.exc.ArgumentError as exc:
            raise OmnisyncError(f"{self.sync}: query params: {exc}") from None
        return text.columns(*(sa.column(n) for n in names)).subquery("omnisync_q")

    def read(self, resume: Position | None) -> AsyncIterator[Row]:
        """Rows after `resume`, fetched `chunk_size` at a time in a thread."""
        return iterate_in_thread(lambda: self._rows(resume), self.chunk)

    def _rows(self, resume: Position | None) -> Generator[Row, None, None]:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                selectable = self._selectable(conn)
                order = self._order(selectable)
                stmt = self._statement(conn, selectable, order, resume)
                result = conn.execution_options(stream_results=True, yield_per=self.chunk).execute(
                    stmt
                )
                yield from self._convert(result, order, resume)
        except sa.exc.SQLAlchemyError as exc:
            raise OmnisyncError(f"{self.sync}: {self.safe_url}: {_short(exc)}") from None
        finally:
            engine.dispose()

    def _convert(
        self, result: sa.CursorResult[Any], order: Sequence[str], resume: Position | None
    ) -> Generator[Row, None, None]:
        # plain str: a table's reflected names are SQLAlchemy quoted_name, which JSON encoders
        # (orjson, for the reject file and the request body) refuse as object keys
        names = [str(n) for n in result.keys()]  # noqa: SIM118 (a Result, not a dict)
        missing = [n for n in order if n not in names]
        if missing:
            raise OmnisyncError(f"{self.sync}: the rows have no column {', '.join(missing)}")
        at = [names.index(n) for n in order]
        number = int(resume[0]) if resume is not None and not order else 0
        with result:
            for raw in result:
                number += 1
                position = tuple(raw[i] for i in at) if order else (number,)
                yield Row({n: json_safe(v) for n, v in zip(names, raw, strict=True)}, position)

    def _selectable(self, conn: Connection) -> sa.FromClause:
        if self.query is not None:
            try:
                text = sa.text(self.query).bindparams(**self.params)
            except sa.exc.ArgumentError as exc:
                raise OmnisyncError(f"{self.sync}: query params: {exc}") from None
            needed = self._order_columns()
            return text.columns(*(sa.column(n) for n in needed)).subquery("omnisync_q")
        schema, _, name = str(self.table).rpartition(".")
        try:
            return sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
        except sa.exc.NoSuchTableError:
            raise OmnisyncError(f"{self.sync}: no table {self.table} in {self.safe_url}") from None

    def _order(self, selectable: sa.FromClause) -> list[str]:
        key = self.key
        if key is None and isinstance(selectable, sa.Table):
            key = [c.name for c in selectable.primary_key.columns]
        self.key = [k for k in key or [] if k != self.cursor] or None
        return self._order_columns()

    def _order_columns(self) -> list[str]:
        """The cursor (when incremental), then the key: the columns a position holds, in order."""
        return [*([self.cursor] if self.cursor else []), *(self.key or [])]

    def _statement(
        self,
        conn: Connection,
        selectable: sa.FromClause,
        order: Sequence[str],
        resume: Position | None,
    ) -> sa.Select[Any]:
        if isinstance(selectable, sa.Table):
            columns = [selectable.c[n] for n in self.selected] if self.selected else [selectable]
            stmt = sa.select(*columns)
        else:
            stmt = sa.select(sa.literal_column("*"))
        stmt = stmt.select_from(selectable)
        cols = [selectable.c[n] for n in order]
        if self.cursor:
            stmt = stmt.where(cols[0].is_not(None))
            self._warn_null_cursor(conn, selectable, cols[0])
        if resume is not None and order and self.lookback and self.cursor:
            stmt = stmt.where(cols[0] >= _behind(resume[0], self.lookback, self.sync))
        elif resume is not None and order:
            stmt = stmt.where(_after(cols, resume, inclusive=len(order) == 1 and not self.key))
        elif resume is not None:
            stmt = stmt.offset(int(resume[0]))
        return stmt.order_by(*cols)

    def _warn_null_cursor(
        self, conn: Connection, selectable: sa.FromClause, cursor: sa.ColumnElement[Any]
    ) -> None:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(selectable).where(cursor.is_(None))
        ).scalar_one()
        if count:
            log.warning("sql_rows_without_cursor", cursor=self.cursor, rows=count)


def _dbt_table(config: Mapping[str, Any], context: SourceContext) -> str | None:
    """`schema.alias` of the dbt model the block names, from the project's manifest."""
    if "dbt" not in config:
        return None
    try:
        return dbt.resolve(config["dbt"], context.spec_dir).table
    except dbt.DbtModelError as exc:
        raise OmnisyncError(f"{context.sync_name}: {exc}") from None


def _behind(mark: Any, lookback: float, sync: str) -> Any:
    """The cursor value `lookback` seconds before the mark: late rows are read again."""
    if isinstance(mark, dt.datetime | dt.date):
        return mark - dt.timedelta(seconds=lookback)
    raise OmnisyncError(
        f"{sync}: lookback needs a date or time cursor; the stored mark is {type(mark).__name__}"
    )


def _after(
    cols: Sequence[sa.ColumnElement[Any]], resume: Position, inclusive: bool
) -> sa.ColumnElement[bool]:
    """(a, b, c) > (x, y, z) spelled with AND/OR, which every database understands and indexes."""
    if len(resume) != len(cols):
        raise OmnisyncError(
            f"the stored position {resume!r} does not fit the order ({len(cols)} columns); "
            "the cursor or key changed since it was stored"
        )
    if inclusive:
        at_or_after: sa.ColumnElement[bool] = cols[0] >= resume[0]
        return at_or_after
    clauses = []
    for i, col in enumerate(cols):
        equal = [cols[j] == resume[j] for j in range(i)]
        clauses.append(sa.and_(*equal, col > resume[i]))
    return sa.or_(*clauses)


def _short(exc: SQLAlchemyError) -> str:
    """The driver's own message, without SQLAlchemy's statement dump and background link."""
    origin = getattr(exc, "orig", None)
    return str(origin if origin is not None else exc).strip().splitlines()[0]
