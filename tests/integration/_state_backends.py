"""The three state backends for tests: SQLite in tmp, a unique PostgreSQL table, a moto S3 bucket."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningSandbox, moto_client, moto_server, require_service, run_cli
from tests.integration.test_signals import start
from tests.sandbox_specs import members, members_spec, write_rows

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
KEY_ID = "AKIAOMNISYNCSTATE001"
SECRET = "state-s3cr3t-never-printed-anywhere"
BACKENDS = ["sqlite", "postgres", "s3"]


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's S3-compatible server on 127.0.0.1 for the state tests."""
    with moto_server() as url:
        yield url


def s3_client(url: str) -> Any:
    return moto_client(url, KEY_ID, SECRET)


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
    return f'"{value}"' if isinstance(value, str) and value.startswith("${") else repr(value)


def make_backend(name: str, tmp_path: Path, moto: str | None = None) -> Backend:
    unique = uuid.uuid4().hex[:10]
    if name == "sqlite":
        return Backend(name, {"backend": "sqlite", "path": str(tmp_path / "state.db")}, {})
    if name == "postgres":
        require_service("PostgreSQL", "127.0.0.1", 5432)
        return Backend(
            name,
            # a short lease: a rerun after a kill waits for it (as on S3)
            {
                "backend": "postgres",
                "url": "${STATE_DB}",
                "table": f"omnisync_t_{unique}",
                "lease": "3s",
            },
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
            "lease": "3s",
        },
        {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET},
    )


def drop_postgres_tables(table: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as db:
        db.execute(
            f'DROP TABLE IF EXISTS "{table}", "{table}_digests", "{table}_leases",'
            f' "{table}_triggers"'
        )


SYNC = """\
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {delivery}
{extra}    mapping:
      member_sn: id
      name: name
      email: email
"""
FAST = "{rate_limit: 5000/s, concurrency: 8}"


class Runner:
    """Runs the spec as a fresh CI job would: a new directory each time unless the state is local."""

    def __init__(self, tmp: Path, backend: Backend, env: dict[str, str]) -> None:
        self.tmp, self.backend, self.env = tmp, backend, {**env, **backend.env}
        self.runs = 0
        self.rows = members(0)
        self.delivery, self.extra = FAST, ""
        self.last: subprocess.CompletedProcess[str] | None = None

    def directory(self) -> Path:
        local = self.backend.name == "sqlite"
        path = self.tmp / ("job" if local else f"job{self.runs}")
        path.mkdir(exist_ok=True)
        # a CI checkout: the spec's path in its repository names its state, whatever the folder
        (path / ".git").mkdir(exist_ok=True)
        write_rows(path / "members.csv", self.rows)
        sync = SYNC.format(delivery=self.delivery, extra=self.extra)
        text = members_spec(sync, top=f"state: {self.backend.yaml()}\n")
        (path / "sync.yaml").write_text(text, encoding="utf-8")
        return path

    def run(
        self, *args: str, ok: bool = True, env: dict[str, str] | None = None
    ) -> dict[str, object]:
        self.runs += 1
        job = self.directory()
        report = job / "report.json"
        report.unlink(missing_ok=True)
        done = run_cli(
            "run",
            str(job / "sync.yaml"),
            "--report",
            str(report),
            *args,
            env={**self.env, **(env or {})},
        )
        self.last = done
        if ok:
            assert done.returncode == 0, done.stderr
        if not report.exists():
            return {"returncode": done.returncode, "stderr": done.stderr}
        sync: dict[str, object] = json.loads(report.read_text())["syncs"][0]
        sync["stdout"] = done.stdout
        if self.backend.name != "sqlite":
            assert not (job / ".omnisync" / "state.db").exists()
            shutil.rmtree(job)  # the CI runner's disk is gone
        return sync

    def start(self, *args: str) -> subprocess.Popen[str]:
        self.runs += 1
        return start(self.directory() / "sync.yaml", self.env, *args)


def received(sandbox: RunningSandbox) -> int:
    return int(sandbox.stats()["received"].get("audience", 0))


@pytest.fixture(params=BACKENDS)
def runner(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
) -> Iterator[Runner]:
    moto = request.getfixturevalue("moto_url") if request.param == "s3" else None
    backend = make_backend(request.param, tmp_path, moto)
    yield Runner(tmp_path, backend, sandbox_env)
    if backend.name == "postgres":
        drop_postgres_tables(backend.block["table"])
