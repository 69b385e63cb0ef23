"""Change detection in the database (`change_detection: in_source`), for real on SQLite,
PostgreSQL and MariaDB: unchanged rows never leave the database, changed ones alone are sent,
digests are written back only after the acknowledgement, and where the database cannot keep
them the sync compares client-side with a note."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.run.runner import RunOptions, run_spec
from engine.specfile import load_spec
from tests.conftest import RunningSandbox, require_service, run_cli
from tests.integration._state_backends import received
from tests.sandbox_specs import sandbox_spec

SERVERS = {
    "postgresql": ("PostgreSQL", 5432, "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": ("MariaDB", 3306, "mysql+pymysql://root@127.0.0.1:3306/test"),
}
ROWS = 2_000

SYNC = """\
  - name: members
    source: {{sql: {{url: "{url}", table: {table}}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {{rate_limit: 5000/s, concurrency: 4}}
    change_detection: {detection}
    mapping:
{mapping}
"""
MAPPING = "      member_sn: member_sn\n      name: name\n"


@dataclass
class Members:
    """A uniquely named members table (id, member_sn, name, points), its digest table named too."""

    url: str
    table: str
    digests: str
    directory: Path
    env: dict[str, str]
    mapping: str = MAPPING
    detection: str = ""
    extra: list[str] = field(default_factory=list)

    @property
    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url, poolclass=sa.pool.NullPool)

    def execute(self, statement: str, **params: Any) -> None:
        engine = self.engine
        with engine.begin() as conn:
            conn.execute(sa.text(statement), params)
        engine.dispose()

    def spec(self) -> Path:
        detection = self.detection or f"{{in: source, table: {self.digests}}}"
        text = sandbox_spec(
            SYNC.format(url=self.url, table=self.table, detection=detection, mapping=self.mapping)
        )
        path = self.directory / "sync.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    async def run(self, *, dry_run: bool = False) -> dict[str, Any]:
        spec = load_spec(self.spec(), environ=self.env)
        result = await run_spec(spec, RunOptions(dry_run=dry_run))
        stats = result.syncs[0]
        assert result.error is None, result.error
        return {**stats.as_dict(), "notes": list(stats.notes)}

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return run_cli(*args, str(self.spec()), env={**self.env, **(env or {})})


def fetched(stats: dict[str, Any]) -> int:
    """Rows that left the database, from the sync's note."""
    for note in stats["notes"]:
        if note.startswith("change detection in the source: "):
            return int(note.split(": ")[1].split()[0])
    raise AssertionError(f"no in-source note in {stats['notes']}")


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def members(
    request: pytest.FixtureRequest, tmp_path: Path, sandbox_env: dict[str, str]
) -> Iterator[Members]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
    else:
        name, port, url = SERVERS[request.param]
        require_service(name, "127.0.0.1", port)
    suffix = uuid.uuid4().hex[:10]
    table = sa.Table(
        f"omnisync_is_members_{suffix}",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("member_sn", sa.String(20), nullable=False, unique=True),
        sa.Column("name", sa.String(50)),
        sa.Column("points", sa.Integer),
    )
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(
            table.insert(),
            [
                {"id": i, "member_sn": f"M{i:06d}", "name": f"會員{i}", "points": i}
                for i in range(ROWS)
            ],
        )
    made = Members(url, table.name, f"omnisync_is_digests_{suffix}", tmp_path, dict(sandbox_env))
    try:
        yield made
    finally:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
            sa.Table(made.digests, sa.MetaData()).drop(conn, checkfirst=True)
        engine.dispose()


def names(sandbox: RunningSandbox) -> dict[str, Any]:
    return {k: v.get("name") for k, v in sandbox.records("audience").items()}  # type: ignore[union-attr]


async def test_only_new_and_changed_rows_leave_the_database(
    members: Members, sandbox: RunningSandbox
) -> None:
    first = await members.run()
    assert (first["delivered"], first["unchanged"], fetched(first)) == (ROWS, 0, ROWS)

    again = await members.run()  # unchanged: not one row read out of the database
    assert (again["rows_read"], again["delivered"], again["unchanged"]) == (ROWS, 0, ROWS)
    assert fetched(again) == 0
    assert received(sandbox) == ROWS  # not one record sent again

    members.execute(
        f"UPDATE {members.table} SET name = name || ' (moved)' WHERE id % 100 = 0"
        if "mysql" not in members.url
        else f"UPDATE {members.table} SET name = CONCAT(name, ' (moved)') WHERE id % 100 = 0"
    )
    members.execute(f"UPDATE {members.table} SET points = points + 1 WHERE id = 7")  # not mapped
    moved = await members.run()
    assert (moved["delivered"], moved["unchanged"], fetched(moved)) == (20, ROWS - 20, 20)
    held = names(sandbox)
    assert len(held) == ROWS
    assert sorted(k for k, v in held.items() if str(v).endswith("(moved)")) == [
        f"M{i:06d}" for i in range(0, ROWS, 100)
    ]

    members.mapping = "      member_sn: member_sn\n      name: {from: name, transforms: [trim]}\n"
    remapped = await members.run()
    assert (remapped["delivered"], fetched(remapped)) == (ROWS, ROWS)

    members.execute(f"DELETE FROM {members.table} WHERE id >= {ROWS - 5}")
    members.execute(
        f"INSERT INTO {members.table} (id, member_sn, name, points) VALUES (:i, :s, :n, 0)",
        i=ROWS + 1,
        s="M999999",
        n="新",
    )
    left = await members.run()
    assert (left["delivered"], left["unchanged"], left["left_the_source"]) == (1, ROWS - 5, 5)
    assert (await members.run())["left_the_source"] == 0  # told once


async def test_a_dry_run_compares_and_writes_nothing(
    members: Members, sandbox: RunningSandbox
) -> None:
    await members.run()
    members.execute(f"UPDATE {members.table} SET name = 'x' WHERE id < 10")
    dry = await members.run(dry_run=True)
    assert (dry["unsent"] + dry["delivered"], dry["unchanged"], fetched(dry)) == (10, ROWS - 10, 10)
    real = await members.run()
    assert (real["delivered"], fetched(real)) == (10, 10)


@pytest.mark.parametrize("point", ["digest_save", "after_send"])
def test_a_crash_between_send_and_write_back_sends_again(
    members: Members, sandbox: RunningSandbox, point: str
) -> None:
    assert members.cli("run").returncode == 0
    members.execute(f"UPDATE {members.table} SET name = 'after' WHERE id < 300")
    crashed = members.cli("run", env={"OMNISYNC_CRASH_AT": point})
    assert crashed.returncode == -9, crashed.stderr
    report = members.directory / "report.json"
    rerun = members.cli("run", "--report", str(report))
    assert rerun.returncode == 0, rerun.stderr
    sent = json.loads(report.read_text())["syncs"][0]["delivered"]
    assert 0 < sent <= 300  # what was not written back is sent again, nothing else
    held = names(sandbox)
    assert [k for k, v in held.items() if v == "after"] == [f"M{i:06d}" for i in range(300)]
    assert members.cli("run", "--report", str(report)).returncode == 0
    assert json.loads(report.read_text())["syncs"][0]["delivered"] == 0


def test_a_source_that_cannot_compare_in_place_is_a_spec_error(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    (tmp_path / "members.csv").write_text("id,name\n1,a\n", encoding="utf-8")
    spec = tmp_path / "sync.yaml"
    spec.write_text(
        sandbox_spec(
            "  - name: members\n"
            "    source: {csv: {path: members.csv}}\n"
            "    destination: {endpoint: audience, options: {merge_key: member_sn}}\n"
            "    change_detection: in_source\n"
            "    mapping: {member_sn: id, name: name}\n"
        ),
        encoding="utf-8",
    )
    done = run_cli("validate", str(spec), env=sandbox_env)
    assert done.returncode == 2
    assert (
        "change_detection: in_source needs a source that compares in place"
        in done.stdout + done.stderr
    )


def test_a_key_that_cannot_be_told_is_a_spec_error(members: Members) -> None:
    members.mapping = '      member_sn: {template: "{member_sn}-x"}\n      name: name\n'
    done = members.cli("validate")
    assert done.returncode == 2
    assert "cannot tell which source column holds the record key" in done.stdout + done.stderr
    members.detection = f"{{in: source, table: {members.digests}, key: [member_sn]}}"
    assert members.cli("validate").returncode == 0


@pytest.fixture(params=["postgresql", "mariadb"])
def reader(
    request: pytest.FixtureRequest, sandbox_env: dict[str, str], tmp_path: Path
) -> Iterator[Members]:
    """A user that may read and nothing else (the members on PostgreSQL, the whole database on
    MariaDB): it can neither create the digest table (in the schema named for it on PostgreSQL,
    in the database on MariaDB) nor write to one."""
    name, port, admin_url = SERVERS[request.param]
    require_service(name, "127.0.0.1", port)
    suffix = uuid.uuid4().hex[:10]
    role, schema, table = f"omnisync_ro_{suffix}", f"omnisync_s_{suffix}", f"members_{suffix}"
    admin = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
    if request.param == "postgresql":
        made_by = (
            f"CREATE ROLE {role} LOGIN",
            f"CREATE SCHEMA {schema}",
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"CREATE TABLE {schema}.{table} (id int PRIMARY KEY, member_sn text, name text)",
            f"INSERT INTO {schema}.{table} SELECT i, 'M' || i, 'n' || i FROM generate_series(1, 300) i",
            f"GRANT SELECT ON {schema}.{table} TO {role}",
        )
        dropped_by = (f"DROP SCHEMA {schema} CASCADE", f"DROP ROLE {role}")
        url, located = admin_url.replace("postgres@", f"{role}@"), f"{schema}.{table}"
        detection = f"{{in: source, schema: {schema}, table: digests}}"
    else:
        rows = ", ".join(f"({i}, 'M{i}', 'n{i}')" for i in range(1, 301))
        made_by = (
            f"CREATE USER '{role}'@'%'",
            f"CREATE TABLE {table} (id int PRIMARY KEY, member_sn text, name text)",
            f"INSERT INTO {table} VALUES {rows}",
            f"GRANT SELECT ON test.* TO '{role}'@'%'",  # reads the whole database
        )
        dropped_by = (f"DROP TABLE {table}", f"DROP USER '{role}'@'%'")
        url, located = admin_url.replace("root@", f"{role}@"), table
        detection = "{in: source, table: digests}"
    with admin.begin() as conn:
        for statement in made_by:
            conn.execute(sa.text(statement))
    made = Members(url, located, "digests", tmp_path, dict(sandbox_env))
    made.detection = detection
    try:
        yield made
    finally:
        with admin.begin() as conn:
            for statement in dropped_by:
                conn.execute(sa.text(statement))
        admin.dispose()


async def test_without_write_permission_validate_says_so_and_the_run_compares_client_side(
    reader: Members, sandbox: RunningSandbox
) -> None:
    checked = reader.cli("validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    said = checked.stdout + checked.stderr
    assert "change detection in the source is not possible" in said
    assert "no CREATE privilege on" in said

    first = await reader.run()
    assert first["delivered"] == 300
    assert any("compared client-side" in note for note in first["notes"]), first["notes"]
    again = await reader.run()  # the client-side screen, in the state store
    assert (again["delivered"], again["unchanged"]) == (0, 300)
    assert received(sandbox) == 300


def test_plan_changes_counts_what_the_database_compared(members: Members) -> None:
    assert members.cli("run").returncode == 0
    members.execute(f"UPDATE {members.table} SET name = 'x' WHERE id < 7")
    members.execute(f"DELETE FROM {members.table} WHERE id = 1999")
    planned = members.cli("plan", "--changes", "--format", "json")
    assert planned.returncode == 0, planned.stderr
    sync = json.loads(planned.stdout)[0]
    assert (sync["new"], sync["changed"], sync["unchanged"]) == (0, 7, ROWS - 8), sync


def test_why_follows_a_key_of_an_in_source_sync(members: Members) -> None:
    assert members.cli("run").returncode == 0
    members.execute(f"UPDATE {members.table} SET name = 'x' WHERE id = 5")
    assert members.cli("run").returncode == 0
    done = run_cli("why", str(members.spec()), "M000005", "--format", "json", env=members.env)
    assert done.returncode == 0, done.stderr
    actions = [event["action"] for event in json.loads(done.stdout)[0]["runs"]]
    assert actions == ["new", "changed"], actions


async def test_a_dry_run_before_the_first_run_finds_every_row_new(
    members: Members, sandbox: RunningSandbox
) -> None:
    dry = await members.run(dry_run=True)
    assert (dry["unchanged"], fetched(dry)) == (0, ROWS)
    assert received(sandbox) == 0


async def test_null_empty_text_and_a_moved_boundary_are_changes(
    members: Members, sandbox: RunningSandbox
) -> None:
    """The database's digest tells apart what a careless text of the values would not: NULL
    and '', and a character moved from one column to the next ('x1', 2 against 'x', 12)."""
    members.mapping = (
        "      member_sn: member_sn\n      name: name\n"
        "      last_name: {from: points, transforms: [{cast: str}]}\n"
    )
    members.execute(f"UPDATE {members.table} SET name = NULL WHERE id = 1")
    members.execute(f"UPDATE {members.table} SET name = 'x1', points = 2 WHERE id = 2")
    members.execute(f"UPDATE {members.table} SET name = '', points = 3 WHERE id = 3")
    await members.run()
    members.execute(f"UPDATE {members.table} SET name = '' WHERE id = 1")
    members.execute(f"UPDATE {members.table} SET name = 'x', points = 12 WHERE id = 2")
    members.execute(f"UPDATE {members.table} SET name = NULL WHERE id = 3")
    again = await members.run()
    assert (fetched(again), again["unchanged"]) == (3, ROWS - 3)


def test_state_show_says_the_digests_are_in_the_database(members: Members) -> None:
    """The state store keeps one mark for an in-source sync; it is no record's digest."""
    assert members.cli("run").returncode == 0
    shown = members.cli("state", "show")
    assert shown.returncode == 0, shown.stderr
    assert (
        f"members: record digests kept in the source database (table {members.digests})"
        in shown.stdout
    ), shown.stdout
    assert "record digests (unchanged" not in shown.stdout


@pytest.mark.parametrize("members", ["mariadb"], indirect=True)
def test_a_mariadb_user_that_may_read_only_the_members_is_told_so(members: Members) -> None:
    """MariaDB will not say whether a table the user may not read exists: validate names that."""
    user = f"omnisync_t_{uuid.uuid4().hex[:10]}"
    members.execute(f"CREATE USER '{user}'@'%'")
    try:
        members.execute(f"GRANT SELECT ON test.{members.table} TO '{user}'@'%'")
        members.url = members.url.replace("root@", f"{user}@")
        said = members.cli("validate")
        assert said.returncode == 0, said.stdout + said.stderr
        assert (  # the rest (the database's words, naming the user) is masked
            "change detection in the source is not possible (this user may not read the "
            "digest table omnisync_is_digests_"
        ) in said.stdout + said.stderr
    finally:
        members.url = members.url.replace(f"{user}@", "root@")
        members.execute(f"DROP USER '{user}'@'%'")
