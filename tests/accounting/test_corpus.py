"""The malformed-input corpus (tests/accounting/corpus.py) through the real runner to the sandbox.

For every case: no traceback (no sync stopped by an "unexpected" error), and rows read =
delivered + filtered + rejected + unsent, with `delivered` what the sandbox received and
`rejected` the lines of the reject file. One case per kind runs by default; every case (CSV,
JSON Lines, Parquet, SQL on PostgreSQL and MariaDB, S3 objects) with `pytest -m long`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from engine.errors import SpecError
from engine.run.runner import RunResult
from tests.accounting.corpus import GOOD, SQL_KINDS, FileCase, file_cases
from tests.accounting.harness import assert_accounted, members_sync, run
from tests.conftest import RunningSandbox, moto_client, moto_server, require_service

MAPPING = "      member_sn: member_sn\n      name: name\n      email: email\n"
SERVERS = {
    "postgresql": ("PostgreSQL", 5432, "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": ("MariaDB", 3306, "mysql+pymysql://root@127.0.0.1:3306/test"),
}


def _by_default(case: FileCase) -> bool:
    return FILE_CASES.index(case) % 12 == 0  # a spread over kinds, formats and endings


def _params(cases: list[FileCase], default: Any) -> list[Any]:
    return [
        pytest.param(case, id=case.id, marks=() if default(case) else pytest.mark.long)
        for case in cases
    ]


FILE_CASES = file_cases()


def check(result: RunResult, sandbox: RunningSandbox, directory: Path, case: str) -> None:
    """No traceback, every row accounted for; the counts are printed (-s shows them)."""
    assert "unexpected" not in str(result.error), result.error
    assert result.syncs, result.error
    for stats in result.syncs:
        assert "unexpected" not in str(stats.stopped), stats.stopped
    totals = assert_accounted(result, sandbox, directory)
    data = result.syncs[0].as_dict()
    print(
        f"{case}: read {data['rows_read']}, delivered {data['delivered']}, "
        f"rejected {data['rejected']}, filtered {data['filtered']}, unsent {data['unsent']}, "
        f"received {totals['received']}, stopped {data['stopped']!r}"
    )


@pytest.mark.parametrize("case", _params(FILE_CASES, _by_default))
async def test_file(
    case: FileCase, tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Each corpus file runs without a traceback with every row accounted for, or is refused unsent."""
    name = f"input{case.suffix}"
    (tmp_path / name).write_bytes(case.build())
    block = {case.fmt: {"path": name, **case.options}}

    await run_case(tmp_path, sandbox, sandbox_env, block, case.id)


async def run_case(
    directory: Path,
    sandbox: RunningSandbox,
    env: dict[str, str],
    block: dict[str, Any],
    case: str,
) -> RunResult | None:
    """The run, or None when the source lacks a mapped column: a spec error, nothing sent."""
    refused: SpecError | None = None
    try:
        result = await run(directory, env, members_sync(block, mapping=MAPPING))
    except SpecError as exc:
        refused = exc
    if refused is not None:
        assert "no column" in str(refused), refused
        assert sandbox.stats()["received"] == {}
        print(f"{case}: spec error, nothing read or sent: {refused.lines[0]}")
        return None
    check(result, sandbox, directory, case)
    return result


@pytest.fixture(params=["postgresql", "mariadb"])
def database(request: pytest.FixtureRequest) -> str:
    name, port, url = SERVERS[request.param]
    require_service(name, "127.0.0.1", port)
    return url


_SQL_TYPES = {
    "text": lambda: sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb"),
    "numeric": lambda: sa.Numeric(40, 0),
    "bigint": sa.BigInteger,
    "binary": sa.LargeBinary,
}


@pytest.mark.services
@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(k, marks=() if k in ("nulls-everywhere", "huge-numeric") else pytest.mark.long)
        for k in SQL_KINDS
    ],
)
async def test_sql(
    kind: str,
    database: str,
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
) -> None:
    """Every row of a table of awkward values is read and accounted for, in PostgreSQL and MariaDB."""
    name_type, extra = SQL_KINDS[kind]
    table_name = f"omnisync_corpus_{uuid.uuid4().hex[:10]}"
    table = sa.Table(
        table_name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("member_sn", sa.String(50)),
        sa.Column("name", _SQL_TYPES[name_type]()),
        sa.Column("email", sa.String(50)),
    )
    rows: list[dict[str, Any]] = [
        dict(zip(("member_sn", "name", "email"), r, strict=True)) for r in GOOD
    ]
    if name_type != "text":
        rows = [{**r, "name": None} for r in rows]
    rows += extra
    engine = sa.create_engine(database)
    try:
        with engine.begin() as conn:
            table.create(conn)
            conn.execute(table.insert(), [{"id": i, **r} for i, r in enumerate(rows)])
        block = {"sql": {"url": database, "table": table_name}}
        result = await run(tmp_path, sandbox_env, members_sync(block, mapping=MAPPING))
    finally:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
        engine.dispose()

    check(result, sandbox, tmp_path, f"sql-{kind}")
    assert result.syncs[0].read == len(rows)


KEY_ID = "AKIAOMNISYNCCORPUS01"
SECRET = "corpus-s3cr3t-never-printed"
BUCKET = "corpus"


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    with moto_server() as url:
        client = moto_client(url, KEY_ID, SECRET)
        client.create_bucket(Bucket=BUCKET)
        client.close()
        yield url


S3_CASES = [c for c in FILE_CASES if c.id.endswith(("-lf", "-cut", "-cr")) or c.fmt == "parquet"]
S3_DEFAULT = {
    "csv-ragged-extra-lf",
    "csv-clean-gz-cut",
    "jsonl-invalid-json-cr",
    "parquet-int-keys",
}


@pytest.mark.parametrize("case", _params(S3_CASES, lambda c: c.id in S3_DEFAULT))
async def test_s3_object(
    case: FileCase,
    s3_url: str,
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
) -> None:
    """A corpus file read from S3 is accounted for like a local one, and no error shows the S3 secret."""
    prefix = uuid.uuid4().hex[:10]
    client = moto_client(s3_url, KEY_ID, SECRET)
    client.put_object(Bucket=BUCKET, Key=f"{prefix}/input{case.suffix}", Body=case.build())
    client.close()
    block = {
        "s3": {
            "url": f"s3://{BUCKET}/{prefix}/",
            "endpoint_url": s3_url,
            "region": "us-east-1",
            "access_key_id": KEY_ID,
            "secret_access_key": "${CORPUS_S3_SECRET}",  # a spec holds no literal secret
            **case.options,
        }
    }
    env = {**sandbox_env, "CORPUS_S3_SECRET": SECRET}

    result = await run_case(tmp_path, sandbox, env, block, f"s3-{case.id}")

    assert SECRET not in str(result.error if result else "")


async def test_d3_an_s3_object_replaced_since_the_stored_position_is_read_again(
    s3_url: str, tmp_path: Path
) -> None:
    """Defect 3 for S3: an object uploaded again under the same key is not resumed by line."""
    from connectors.s3 import S3Source
    from engine.contracts import SourceContext
    from tests.integration._sources import collect

    key = f"{uuid.uuid4().hex[:10]}/m.csv"
    client = moto_client(s3_url, KEY_ID, SECRET)
    client.put_object(Bucket=BUCKET, Key=key, Body=b"member_sn\n" + b"M1\n" * 1000)
    config = {
        "url": f"s3://{BUCKET}/{key}",
        "endpoint_url": s3_url,
        "region": "us-east-1",
        "access_key_id": KEY_ID,
        "secret_access_key": SECRET,
    }
    source = S3Source(config, SourceContext(tmp_path, "members"))
    stored = (await collect(source.read(None)))[599].position
    assert len(await collect(source.read(stored))) == 400

    client.put_object(Bucket=BUCKET, Key=key, Body=b"member_sn\n" + b"N1\n" * 500 + b"M1\n" * 1000)
    client.close()
    source = S3Source(config, SourceContext(tmp_path, "members"))
    rows = await collect(source.read(stored))

    assert len(rows) == 1500
    assert "changed since the stored position" in source.notes[0]
