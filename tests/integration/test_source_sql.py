"""The sql source against SQLite, PostgreSQL and MariaDB, through the pipeline to the sandbox."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.sql import SqlSource
from engine.contracts import SourceContext
from tests.conftest import RunningSandbox, require_service
from tests.integration._sources import collect, deliver, first_and_count

ROWS = 100_000
BASE = dt.datetime(2024, 1, 1, 8, 0, 0)
SERVERS = {
    "postgresql": ("PostgreSQL", 5432, "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": ("MariaDB", 3306, "mysql+pymysql://root@127.0.0.1:3306/test"),
}


def updated_at(i: int) -> dt.datetime:
    """Ten rows share each timestamp, so resuming inside a tie is exercised."""
    return BASE + dt.timedelta(seconds=i // 10)


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(url, table): a uniquely named table with 100,000 members, read-only, dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sql') / 'members.db'}"
    else:
        name, port, url = SERVERS[request.param]
        require_service(name, "127.0.0.1", port)
    table_name = f"omnisync_members_{uuid.uuid4().hex[:10]}"
    table = sa.Table(
        table_name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("member_sn", sa.String(20), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("amount", sa.Numeric(10, 2)),
        sa.Column("active", sa.Boolean),
        sa.Column("born", sa.Date),
        sa.Column("blob", sa.LargeBinary),
    )
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            table.create(conn)
            for start in range(0, ROWS, 20_000):
                conn.execute(table.insert(), [_row(i) for i in range(start, start + 20_000)])
        yield url, table_name
    finally:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
        engine.dispose()


def _row(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "member_sn": f"M{i:06d}",
        "name": f"會員{i}",
        "updated_at": updated_at(i),
        "amount": Decimal(i) / 100,
        "active": i % 2 == 0,
        "born": dt.date(1990, 1, 1) + dt.timedelta(days=i % 365),
        "blob": bytes([i % 256, 0xAB]),
    }


def context(tmp_path: Path, cursor: str | None = "updated_at") -> SourceContext:
    return SourceContext(tmp_path, "members", cursor)


async def test_table_with_cursor_delivers_every_row_and_resumes_inside_a_tie(
    database: tuple[str, str],
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
) -> None:
    """100,000 rows arrive; a resume at (updated_at, id=50,004) starts at id 50,005 exactly."""
    url, table = database
    block = {"sql": {"url": "${DATABASE_URL}", "table": table}}

    result = await deliver(
        tmp_path, block, {**sandbox_env, "DATABASE_URL": url}, "member_sn", "updated_at"
    )

    assert result.syncs[0].as_dict()["delivered"] == ROWS
    stored = sandbox.records("audience")
    assert len(stored) == ROWS
    assert stored["M012345"] == {"member_sn": "M012345", "name": "會員12345"}

    source = SqlSource({"url": url, "table": table}, context(tmp_path))
    first, count, last = await first_and_count(source.read((updated_at(50_004), 50_004)))
    assert first is not None
    assert first.values is not None
    assert first.values["id"] == 50_005
    assert first.position == (updated_at(50_005), 50_005)
    assert count == ROWS - 50_005
    assert last == (updated_at(ROWS - 1), ROWS - 1)


async def test_values_become_json_safe(database: tuple[str, str], tmp_path: Path) -> None:
    """Decimal -> exact string, naive datetime -> ISO without offset, date, bool, bytes -> hex."""
    url, table = database
    source = SqlSource({"url": url, "table": table, "chunk_size": 7}, context(tmp_path, None))

    rows = await collect(source.read((ROWS - 4,)))

    assert [r.position for r in rows] == [(ROWS - 3,), (ROWS - 2,), (ROWS - 1,)]
    assert rows[-1].values == {
        "id": 99_999,
        "member_sn": "M099999",
        "name": "會員99999",
        "updated_at": "2024-01-01T10:46:39",
        "amount": "999.99",
        "active": False,
        "born": "1990-12-21",
        "blob": "9fab",
    }


async def test_query_with_bound_parameters_and_key_resumes(
    database: tuple[str, str], tmp_path: Path
) -> None:
    """A query with :params and a key streams in key order; a resume reads strictly after."""
    url, table = database
    config = {
        "url": url,
        "query": f"SELECT id, member_sn, name FROM {table} WHERE id >= :low AND name <> :skip",
        "params": {"low": 99_990, "skip": "會員99995"},
        "key": ["id"],
    }
    source = SqlSource(config, context(tmp_path, None))

    everything = [r.values["id"] for r in await collect(source.read(None)) if r.values]
    after = [r.values["id"] for r in await collect(source.read((99_993,))) if r.values]

    assert everything == [99_990, 99_991, 99_992, 99_993, 99_994, 99_996, 99_997, 99_998, 99_999]
    assert after == [99_994, 99_996, 99_997, 99_998, 99_999]


async def test_unknown_table_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    """A missing table names the table and the URL with its password hidden."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    source = SqlSource({"url": url, "table": "nowhere"}, context(tmp_path, None))

    with pytest.raises(Exception, match=r"no table nowhere in sqlite:///") as raised:
        await collect(source.read(None))
    assert type(raised.value).__name__ == "OmnisyncError"
