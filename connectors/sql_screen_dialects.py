"""The SQL each database needs for change detection in the source (connectors/sql_screen.py runs
it): the row and key digests as expressions (PostgreSQL hashtextextended(), MySQL/MariaDB MD5(),
SQLite a function omnisync registers), the digest table, and the checks that the user may keep it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.contracts import ScreenRequest
from engine.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection, Engine

    from connectors.sql import SqlSource
else:
    sa = lazy_module("sqlalchemy")

DEFAULT_TABLE = "omnisync_digests"
DIALECTS = ("postgresql", "mysql", "mariadb", "sqlite")


def _sqlite_md5(text: str | None) -> bytes | None:
    return None if text is None else hashlib.md5(text.encode("utf-8")).digest()


def open_engine(url: str) -> Engine:
    """An engine whose SQLite connections know omnisync_md5()."""
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":

        def register(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.create_function("omnisync_md5", 1, _sqlite_md5, deterministic=True)

        sa.event.listen(engine, "connect", register)
    return engine


def digest_table(request: ScreenRequest) -> sa.Table:
    from sqlalchemy.dialects import mysql

    binary = sa.LargeBinary().with_variant(mysql.BINARY(16), "mysql", "mariadb")
    return sa.Table(
        str(request.options.get("table") or DEFAULT_TABLE),
        sa.MetaData(),
        sa.Column("sync_id", binary, primary_key=True),
        sa.Column("key_hash", binary, primary_key=True),
        sa.Column("digest", binary, nullable=False),
        schema=request.options.get("schema"),
    )


def named(table: sa.Table) -> str:
    return f"{table.schema}.{table.name}" if table.schema else table.name


def _mysql_part(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """One value as `<length>:<text>`, NULL as `~`: no other value (or NULL) reads alike."""
    return sa.func.coalesce(sa.func.concat(sa.func.length(column), ":", column), "~")


def _sqlite_part(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """quote() is typed and escaped (NULL, 'text', X'blob', 12, 1.5), then prefixed with its
    length."""
    text: sa.ColumnElement[Any] = sa.cast(sa.func.quote(column), sa.Text)
    return sa.cast(sa.func.length(text), sa.Text) + ":" + text


# PostgreSQL's hashes fill 8 of a digest's 16 bytes; these fill the rest (never the zero bytes
# of the pending mark)
_PG_PAD = b"omnisync"


def _null_mark(position: int) -> int:
    """The 64-bit value a NULL at this position hashes to: fixed, and unlike any text's hash
    but 1 time in 2**64."""
    hashed = hashlib.blake2b(f"omnisync NULL {position}".encode(), digest_size=8).digest()
    return int.from_bytes(hashed, "big", signed=True)


def _postgres_hash(
    columns: Sequence[sa.ColumnElement[Any]], tail: str | None
) -> sa.ColumnElement[Any]:
    """Each value's 64-bit hashtextextended(), seeded with its position, combined by XOR: five
    times cheaper than hashing the row's text (record_out quotes every value), with no text
    built. A value moved to another column hashes with another seed, NULL has its own mark, and
    two changes cancel 1 time in 2**64."""
    combined: sa.ColumnElement[Any] | None = None
    for position, column in enumerate(columns, start=1):
        seed = sa.literal(position, sa.BigInteger)
        hashed = sa.func.coalesce(
            sa.func.hashtextextended(sa.cast(column, sa.Text), seed),
            sa.literal(_null_mark(position), sa.BigInteger),
        )
        combined = hashed if combined is None else combined.op("#")(hashed)
    if tail is not None:
        fingerprint = sa.func.hashtextextended(
            sa.literal(tail, sa.Text), sa.literal(0, sa.BigInteger)
        )
        combined = fingerprint if combined is None else combined.op("#")(fingerprint)
    assert combined is not None, "a digest of no column"
    padded = sa.func.int8send(combined).op("||")(sa.literal(_PG_PAD, sa.LargeBinary))
    return sa.type_coerce(padded, sa.LargeBinary)


def row_hash(
    columns: Sequence[sa.ColumnElement[Any]], dialect: str, tail: str | None = None
) -> sa.ColumnElement[Any]:
    """16 bytes that tell the columns' values (then `tail`) apart, in every dialect: PostgreSQL
    its 64-bit hashtextextended() per value (padded), MySQL/MariaDB MD5() and SQLite the
    function omnisync registers, of a canonical text. 64 bits are enough for both uses: two
    keys sharing a hash only make their rows compare as changed (sent again, never skipped: the
    digest covers the key's columns), and a changed row keeps its old digest 1 time in 2**64."""
    if dialect == "postgresql":
        return _postgres_hash(columns, tail)
    if dialect in ("mysql", "mariadb"):
        text: sa.ColumnElement[Any] = sa.func.concat_ws(",", *map(_mysql_part, columns))
        if tail is not None:
            text = sa.func.concat(text, f"|{tail}")
        return sa.func.unhex(sa.func.md5(text))
    parts = [_sqlite_part(column) for column in columns]
    text = parts[0]
    for part in parts[1:]:
        text = text + part
    if tail is not None:
        text = text + sa.literal(f"|{tail}", sa.Text)
    return sa.func.omnisync_md5(text)


def problem(source: SqlSource, request: ScreenRequest, prepare: bool) -> str | None:
    """Why the database cannot keep and compare digests, or None. `prepare`: create the digest
    table when missing; without it only look (privileges, a write rolled back)."""
    engine = open_engine(source.url)
    try:
        dialect = engine.dialect.name
        if dialect not in DIALECTS:
            return f"{dialect} has no hash function omnisync knows"
        table = digest_table(request)
        with engine.connect() as conn:
            try:
                exists = sa.inspect(conn).has_table(table.name, schema=table.schema)
            except sa.exc.SQLAlchemyError as exc:  # MySQL: no privilege on it, existing or not
                return f"this user may not read the digest table {named(table)}: {short_error(exc)}"
            if not exists and not prepare:
                return _create_problem(conn, table)
        if not exists:
            try:
                with engine.begin() as conn:
                    table.create(conn, checkfirst=True)
            except sa.exc.SQLAlchemyError as exc:
                return f"cannot create the digest table {named(table)}: {short_error(exc)}"
        return _write_problem(engine, table)
    except sa.exc.SQLAlchemyError as exc:
        return f"{source.safe_url}: {short_error(exc)}"
    finally:
        engine.dispose()


def _create_problem(conn: Connection, table: sa.Table) -> str | None:
    """Whether the user may create the missing table, where the database tells (PostgreSQL;
    MySQL/MariaDB for a user without an active role); elsewhere the run finds out."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        schema = table.schema or conn.execute(sa.text("SELECT current_schema()")).scalar()
        allowed = conn.execute(
            sa.text("SELECT has_schema_privilege(:s, 'CREATE')"), {"s": schema}
        ).scalar()
        where = f"schema {schema}"
    elif dialect in ("mysql", "mariadb"):
        schema = table.schema or conn.execute(sa.text("SELECT DATABASE()")).scalar()
        allowed = _mysql_may_create(conn, str(schema), table.name)
        where = f"database {schema}"
    else:
        return None
    if allowed is None or allowed:
        return None
    return (
        f"the digest table {named(table)} does not exist and this user may not create it "
        f"(no CREATE privilege on {where})"
    )


def _mysql_may_create(conn: Connection, schema: str, table: str) -> bool | None:
    """CREATE granted to the user globally, on the database (grants may name it by a pattern)
    or on the table; None when a role is active, whose grants these tables do not show."""
    role = conn.execute(sa.text("SELECT CURRENT_ROLE()")).scalar()
    if role not in (None, "NONE"):
        return None
    user, _, host = str(conn.execute(sa.text("SELECT CURRENT_USER()")).scalar()).rpartition("@")
    grantee = f"'{user}'@'{host}'"
    granted = conn.execute(
        sa.text(
            "SELECT (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES"
            "        WHERE GRANTEE = :g AND PRIVILEGE_TYPE = 'CREATE')"
            " + (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES"
            "    WHERE GRANTEE = :g AND PRIVILEGE_TYPE = 'CREATE' AND :s LIKE TABLE_SCHEMA)"
            " + (SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES"
            "    WHERE GRANTEE = :g AND PRIVILEGE_TYPE = 'CREATE' AND TABLE_SCHEMA = :s"
            "      AND TABLE_NAME = :t)"
        ),
        {"g": grantee, "s": schema, "t": table},
    ).scalar()
    return bool(granted)


def _write_problem(engine: Engine, table: sa.Table) -> str | None:
    """Every statement the screen runs on the digest table, on no row, rolled back."""
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            nothing = sa.false()
            conn.execute(sa.select(table.c.digest).where(nothing))
            conn.execute(sa.update(table).where(nothing).values(digest=table.c.digest))
            conn.execute(sa.delete(table).where(nothing))
            conn.execute(
                sa.insert(table).from_select(
                    ["sync_id", "key_hash", "digest"], sa.select(table).where(nothing)
                )
            )
            transaction.rollback()
    except sa.exc.SQLAlchemyError as exc:
        return f"cannot write to the digest table {named(table)}: {short_error(exc)}"
    return None


def short_error(exc: Exception) -> str:
    """The database's own message, first line: the driver's wrapping says nothing more."""
    origin = getattr(exc, "orig", None)
    return str(origin if origin is not None else exc).strip().splitlines()[0]
