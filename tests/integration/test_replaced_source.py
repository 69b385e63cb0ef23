"""A file or object replaced since the stored position: the run starts over and says so.

The source knows (its identity: size, mtime and hash of a file, the ETag of an object); the engine
asks it before it resumes, so the run prints why it starts from the beginning, never "resumed
after", and `state show` calls the stored position stale instead of "fingerprint ok".
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors import file_identity
from connectors.csv import CsvSource
from connectors.s3 import S3Source
from engine.contracts import SourceContext, resume_problem
from tests.conftest import RunningSandbox, moto_client, moto_server
from tests.integration._sources import collect
from tests.integration.test_state import interrupted, run, show
from tests.sandbox_specs import members, write_rows

KEY_ID = "AKIAOMNISYNCREPLACED"
SECRET = "replaced-s3cr3t"
BUCKET = "replaced"


def test_a_replaced_csv_starts_over_and_the_run_and_state_show_say_why(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = interrupted(tmp_path, sandbox, sandbox_env, 3000)
    newcomers = [(f"N{i:06d}", f"new {i}", f"n{i}@example.com") for i in range(500)]
    write_rows(tmp_path / "members.csv", [*newcomers, *members(3000)])  # inserted at the top

    shown = show(spec, sandbox_env)
    assert "fingerprint ok" not in shown
    assert "stale: members.csv changed since the stored position" in shown

    sync, out, err = run(spec, sandbox_env)

    why = "members.csv changed since the stored position (its content before the stored position"
    assert "resumed after" not in out
    assert f"members: {why} changed): starting from the beginning" in out
    assert "state_stale" in err
    assert sync["resumed_from"] is None
    assert sync["rows_read"] == 3500
    assert len(sandbox.records("audience")) == 3500


def test_a_csv_that_only_grew_still_resumes(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = interrupted(tmp_path, sandbox, sandbox_env, 3000)
    with (tmp_path / "members.csv").open("a", encoding="utf-8") as handle:
        handle.write("N1,new,n1@example.com\n")

    assert "fingerprint ok" in show(spec, sandbox_env)
    sync, out, _ = run(spec, sandbox_env)

    assert "members: resumed after members.csv:" in out
    assert int(str(sync["rows_read"])) < 3001
    assert len(sandbox.records("audience")) == 3001


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    with moto_server() as url:
        client = moto_client(url, KEY_ID, SECRET)
        client.create_bucket(Bucket=BUCKET)
        client.close()
        yield url


def test_an_s3_object_uploaded_again_is_changed_since_its_stored_position(
    s3_url: str, tmp_path: Path
) -> None:
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
    stored = asyncio.run(collect(source.read(None)))[599].position
    assert resume_problem(source, stored) is None

    client.put_object(Bucket=BUCKET, Key=key, Body=b"member_sn\n" + b"N1\n" * 500)
    assert f"s3://{BUCKET}/{key} changed since the stored position (another ETag)" == (
        resume_problem(source, stored)
    )
    client.delete_object(Bucket=BUCKET, Key=key)
    client.close()
    assert "(it is gone)" in str(resume_problem(source, stored))


def test_a_local_file_is_hashed_once_when_it_only_grew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's check before resuming and the read's own check do not both hash the file."""
    path = tmp_path / "m.csv"
    path.write_text("member_sn\n" + "M1\n" * 1000, encoding="utf-8")
    source = CsvSource({"path": "m.csv"}, SourceContext(tmp_path, "members"))
    stored = asyncio.run(collect(source.read(None)))[599].position
    with path.open("a", encoding="utf-8") as handle:
        handle.write("M2\n")
    checks: list[Path] = []
    still_same = file_identity.still_same
    monkeypatch.setattr(
        file_identity, "still_same", lambda p, identity: checks.append(p) or still_same(p, identity)
    )

    assert source.changed_since(stored) is None
    assert len(asyncio.run(collect(source.read(stored)))) == 401  # lines 602 to 1002

    assert checks == [path]
