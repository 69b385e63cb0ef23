"""The state store lost mid-run: exit 1, the store named (no secret), and a report with the real
counts. It used to end as internal error 70 without a report (PostgreSQL), as a report of 0 rows
read and 0 delivered after 1,150 were sent (S3), or as a clean exit while every save went to a
file already removed (SQLite)."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.run.runner import RunOptions, run_spec
from engine.specfile import load_spec
from engine.state.base import StateError
from tests.conftest import RunningSandbox, invoke_cli, run_cli, stoppable_moto_server
from tests.integration._sources import rejects, write_spec
from tests.integration._state_backends import (
    PG_URL,
    SECRET,
    Runner,
    drop_postgres_tables,
    make_backend,
    received,
)
from tests.integration.test_rejects_replay import EMAIL_SPEC, reject_path, write_with_bad_emails
from tests.integration.test_signals import OMNISYNC
from tests.sandbox_specs import members, write_rows

BATCH = 20
SLOW = f"{{rate_limit: 10/s, concurrency: 1, batch_size: {BATCH}}}"  # 200 records/s, one in flight


def cut_mid_run(runner: Runner, sandbox: RunningSandbox, cut: Callable[[], None]) -> dict[str, Any]:
    """Start a run of 2,000 rows, cut the store once 100 records arrived; the run's report."""
    runner.rows = members(2_000)
    runner.delivery = SLOW
    report = runner.tmp / "report.json"
    process = runner.start("--report", str(report))
    for _ in range(600):  # bounded: 60 s
        if received(sandbox) >= 100 or process.poll() is not None:
            break
        time.sleep(0.1)
    cut()
    out, err = process.communicate(timeout=300)
    runner.last = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    assert process.returncode == 1, err[-3000:]
    assert "internal error" not in err
    assert "Traceback" not in err
    assert report.exists(), err[-3000:]
    sync: dict[str, Any] = json.loads(report.read_text())["syncs"][0]
    return sync


def assert_real_counts(sync: dict[str, Any], sandbox: RunningSandbox) -> None:
    """What was read and delivered, as the sandbox saw it (one batch may be in flight)."""
    arrived = received(sandbox)
    assert sync["exit_code"] == 1
    assert 100 <= arrived < 2_000, "the cut came too late to be mid-run"
    assert arrived - BATCH <= sync["delivered"] <= arrived, (sync["delivered"], arrived)
    assert sync["rows_read"] >= sync["delivered"]
    finished = sync["delivered"] + sync["unchanged"] + sync["rejected"] + sync["filtered"]
    assert sync["rows_read"] == finished + sync["failed"] + sync["unsent"]


def test_sqlite_file_removed_mid_run(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """SQLite writes on into a removed file without a word: the run says the file went away."""
    runner = Runner(tmp_path, make_backend("sqlite", tmp_path), sandbox_env)
    state_file = tmp_path / "state.db"

    def remove() -> None:
        for path in tmp_path.glob("state.db*"):
            path.unlink()

    sync = cut_mid_run(runner, sandbox, remove)
    assert_real_counts(sync, sandbox)
    assert runner.last is not None
    assert f"error: members: state store {state_file}: the file was removed" in runner.last.stderr
    assert str(state_file) in sync["stopped"]


def test_postgres_connection_terminated_mid_run(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """The server ends this run's connections (the lock's too): exit 1, no internal error."""
    backend = make_backend("postgres", tmp_path)
    tag = f"omnisync_lost_{uuid.uuid4().hex[:8]}"  # only this run's connections are ended
    runner = Runner(tmp_path, backend, sandbox_env)
    runner.env["STATE_DB"] = f"{PG_URL}?application_name={tag}"
    try:
        sync = cut_mid_run(runner, sandbox, lambda: terminate(tag))
    finally:
        drop_postgres_tables(backend.block["table"])
    assert_real_counts(sync, sandbox)
    store = f"state store {PG_URL}?application_name={tag} (table {backend.block['table']})"
    assert runner.last is not None
    assert f"error: members: {store}: " in runner.last.stderr, runner.last.stderr[-3000:]
    assert store in sync["stopped"]


def terminate(tag: str) -> None:
    """End the PostgreSQL connections of one process (by its application_name), as a server
    restart or a failover would; the other tests' connections are left alone."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as db:
        ended = db.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s) AS t",
            (tag,),
        ).fetchone()
    assert ended is not None
    assert ended[0] >= 2  # the store's connection and the lock's


def test_postgres_lost_during_a_replay_keeps_the_rows_it_resolved(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """A replay uses the store too: losing it stops the replay with exit 1, the rows already
    acknowledged are marked resolved, and the next replay sends only the others."""
    backend = make_backend("postgres", tmp_path)
    tag = f"omnisync_lost_{uuid.uuid4().hex[:8]}"
    env = {**sandbox_env, "STATE_DB": f"{PG_URL}?application_name={tag}"}
    spec = tmp_path / "sync.yaml"
    text = EMAIL_SPEC.replace("syncs:", f"state: {backend.yaml()}\nsyncs:")
    spec.write_text(text.replace("rate_limit: 5000/s", "rate_limit: 2/s"), encoding="utf-8")
    write_with_bad_emails(tmp_path, 100, set(range(0, 100, 2)))  # 50 rejected by the mapping
    try:
        assert run_cli("run", str(spec), env=env).returncode == 0
        write_rows(tmp_path / "members.csv", members(100))  # the data is fixed
        before = received(sandbox)
        replay = subprocess.Popen(
            [*OMNISYNC, "rejects", "replay", str(spec)],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(600):  # bounded: 60 s
            if received(sandbox) >= before + 10 or replay.poll() is not None:
                break
            time.sleep(0.1)
        terminate(tag)
        _, err = replay.communicate(timeout=120)
        assert replay.returncode == 1, err[-3000:]
        assert "internal error" not in err
        assert f"error: state store {PG_URL}?application_name={tag}" in err
        resolved = sum(bool(e.get("resolved")) for e in rejects(tmp_path))
        assert 10 <= resolved < 50
        assert not reject_path(tmp_path).with_suffix(".jsonl.resolved").exists()  # folded in

        again = run_cli("rejects", "replay", str(spec), env=env)
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(f"members: {50 - resolved} rejected rows: ")
    finally:
        drop_postgres_tables(backend.block["table"])


def test_s3_unreachable_mid_run(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """The S3 server goes away: the report keeps what was read and sent, no key is printed."""
    with stoppable_moto_server() as (url, stop):
        backend = make_backend("s3", tmp_path, url)
        runner = Runner(tmp_path, backend, sandbox_env)
        sync = cut_mid_run(runner, sandbox, stop)
    assert_real_counts(sync, sandbox)
    where = backend.block["url"]
    assert runner.last is not None
    assert f"error: members: state store {where}" in runner.last.stderr
    assert where in sync["stopped"]
    assert SECRET not in runner.last.stderr + runner.last.stdout + json.dumps(sync)


async def test_a_state_path_that_became_unusable_is_a_state_error(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    """Valid when checked, blocked by a file by the time the run takes its lock: a StateError
    naming the store (exit 1), not internal error 70."""
    spec_file = write_spec(tmp_path, {"csv": {"path": "members.csv"}})
    text = spec_file.read_text(encoding="utf-8")
    spec_file.write_text(text.replace("syncs:", "state: {path: blocker/state.db}\nsyncs:"))
    (tmp_path / "members.csv").write_text("id,name\nM1,a\n", encoding="utf-8")
    spec = load_spec(spec_file, environ=sandbox_env)
    (tmp_path / "blocker").write_text("a file where the directory should be", encoding="utf-8")

    with pytest.raises(StateError, match=r"state store .*blocker/state\.db: taking the lock"):
        await run_spec(spec, RunOptions())


def test_validate_refuses_a_state_path_that_is_a_directory(tmp_path: Path) -> None:
    spec_file = write_spec(tmp_path, {"csv": {"path": "members.csv"}})
    text = spec_file.read_text(encoding="utf-8")
    spec_file.write_text(text.replace("syncs:", "state: {path: out}\nsyncs:"))
    (tmp_path / "out").mkdir()
    done = invoke_cli("validate", str(spec_file))
    assert done.returncode == 2
    assert "state.path: 'out' is a directory, not a file" in done.stderr
