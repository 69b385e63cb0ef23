"""Only what changed is sent: digests by key in SQLite, PostgreSQL or S3, across fresh runners.

Each run is `omnisync run` in a subprocess; with PostgreSQL and S3 every run also starts from a
fresh copy of the spec directory, so the only state it has is the one in the store.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import RunningSandbox, run_cli
from tests.integration._state_backends import (
    Runner,
    moto_url,
    received,
    runner,
)
from tests.sandbox_specs import members

__all__ = ["moto_url", "runner"]
# the same logic on every backend: SQLite in the default run, PostgreSQL and S3 with -m long
SQLITE_BY_DEFAULT = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.long),
    pytest.param("s3", marks=pytest.mark.long),
]  # fixtures


def change(rows: list[tuple[str, str, str]], every: int) -> list[tuple[str, str, str]]:
    return [(i, f"{n} (moved)" if k % every == 0 else n, e) for k, (i, n, e) in enumerate(rows)]


def second_run_sends_only_the_changes(runner: Runner, sandbox: RunningSandbox, rows: int) -> None:
    runner.rows = members(rows)
    first = runner.run()
    assert (first["delivered"], first["unchanged"]) == (rows, 0)
    assert received(sandbox) == rows

    again = runner.run()
    assert (again["rows_read"], again["delivered"], again["unchanged"]) == (rows, 0, rows)
    assert received(sandbox) == rows  # not one record sent
    assert f"unchanged {rows}," in str(again["stdout"])

    runner.rows = change(runner.rows, rows // 100)  # 100 rows of `rows`
    third = runner.run()
    assert (third["delivered"], third["unchanged"]) == (100, rows - 100)
    assert received(sandbox) == rows + 100
    stored = sandbox.records("audience")
    assert len(stored) == rows
    moved = [r for r in stored.values() if str(r.get("name", "")).endswith("(moved)")]  # type: ignore[union-attr]
    assert len(moved) == 100
    show_and_reset(runner, rows)


def show_and_reset(runner: Runner, rows: int) -> None:
    """`state show` and `state reset` on the same backend, from a fresh directory."""
    job = runner.directory()
    shown = run_cli("state", "show", str(job / "sync.yaml"), env=runner.env)
    assert shown.returncode == 0, shown.stderr
    assert "members: no stored position" in shown.stdout
    assert f"{rows} record digests" in shown.stdout
    reset = run_cli("state", "reset", str(job / "sync.yaml"), env=runner.env)
    assert reset.returncode == 0, reset.stderr
    assert f"members: cleared {rows} record digests" in reset.stdout, reset.stdout
    after = run_cli("state", "show", str(job / "sync.yaml"), env=runner.env)
    assert "record digests" not in after.stdout


def test_a_rerun_sends_only_what_changed(runner: Runner, sandbox: RunningSandbox) -> None:
    """Each backend, a fresh runner each time for PostgreSQL and S3; state show and reset."""
    second_run_sends_only_the_changes(runner, sandbox, 2_000)


@pytest.mark.long
def test_a_rerun_of_100k_rows_sends_only_the_100_that_changed(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    second_run_sends_only_the_changes(runner, sandbox, 100_000)


@pytest.mark.parametrize("runner", SQLITE_BY_DEFAULT, indirect=True)
def test_full_refresh_and_change_detection_off_send_everything(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    runner.rows = members(2_000)
    runner.run()
    refreshed = runner.run("--full-refresh")
    assert (refreshed["delivered"], refreshed["unchanged"]) == (2_000, 0)
    assert runner.run()["delivered"] == 0  # the refresh kept the digests up to date
    runner.extra = "    change_detection: false\n"
    off = runner.run()
    assert (off["delivered"], off["unchanged"]) == (2_000, 0)
    assert received(sandbox) == 6_000
    runner.extra = ""
    back_on = runner.run()  # turning it off forgot the digests: nothing stale is trusted
    assert back_on["delivered"] == 2_000


@pytest.mark.parametrize("runner", SQLITE_BY_DEFAULT, indirect=True)
def test_two_runs_started_together_never_send_a_record_twice(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    """Both started while the first is sending: the second waits for the lock, then finds every
    record unchanged. (Started at the same instant, either may win; the outcome is the same.)"""
    runner.rows = members(3_000)
    runner.delivery = "{rate_limit: 5/s, concurrency: 2, batch_size: 50}"  # about 12 s
    first = runner.start()
    for _ in range(600):  # bounded: until the first run holds the lock and sends
        if received(sandbox):
            break
        assert first.poll() is None
        time.sleep(0.1)
    second = runner.start()
    outputs = [p.communicate(timeout=240) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), outputs
    assert received(sandbox) == 3_000  # nothing lost, nothing twice
    assert len(sandbox.records("audience")) == 3_000
    assert "state_lock_wait" in outputs[1][1]
    assert "unchanged 3000" in outputs[1][0]


@pytest.mark.parametrize("runner", SQLITE_BY_DEFAULT, indirect=True)
def test_a_run_that_cannot_get_the_lock_stops_with_a_clear_message(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    runner.rows = members(3_000)
    runner.delivery = "{rate_limit: 4/s, concurrency: 2, batch_size: 50}"  # 15 s
    state = dict(runner.backend.block)
    runner.backend.block = {**state, "lock_timeout": "1s"}
    holder = runner.start()
    try:
        for _ in range(300):  # bounded: until the first run has sent something
            if received(sandbox):
                break
            assert holder.poll() is None
            time.sleep(0.1)
        job = runner.directory()
        done = run_cli("run", str(job / "sync.yaml"), env=runner.env)
        assert done.returncode == 1
        assert "holds the state lock" in done.stderr
        assert "waited 1 s" in done.stderr
        assert "Traceback" not in done.stderr
    finally:
        holder.kill()
        holder.communicate(timeout=60)


def test_an_embedded_sandbox_gets_every_record_each_run(tmp_path: Path) -> None:
    """It forgets what it received when the run ends: digests must not skip anything there."""
    from tests.conftest import ROOT

    shutil.copytree(ROOT / "configs" / "data", tmp_path / "data")
    spec = tmp_path / "quickstart.yaml"
    shutil.copy(ROOT / "configs" / "quickstart.yaml", spec)
    for _ in range(2):
        done = run_cli("run", str(spec))
        assert done.returncode == 0, done.stderr
        assert "members: read 8, delivered 8, rejected 0" in done.stdout


def test_small_batches_with_a_screen_wider_than_the_read_ahead_window_still_finish(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    """Batches of 10 make the read-ahead window 640 rows, narrower than the 1,000 records the
    change screen holds: the reader used to wait for the window with the screened records still
    in its hands, and the run hung after its first request."""
    runner.delivery = "{rate_limit: 5000/s, concurrency: 4, batch_size: 10}"
    runner.rows = members(1500)
    done = runner.run()
    assert (done["delivered"], done["unchanged"]) == (1500, 0)
    assert received(sandbox) == 1500


@pytest.mark.parametrize("runner", ["sqlite"], indirect=True)
def test_a_few_changes_spread_thinly_are_sent_without_a_full_batch(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    """Batches of 10 make the read-ahead window 640 rows. A rerun where 1 row in 500 changed
    read a whole window holding a batch of one or two changed records, then waited for the
    window with them still in its hands: the run hung (seen at 100,000 rows, batches of 50)."""
    runner.delivery = "{rate_limit: 5000/s, concurrency: 4, batch_size: 10}"
    runner.rows = members(3000)
    runner.run()
    runner.rows = change(runner.rows, 500)
    done = runner.run()
    assert (done["delivered"], done["unchanged"]) == (6, 2994)
    assert received(sandbox) == 3006


@pytest.mark.parametrize("runner", ["sqlite"], indirect=True)
def test_a_filter_that_keeps_one_row_in_a_thousand_still_finishes(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    """The same wait without change detection: rows the filter drops finish at once, but not
    past a kept record still waiting in the reader's batch."""
    runner.delivery = "{rate_limit: 5000/s, concurrency: 4, batch_size: 10}"
    runner.extra = "    change_detection: false\n    filter: endswith(id, '000')\n"
    runner.rows = members(3000)
    done = runner.run()
    assert (done["delivered"], done["filtered"]) == (3, 2997)
    assert received(sandbox) == 3
