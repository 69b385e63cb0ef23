"""Peak RSS of the sql source reading 100,000 vs 1,000,000 PostgreSQL rows: memory must stay flat.

Each read runs in a fresh subprocess (ru_maxrss is a high-water mark per process). Prints both
figures and their ratio; the goal is a ratio within 1.10.

    python bench/sql_memory.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL, LARGE = 100_000, 1_000_000


def create(url: str, table: str) -> None:
    """One table of LARGE rows made server-side; the small read takes the first SMALL of it."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE {table} AS SELECT i AS id, 'M' || lpad(i::text, 7, '0') AS member_sn, "
            f"md5(i::text) AS name, now() - (i || ' seconds')::interval AS updated_at, "
            f"(i * 1.25)::numeric(12, 2) AS amount FROM generate_series(1, {LARGE}) AS i"
        )
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
    engine.dispose()


def drop(url: str, table: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    engine.dispose()


async def read(url: str, table: str, limit: int) -> int:
    from connectors.sql import SqlSource
    from engine.contracts import SourceContext

    query = f"SELECT * FROM {table} WHERE id <= :limit"
    config = {"url": url, "query": query, "params": {"limit": limit}, "key": ["id"]}
    source = SqlSource(config, SourceContext(ROOT, "bench"))
    count = 0
    async for _row in source.read(None):
        count += 1
    return count


def child(url: str, table: str, limit: int) -> None:
    started = time.perf_counter()
    count = asyncio.run(read(url, table, limit))
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{count} {peak_kib} {elapsed:.2f}")


def measure(url: str, table: str, limit: int) -> tuple[int, int, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--url", url, "--child", table, str(limit)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    count, peak, elapsed = done.stdout.split()
    return int(count), int(peak), float(elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--child", nargs=2, metavar=("TABLE", "LIMIT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.child[0], int(args.child[1]))
        return
    table = f"omnisync_bench_{uuid.uuid4().hex[:10]}"
    create(args.url, table)
    try:
        figures = {limit: measure(args.url, table, limit) for limit in (SMALL, LARGE)}
    finally:
        drop(args.url, table)
    for count, peak, elapsed in figures.values():
        print(
            f"{count:>9,} rows: peak RSS {peak / 1024:7.1f} MiB, {elapsed:6.2f}s, "
            f"{count / elapsed:,.0f} rows/s"
        )
    ratio = figures[LARGE][1] / figures[SMALL][1]
    print(f"peak RSS ratio 1,000,000 / 100,000 rows: {ratio:.3f} (goal <= 1.10)")


if __name__ == "__main__":
    main()
