"""Whose state it is: two specs named alike (two accounts, one source, one state database) each
keep their own incremental mark, a fresh checkout in another folder finds its state, and a store
written under the former key (the spec's file name) moves under the new key without a loss."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_API_KEY, RunningSandbox, run_cli, running_sandbox
from tests.integration._state_backends import (
    Backend,
    Runner,
    drop_postgres_tables,
    make_backend,
    moto_url,
    received,
    runner,
)
from tests.integration.test_delivery import members

__all__ = ["moto_url", "runner"]  # fixtures

JP_TID = "OA-jp"
SPEC = """\
version: 1
omnisegment: {{base_url: "{url}", tid: {tid}, api_key: "${{OMNISEGMENT_API_KEY}}"}}
state: {state}
syncs:
  - name: members
    source: {{sql: {{url: "{source}", table: members}}}}
    incremental: {{cursor: updated_at}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {{rate_limit: 5000/s}}
    mapping: {{member_sn: member_sn, name: name}}
"""


@pytest.fixture
def jp_sandbox() -> Iterator[RunningSandbox]:
    """A second account, in a sandbox of its own: what it holds is apart from the first's."""
    with running_sandbox(JP_TID, TEST_API_KEY) as running:
        yield running


def add_members(url: str, start: int, count: int) -> None:
    """Rows start..start+count of the warehouse table, each newer than the last."""
    base = dt.datetime(2024, 1, 1, 8, 0)
    table = sa.table("members", sa.column("member_sn"), sa.column("name"), sa.column("updated_at"))
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS members"
                " (member_sn VARCHAR(20) PRIMARY KEY, name VARCHAR(40), updated_at TIMESTAMP)"
            )
        )
        rows = [
            {
                "member_sn": f"M{i:05d}",
                "name": f"member {i}",
                "updated_at": base + dt.timedelta(minutes=i),
            }
            for i in range(start, start + count)
        ]
        db.execute(sa.insert(table), rows)
    engine.dispose()


def write_team_specs(repo: Path, backend: Backend, source: str, urls: dict[str, str]) -> None:
    (repo / ".git").mkdir(parents=True, exist_ok=True)
    for team, tid in (("tw", "OA-test"), ("jp", JP_TID)):
        (repo / team).mkdir(exist_ok=True)
        text = SPEC.format(url=urls[team], tid=tid, state=backend.yaml(), source=source)
        (repo / team / "members.yaml").write_text(text, encoding="utf-8")


def run_team(repo: Path, team: str, env: dict[str, str]) -> dict[str, object]:
    report = repo / f"{team}.json"
    done = run_cli("run", str(repo / team / "members.yaml"), "--report", str(report), env=env)
    assert done.returncode == 0, done.stderr
    sync: dict[str, object] = json.loads(report.read_text())["syncs"][0]
    return sync


@pytest.mark.parametrize("backend_name", ["sqlite", "postgres"])
def test_two_specs_named_alike_each_deliver_every_row(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sandbox: RunningSandbox,
    jp_sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    backend_name: str,
) -> None:
    """tw/members.yaml and jp/members.yaml: one warehouse table, two accounts, one state store.

    Before, the JP run took the TW run's incremental mark as its own and read nothing."""
    backend = make_backend(backend_name, tmp_path)
    if backend_name == "postgres":
        request.addfinalizer(lambda: drop_postgres_tables(backend.block["table"]))
    source = f"sqlite:///{tmp_path / 'warehouse.db'}"
    add_members(source, 0, 50)
    env = {**sandbox_env, **backend.env}
    repo = tmp_path / "checkout"
    write_team_specs(repo, backend, source, {"tw": sandbox.url, "jp": jp_sandbox.url})
    assert run_team(repo, "tw", env)["delivered"] == 50
    assert run_team(repo, "jp", env)["delivered"] == 50  # was 0: the TW mark was taken
    assert len(sandbox.records("audience")) == len(jp_sandbox.records("audience")) == 50

    add_members(source, 50, 10)
    assert run_team(repo, "jp", env)["delivered"] == 10
    assert run_team(repo, "tw", env)["delivered"] == 10
    assert len(sandbox.records("audience")) == len(jp_sandbox.records("audience")) == 60

    shown = run_cli("state", "show", str(repo / "jp" / "members.yaml"), env=env)
    assert shown.returncode == 0, shown.stderr
    assert "identity: jp/members.yaml[OA-jp] (its path in its git repository" in shown.stdout
    assert "members: after " in shown.stdout

    if backend_name == "postgres":  # a fresh checkout elsewhere finds the same state
        moved = tmp_path / "elsewhere"
        shutil.copytree(repo, moved)
        shutil.rmtree(repo)
        add_members(source, 60, 5)
        again = run_team(moved, "tw", env)
        assert (again["rows_read"], again["delivered"]) == (5, 5)


def test_an_explicit_scope_names_the_state(tmp_path: Path, sandbox_env: dict[str, str]) -> None:
    spec = tmp_path / "sync.yaml"
    text = SPEC.format(
        url="http://127.0.0.1:9",
        tid="OA-test",
        state="{backend: sqlite, scope: nightly-tw}",
        source=f"sqlite:///{tmp_path / 'w.db'}",
    )
    spec.write_text(text, encoding="utf-8")
    shown = run_cli("state", "show", str(spec), env=sandbox_env)
    assert shown.returncode == 0, shown.stderr
    assert "identity: nightly-tw (state.scope in the spec)" in shown.stdout


def test_a_spec_outside_any_repository_is_named_by_its_absolute_path(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    spec = tmp_path / "sync.yaml"
    text = SPEC.format(
        url="http://127.0.0.1:9",
        tid="OA-test",
        state="{backend: sqlite}",
        source=f"sqlite:///{tmp_path / 'w.db'}",
    )
    spec.write_text(text, encoding="utf-8")
    shown = run_cli("state", "show", str(spec), env=sandbox_env)
    assert f"identity: {spec.resolve()}[OA-test] (its absolute path" in shown.stdout


@pytest.mark.parametrize("runner", ["sqlite", "postgres", "s3"], indirect=True)
def test_state_under_the_former_key_moves_without_a_loss(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    """Digests a former omnisync stored under `sync.yaml:members` move under the new key on the
    next run: nothing is sent again, the run says so, and `state show` names the new key."""
    runner.rows = members(300)
    runner.backend.block["scope"] = "sync.yaml"  # the former layout: keys `sync.yaml:<sync>`
    first = runner.run()
    assert first["delivered"] == 300
    del runner.backend.block["scope"]
    shown = run_cli("state", "show", str(runner.directory() / "sync.yaml"), env=runner.env)
    assert "members: stored under its former key sync.yaml:members" in shown.stdout, shown.stdout
    moved = runner.run()
    assert (moved["delivered"], moved["unchanged"]) == (0, 300)
    assert "state moved from its former key sync.yaml:members" in str(moved["stdout"])
    assert "300 record digests" in str(moved["stdout"])
    assert received(sandbox) == 300
    shown = run_cli("state", "show", str(runner.directory() / "sync.yaml"), env=runner.env)
    assert "identity: sync.yaml[OA-test]" in shown.stdout
    assert "members: 300 record digests" in shown.stdout
    assert "former key" not in shown.stdout
