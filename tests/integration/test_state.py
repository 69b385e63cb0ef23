"""Resumable and incremental runs through the state store, with `omnisync` run as a user runs it."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa

from engine.run.sync_state import STALE
from tests.conftest import RunningSandbox, invoke_cli, run_cli
from tests.integration.test_signals import start
from tests.sandbox_specs import members, sandbox_spec, write_rows

SYNC = """\
  - name: members
    source: {source}
    {incremental}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {delivery}
    mapping:
      member_sn: {key}
      name: name
      email: email
"""
CSV = "{csv: {path: members.csv}}"
SLOW = "{rate_limit: 20/s, concurrency: 4, batch_size: 50}"
FAST = "{rate_limit: 1000/s}"


def write_spec(
    directory: Path, source: str = CSV, delivery: str = FAST, incremental: str = "", key: str = "id"
) -> Path:
    spec = directory / "sync.yaml"
    text = sandbox_spec(
        SYNC.format(source=source, delivery=delivery, incremental=incremental, key=key)
    )
    spec.write_text(text, encoding="utf-8")
    return spec


def wait_for_records(sandbox: RunningSandbox, count: int, process: subprocess.Popen[str]) -> None:
    for _ in range(600):  # bounded: 60 s at most
        if sandbox.stats()["received"].get("audience", 0) >= count:
            return
        assert process.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} records reached the sandbox")


def run(spec: Path, env: dict[str, str], *args: str) -> tuple[dict[str, object], str, str]:
    report = spec.parent / "report.json"
    done = run_cli(
        "--log-level", "warning", "run", str(spec), "--report", str(report), *args, env=env
    )
    assert done.returncode == 0, done.stderr
    sync: dict[str, object] = json.loads(report.read_text())["syncs"][0]
    return sync, done.stdout, done.stderr


def show(spec: Path, env: dict[str, str]) -> str:
    done = invoke_cli("state", "show", str(spec), env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def interrupted(tmp_path: Path, sandbox: RunningSandbox, env: dict[str, str], rows: int) -> Path:
    """A slow run stopped by SIGINT after a few hundred records: its low-water mark is stored."""
    write_rows(tmp_path / "members.csv", members(rows))
    spec = write_spec(tmp_path, delivery=SLOW)
    sandbox.configure(rate_limit=20)
    process = start(spec, env)
    wait_for_records(sandbox, 300, process)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    sandbox.configure(rate_limit=None)
    write_spec(tmp_path)  # delivery settings may change freely between runs
    return spec


def test_a_sigkilled_run_resumes_after_the_last_finished_row(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """SIGKILL mid-run, rerun: all 20,000 members arrive, and only what was in flight twice."""
    rows, concurrency, batch = 20_000, 4, 50
    write_rows(tmp_path / "members.csv", members(rows))
    spec = write_spec(tmp_path, delivery=SLOW)
    sandbox.configure(rate_limit=20)
    process = start(spec, sandbox_env)
    wait_for_records(sandbox, 2000, process)
    process.kill()
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    first = sandbox.stats()["received"]["audience"]
    assert first < rows

    sandbox.configure(rate_limit=None)
    write_spec(tmp_path)
    sync, out, _ = run(spec, sandbox_env)

    assert len(sandbox.records("audience")) == rows  # every member delivered
    assert "members: resumed after members.csv:" in out
    assert str(sync["resumed_from"]).startswith("members.csv:")
    assert int(sync["rows_read"]) < rows  # the rerun skipped what was finished
    twice = sandbox.stats()["received"]["audience"] - rows
    assert 0 <= twice <= concurrency * batch * 4  # in flight, plus marks not yet saved
    assert int(sync["rows_read"]) - int(sync["delivered"]) == 0
    assert "no stored position" in show(spec, sandbox_env)  # a clean finish clears it


def test_sigint_stores_the_mark_and_state_show_renders_it(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = interrupted(tmp_path, sandbox, sandbox_env, 3000)
    shown = show(spec, sandbox_env)
    assert "members: after members.csv:" in shown
    assert "(resume), saved 20" in shown
    assert "fingerprint ok" in shown
    assert sandbox_env["OMNISEGMENT_API_KEY"] not in (
        tmp_path / ".omnisync" / "state.db"
    ).read_bytes().decode("latin-1")

    sync, _out, _ = run(spec, sandbox_env)
    assert int(sync["rows_read"]) < 3000
    assert len(sandbox.records("audience")) == 3000
    assert "no stored position" in show(spec, sandbox_env)


def test_a_changed_source_block_makes_the_stored_position_stale(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = interrupted(tmp_path, sandbox, sandbox_env, 3000)
    write_spec(tmp_path, source="{csv: {path: members.csv, delimiter: ','}}")
    assert "stale: the source changed" in show(spec, sandbox_env)

    sync, out, err = run(spec, sandbox_env)

    assert f"members: {STALE}" in out
    assert "state_stale" in err
    assert sync["resumed_from"] is None
    assert sync["notes"] == [STALE]
    assert sync["rows_read"] == 3000


def test_full_refresh_reads_everything_and_dry_run_leaves_the_state_alone(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = interrupted(tmp_path, sandbox, sandbox_env, 3000)
    before = show(spec, sandbox_env)

    dry, out, _ = run(spec, sandbox_env, "--dry-run")
    assert dry["resumed_from"] is not None
    assert int(dry["rows_read"]) < 3000
    assert show(spec, sandbox_env) == before  # ... and writes nothing

    sync, out, _ = run(spec, sandbox_env, "--full-refresh")
    assert sync["rows_read"] == 3000
    assert "members: full refresh: the stored position was ignored" in out
    assert "no stored position" in show(spec, sandbox_env)


def test_state_reset_forgets_the_selected_sync(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = interrupted(tmp_path, sandbox, sandbox_env, 3000)
    done = invoke_cli("state", "reset", str(spec), "--select", "members", env=sandbox_env)
    assert done.returncode == 0
    assert done.stdout.startswith("members: cleared position and ")  # ... and the digests
    assert done.stdout.endswith(" record digests\n")
    assert "members: no stored position" in show(spec, sandbox_env)
    assert "record digests" not in show(spec, sandbox_env)
    again = invoke_cli("state", "reset", str(spec), env=sandbox_env)
    assert (again.returncode, again.stdout) == (0, "members: no stored position\n")
    unknown = invoke_cli("state", "reset", str(spec), "--select", "nope", env=sandbox_env)
    assert unknown.returncode != 0
    assert "no sync named 'nope'" in unknown.stderr


def test_an_incremental_sql_sync_reads_only_the_newer_rows(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """300 rows, then 120 more with later cursor values: the second run reads exactly 120."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    table = sa.Table(
        "members",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("member_sn", sa.String(20)),
        sa.Column("name", sa.String(50)),
        sa.Column("email", sa.String(50)),
        sa.Column("updated_at", sa.DateTime),
    )
    base = dt.datetime(2024, 1, 1, 8, 0)

    def insert(start: int, stop: int) -> None:
        with engine.begin() as conn:
            conn.execute(
                table.insert(),
                [
                    {
                        "id": i,
                        "member_sn": f"M{i:06d}",
                        "name": f"member {i}",
                        "email": f"m{i}@example.com",
                        "updated_at": base + dt.timedelta(seconds=i // 7),  # ties on the cursor
                    }
                    for i in range(start, stop)
                ],
            )

    try:
        with engine.begin() as conn:
            table.create(conn)
        insert(0, 300)
        spec = write_spec(
            tmp_path,
            source="{sql: {url: 'sqlite:///shop.db', table: members}}".replace(
                "shop.db", str(tmp_path / "shop.db")
            ),
            incremental="incremental: {cursor: updated_at}",
            key="member_sn",
        )
        first, _, _ = run(spec, sandbox_env)
        assert (first["rows_read"], first["resumed_from"]) == (300, None)
        shown = show(spec, sandbox_env)
        assert (
            "members: after members[updated_at=2024-01-01T08:00:42, id=299] (incremental)" in shown
        )

        insert(300, 420)
        second, out, _ = run(spec, sandbox_env)
        assert second["rows_read"] == 120
        assert "resumed after members[updated_at=2024-01-01T08:00:42, id=299]" in out
        assert len(sandbox.records("audience")) == 420

        third, _, _ = run(spec, sandbox_env)
        assert third["rows_read"] == 0  # nothing new; the mark stays where it was
        assert "id=419] (incremental)" in show(spec, sandbox_env)
    finally:
        engine.dispose()


def test_a_corrupt_stored_position_stops_the_run_before_anything_is_sent(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    import sqlite3

    from engine.state.base import StateContext
    from engine.state.sqlite import SqliteStateStore

    write_rows(tmp_path / "members.csv", members(100))
    spec = write_spec(tmp_path)
    store = SqliteStateStore({}, StateContext(tmp_path))
    store.save("sync.yaml:members", ("members.csv", 40), "f", "members.csv:40")
    store.close()
    with sqlite3.connect(tmp_path / ".omnisync" / "state.db") as db:
        db.execute('UPDATE positions SET position = \'{"$": "nonsense"\'')
    db.close()

    done = run_cli("run", str(spec), env=sandbox_env)
    assert done.returncode == 1
    assert "the stored state of " in done.stderr
    assert "sync.yaml[OA-test]:members in " in done.stderr
    assert "is corrupt" in done.stderr
    assert "omnisync state reset" in done.stderr
    assert "Traceback" not in done.stderr
    assert sandbox.stats()["received"].get("audience", 0) == 0
    assert "corrupt" in show(spec, sandbox_env)
    invoke_cli("state", "reset", str(spec), env=sandbox_env)
    sync, _, _ = run(spec, sandbox_env)
    assert sync["delivered"] == 100
