"""The three state backends for tests: SQLite in tmp, a unique PostgreSQL table, a moto S3 bucket."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
KEY_ID = "AKIAOMNISYNCSTATE001"
SECRET = "state-s3cr3t-never-printed-anywhere"
BACKENDS = ["sqlite", "postgres", "s3"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's S3-compatible server on 127.0.0.1 for the state tests."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_client(url: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )


@dataclass
class Backend:
    """One backend as a spec's `state:` block, plus the environment it needs."""

    name: str
    block: dict[str, Any]
    env: dict[str, str]

    def yaml(self) -> str:
        parts = ", ".join(f"{k}: {_yaml(v)}" for k, v in self.block.items())
        return "{" + parts + "}"


def _yaml(value: Any) -> str:
    return value if isinstance(value, str) and value.startswith("${") else repr(value)


def make_backend(name: str, tmp_path: Path, moto: str | None = None) -> Backend:
    unique = uuid.uuid4().hex[:10]
    if name == "sqlite":
        return Backend(name, {"backend": "sqlite", "path": str(tmp_path / "state.db")}, {})
    if name == "postgres":
        require_service("PostgreSQL", "127.0.0.1", 5432)
        return Backend(
            name,
            {"backend": "postgres", "url": "${STATE_DB}", "table": f"omnisync_t_{unique}"},
            {"STATE_DB": PG_URL},
        )
    assert moto is not None
    bucket = f"state-{unique}"
    client = s3_client(moto)
    client.create_bucket(Bucket=bucket)
    client.close()
    return Backend(
        name,
        {
            "backend": "s3",
            "url": f"s3://{bucket}/nightly",
            "endpoint_url": moto,
            "region": "us-east-1",
            "lease": "2s",
        },
        {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET},
    )


def drop_postgres_tables(table: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as db:
        db.execute(f'DROP TABLE IF EXISTS "{table}", "{table}_digests"')
