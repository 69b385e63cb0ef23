"""A run paused past its lease (SIGSTOP) while another run takes over and sends newer values: once
resumed (SIGCONT) it sends nothing more, stores nothing, and exits 1 naming the store; the store
keeps the newer digests, so later runs neither skip nor resend wrongly.

S3: the lease expires while the run is paused, and the next run takes it over. PostgreSQL: a paused
process keeps its session and its lock, so the next run waits and gives up; once the paused run's
lock connection is cut, the next run takes over after the lease. SQLite: the kernel keeps a paused
holder's flock, so nobody takes over; the next run gives up, and the paused one finishes.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from engine.state.postgres import _lock_id
from tests.conftest import RunningSandbox
from tests.integration._state_backends import Runner, moto_url, received, runner
from tests.integration.test_crash_points import assert_latest_values
from tests.integration.test_delivery import members

__all__ = ["moto_url", "runner"]  # fixtures

ROWS = 1_000
SLOW = "{rate_limit: 4/s, concurrency: 2, batch_size: 50}"  # 20 requests: about 5 s


def named(rows: list[tuple[str, str, str]], suffix: str) -> list[tuple[str, str, str]]:
    return [(i, f"{n} {suffix}", e) for i, n, e in rows]


def wait_for_records(sandbox: RunningSandbox, count: int) -> None:
    for _ in range(600):  # bounded: 60 s at most
        if received(sandbox) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} records reached the sandbox")


def cut_lock_connection(runner: Runner) -> None:
    """End the paused run's lock session, as a network cut or a server restart would."""
    import psycopg

    key = _lock_id(runner.backend.block["table"], "sync.yaml[OA-test]") & (2**64 - 1)
    with psycopg.connect(runner.env["STATE_DB"], autocommit=True) as db:
        ended = db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
            " AND classid = %s::oid AND objid = %s::oid AND objsubid = 1 AND granted",
            (key >> 32, key & 0xFFFFFFFF),
        ).fetchall()
    assert ended == [(True,)]


def blocked_run_gives_up(runner: Runner, sandbox: RunningSandbox) -> None:
    """While the paused run holds its lock, the next run waits lock_timeout and sends nothing."""
    before = received(sandbox)
    runner.backend.block["lock_timeout"] = "2s"
    runner.run(ok=False)
    del runner.backend.block["lock_timeout"]
    assert runner.last is not None
    assert runner.last.returncode == 1
    assert "holds the state lock" in runner.last.stderr
    assert received(sandbox) == before


@pytest.mark.parametrize("runner", ["s3", "postgres", "sqlite"], indirect=True)
def test_a_run_paused_past_its_lease_sends_and_stores_nothing_more(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    base = members(ROWS)
    runner.rows = base
    runner.run()
    runner.rows, runner.delivery = named(base, "v2"), SLOW
    paused = runner.start()
    taken_over = runner.backend.name != "sqlite"
    try:
        paused_past_the_lease(runner, sandbox, paused, taken_over)
    finally:
        if paused.poll() is None:
            paused.kill()
            paused.communicate()
    # what the store says is what the API holds: nothing to send, and a revert is sent whole
    runner.delivery = "{rate_limit: 5000/s}"
    assert runner.run()["delivered"] == 0
    runner.rows = base
    assert runner.run()["delivered"] == ROWS
    assert_latest_values(sandbox, base)


def paused_past_the_lease(
    runner: Runner, sandbox: RunningSandbox, paused: subprocess.Popen[str], taken_over: bool
) -> None:
    base = members(ROWS)
    try:
        wait_for_records(sandbox, ROWS + 100)
        paused.send_signal(signal.SIGSTOP)
        if runner.backend.name != "s3":
            blocked_run_gives_up(runner, sandbox)
        if runner.backend.name == "postgres":
            cut_lock_connection(runner)
        if taken_over:  # waits for the paused run's lease to expire, then sends newer values
            runner.rows, runner.delivery = named(base, "v3"), "{rate_limit: 5000/s}"
            newer = runner.run()
            assert newer["delivered"] == ROWS
        before = received(sandbox)
    finally:
        paused.send_signal(signal.SIGCONT)
    _, err = paused.communicate(timeout=120)
    if taken_over:
        assert paused.returncode == 1, err[-3000:]
        assert "can no longer prove it holds the lease" in err or "took the lock" in err, err
        assert "stopped before sending or storing anything more" in err
        assert received(sandbox) == before  # not one record more
        assert "Traceback" not in err
    else:
        assert paused.returncode == 0, err[-3000:]  # it kept its lock: nobody took over
    assert_latest_values(sandbox, runner.rows)
