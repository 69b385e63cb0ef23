"""The s3 source against moto's S3-compatible server on 127.0.0.1, through the pipeline."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.s3 import S3Source
from engine.contracts import SourceContext
from tests.conftest import RunningSandbox, moto_client, moto_server, run_cli
from tests.integration._sources import collect, deliver, first_and_count, member, write_spec

ROWS = 100_000
BUCKET = "exports"
KEY_ID = "AKIAOMNISYNCTEST0001"
SECRET = "s3cr3t-0f-the-omnisync-tests-do-not-print"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto in server mode over HTTP on 127.0.0.1, with a bucket of exports."""
    with moto_server() as url:
        client = moto_client(url, KEY_ID, SECRET)
        client.create_bucket(Bucket=BUCKET)
        _upload_exports(client)
        client.close()
        yield url


def _csv_gz(start: int, count: int) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["id", "name"])
    writer.writerows(member(i) for i in range(start, start + count))
    return gzip.compress(text.getvalue().encode("utf-8"))


def _upload_exports(client: Any) -> None:
    client.put_object(Bucket=BUCKET, Key="csv/members-1.csv.gz", Body=_csv_gz(0, 50_000))
    client.put_object(Bucket=BUCKET, Key="csv/members-2.csv.gz", Body=_csv_gz(50_000, 50_000))
    client.put_object(Bucket=BUCKET, Key="csv/readme.txt", Body=b"not an export")
    lines = b"".join(
        orjson.dumps({"id": sn, "name": name}) + b"\n" for sn, name in map(member, range(ROWS))
    )
    client.put_object(Bucket=BUCKET, Key="jsonl/members.jsonl", Body=lines)
    ids, names = zip(*(member(i) for i in range(ROWS)), strict=True)
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": list(ids), "name": list(names)}), buffer, row_group_size=8192)
    client.put_object(Bucket=BUCKET, Key="parquet/members.parquet", Body=buffer.getvalue())


def _block(endpoint: str, url: str, in_spec: bool = False, **more: Any) -> dict[str, Any]:
    """The source block; in a spec the keys are references (a spec never holds a secret)."""
    return {
        "url": url,
        "endpoint_url": endpoint,
        "region": "us-east-1",
        "access_key_id": "${S3_KEY_ID}" if in_spec else KEY_ID,
        "secret_access_key": "${S3_SECRET}" if in_spec else SECRET,
        **more,
    }


@pytest.fixture
def sandbox_env(sandbox_env: dict[str, str]) -> dict[str, str]:
    """The sandbox's environment plus the S3 keys the specs refer to."""
    return {**sandbox_env, "S3_KEY_ID": KEY_ID, "S3_SECRET": SECRET}


@pytest.mark.parametrize(
    ("url", "resume", "first_id", "remaining"),
    [
        ("s3://exports/csv/members-*.csv.gz", ("csv/members-1.csv.gz", 40_001), "M040000", 60_000),
        ("s3://exports/jsonl/", ("jsonl/members.jsonl", 99_000), "M099000", 1_000),
        ("s3://exports/parquet/*.parquet", ("parquet/members.parquet", 20_000), "M020000", 80_000),
    ],
    ids=["csv.gz", "jsonl", "parquet"],
)
async def test_objects_deliver_every_row_and_resume_after_a_position(
    s3_endpoint: str,
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    url: str,
    resume: tuple[str, int],
    first_id: str,
    remaining: int,
) -> None:
    """100,000 rows stream out of S3 objects to the sandbox; a resume reads only what follows."""
    result = await deliver(tmp_path, {"s3": _block(s3_endpoint, url, True)}, sandbox_env)

    assert result.syncs[0].as_dict()["delivered"] == ROWS
    stored = sandbox.records("audience")
    assert len(stored) == ROWS
    assert stored["M054321"] == {"member_sn": "M054321", "name": "會員54321"}

    source = S3Source(_block(s3_endpoint, url), SourceContext(tmp_path, "members"))
    first, count, _ = await first_and_count(source.read(resume))
    assert first is not None
    assert first.values == {"id": first_id, "name": f"會員{int(first_id[1:])}"}
    assert count == remaining


async def test_last_modified_order_positions_and_resume(s3_endpoint: str, tmp_path: Path) -> None:
    """With order: last_modified, positions are (last_modified, key, line) and resume by them."""
    config = _block(s3_endpoint, "s3://exports/csv/*.csv.gz", order="last_modified")
    source = S3Source(config, SourceContext(tmp_path, "members"))

    first, count, last = await first_and_count(source.read(None))
    assert first is not None
    assert last is not None
    assert count == ROWS
    assert len(first.position) == 4  # (last_modified, key, line, etag)
    assert source.locate(last).startswith("s3://exports/csv/")

    rows = await collect(source.read((*last[:2], last[2] - 3, last[3])))
    assert [r.position for r in rows] == [(*last[:2], last[2] - n, last[3]) for n in (2, 1, 0)]


def test_credentials_never_reach_the_output(
    s3_endpoint: str, tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """`omnisync run` at debug level, with a failing bucket: neither key appears anywhere."""
    block = {"s3": _block(s3_endpoint, "s3://no-such-bucket/x/", True)}
    spec = write_spec(tmp_path, block)

    result = run_cli("--log-level", "debug", "run", str(spec), env=sandbox_env)

    assert result.returncode != 0
    assert "no-such-bucket" in result.stderr
    for secret in (KEY_ID, SECRET):
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_validate_names_the_encoding_of_a_big5_object(
    s3_endpoint: str, tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    """The object is opened as a file is: a Big5 export read as UTF-8 is an error at the source."""
    client = moto_client(s3_endpoint, KEY_ID, SECRET)
    client.put_object(
        Bucket=BUCKET, Key="big5/members.csv", Body="id,name\nM1,王小明\n".encode("big5")
    )
    client.close()
    spec = write_spec(tmp_path, {"s3": _block(s3_endpoint, "s3://exports/big5/", True)})

    result = run_cli("validate", str(spec), env=sandbox_env)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "s3://exports/big5/members.csv: line 2 is not utf-8 text" in result.stderr
    assert "set `encoding: big5`" in result.stderr
