"""`omnisync init`: for every source x endpoint, a spec that validates as written and delivers its
sample rows to the embedded sandbox (S3 through the moto server)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.starters import STARTERS
from connectors.s3 import S3Source
from engine.contracts import SourceContext
from tests.conftest import invoke_cli, moto_client, moto_server

BUCKET = "omnisync-init-tests"


@pytest.fixture(scope="module")
def s3_env() -> Iterator[dict[str, str]]:
    """moto on 127.0.0.1 and the AWS variables a user would set for it."""
    with moto_server() as url:
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "AKIAOMNISYNCINIT0001",
            "AWS_SECRET_ACCESS_KEY": "init-tests-secret-never-printed",
            "AWS_REGION": "us-east-1",
            "OMNISYNC_S3_BUCKET": BUCKET,
        }
        _client(env).create_bucket(Bucket=BUCKET)
        yield env


def _client(env: dict[str, str]) -> Any:
    return moto_client(
        env["AWS_ENDPOINT_URL"], env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    )


def _upload(env: dict[str, str], sample: Path, sync: str, endpoint: str) -> None:
    client = _client(env)
    # one prefix per endpoint's sync name: the starters' names are unique
    client.put_object(Bucket=BUCKET, Key=f"{sync}/{sync}.csv", Body=sample.read_bytes())
    assert endpoint in STARTERS


def test_every_endpoint_has_a_starter_with_unique_names() -> None:
    """The two questionnaire endpoints were missing from `init --endpoint`."""
    names = [s.sync for s in STARTERS.values()]
    assert len(set(names)) == len(names)
    assert sorted(STARTERS) == sorted(CATALOGUE)


@pytest.mark.parametrize("endpoint", sorted(STARTERS))
@pytest.mark.parametrize("source", ["csv", "sql", "s3"])
def test_init_writes_a_spec_that_validates_and_runs(
    tmp_path: Path, source: str, endpoint: str, s3_env: dict[str, str]
) -> None:
    starter = STARTERS[endpoint]
    env = s3_env if source == "s3" else {**os.environ}

    made = invoke_cli("init", "--source", source, "--endpoint", endpoint, env=env, cwd=tmp_path)

    assert made.returncode == 0, made.stderr
    spec = tmp_path / f"{starter.sync}.yaml"
    text = spec.read_text(encoding="utf-8")
    assert text.startswith(f"# {endpoint} records from ")
    if source == "s3":
        _upload(s3_env, tmp_path / "data" / f"{starter.sync}.csv", starter.sync, endpoint)
        block = {
            "url": f"s3://{BUCKET}/{starter.sync}/",
            "format": "csv",
            "endpoint_url": s3_env["AWS_ENDPOINT_URL"],
            "region": "us-east-1",
            "access_key_id": s3_env["AWS_ACCESS_KEY_ID"],
            "secret_access_key": s3_env["AWS_SECRET_ACCESS_KEY"],
        }
        sized = S3Source(block, SourceContext(tmp_path, starter.sync, None)).estimate_total()
        assert sized == len(starter.rows)  # the progress line's total
    checked = invoke_cli("validate", spec.name, env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.endswith(f"{spec.name}: ok (1 sync)\n")
    ran = invoke_cli("run", spec.name, "--report", "report.json", env=env, cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    (sync,) = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["syncs"]
    assert (sync["rows_read"], sync["delivered"], sync["rejected"]) == (len(starter.rows),) * 2 + (
        0,
    )


@pytest.mark.parametrize("endpoint", sorted(STARTERS))
@pytest.mark.parametrize("source", ["csv", "sql"])
def test_init_writes_one_mapping_test_that_passes(
    tmp_path: Path, source: str, endpoint: str
) -> None:
    """The pull-request job and the pre-commit hook run `omnisync test` on a new spec: it has a
    case (its first sample row and the record it becomes), and the case holds."""
    starter = STARTERS[endpoint]
    made = invoke_cli("init", "--source", source, "--endpoint", endpoint, cwd=tmp_path)
    assert made.returncode == 0, made.stderr

    tested = invoke_cli("test", "--require-tests", f"{starter.sync}.yaml", cwd=tmp_path)

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout == (
        f"PASS  {starter.sync}: the first sample row becomes this record\n1 passed, 0 failed\n"
    )


def test_a_mapping_test_written_by_init_fails_when_the_mapping_changes(tmp_path: Path) -> None:
    invoke_cli("init", "--source", "csv", "--endpoint", "audience", cwd=tmp_path)
    spec = tmp_path / "members.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("transforms: [trim, lower, email]", "transforms: [trim]"), "utf-8")

    tested = invoke_cli("test", "members.yaml", cwd=tmp_path)

    assert tested.returncode == 4
    assert '+  "email": "Ming@Example.com",' in tested.stdout


def test_init_does_not_overwrite_without_force(tmp_path: Path) -> None:
    first = invoke_cli("init", "--source", "csv", "--endpoint", "audience", cwd=tmp_path)
    again = invoke_cli("init", "--source", "csv", "--endpoint", "audience", cwd=tmp_path)
    forced = invoke_cli(
        "init", "--source", "csv", "--endpoint", "audience", "--force", cwd=tmp_path
    )

    assert first.returncode == 0
    assert again.returncode == 1
    assert "members.yaml" in again.stderr
    assert "--force overwrites" in again.stderr
    assert forced.returncode == 0
