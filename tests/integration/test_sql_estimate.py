"""The SQL source's size estimate (the progress line's total, the big-source warning): from the
database's statistics, or a count for SQLite; a query's size is unknown."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.sql import SqlSource
from engine.contracts import SourceContext
from tests.conftest import require_service

SERVERS = {
    "postgresql": ("PostgreSQL", 5432, "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": ("MariaDB", 3306, "mysql+pymysql://root@127.0.0.1:3306/test"),
}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_a_table_knows_its_size_a_query_does_not(tmp_path: Path, backend: str) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        name, port, url = SERVERS[backend]
        require_service(name, "127.0.0.1", port)
    table = f"omnisync_estimate_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)"))
            conn.execute(
                sa.text(f"INSERT INTO {table} (id) VALUES (:i)"), [{"i": i} for i in range(321)]
            )
            if backend == "postgresql":
                conn.execute(sa.text(f"ANALYZE {table}"))
            if backend == "mariadb":
                conn.execute(sa.text(f"ANALYZE TABLE {table}"))
        context = SourceContext(tmp_path, "members", None)

        estimate = SqlSource({"url": url, "table": table}, context).estimate_total()
        query = SqlSource({"url": url, "query": f"SELECT id FROM {table}"}, context)
        missing = SqlSource({"url": url, "table": "no_such_table_here"}, context)

        assert estimate is not None
        if backend == "sqlite":
            assert estimate == 321  # counted
        assert abs(estimate - 321) <= 32  # the servers' statistics are estimates
        assert query.estimate_total() is None
        assert missing.estimate_total() is None
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()
