"""Only what changed is sent: digests by key in SQLite, PostgreSQL or S3, across fresh runners.

Each run is `omnisync run` in a subprocess; with PostgreSQL and S3 every run also starts from a
fresh copy of the spec directory, so the only state it has is the one in the store.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningSandbox, run_cli
from tests.integration._state_backends import (
    BACKENDS,
    Backend,
    drop_postgres_tables,
    make_backend,
    moto_url,
)
from tests.integration.test_delivery import members, write_rows
from tests.integration.test_signals import start

__all__ = ["moto_url"]

SPEC = """\
version: 1
omnisegment:
  base_url: ${{SANDBOX_URL}}
  tid: ${{OMNISEGMENT_TID}}
  api_key: ${{OMNISEGMENT_API_KEY}}
state: {state}
syncs:
  - name: members
    source: {{csv: {{path: members.csv}}}}
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

    def directory(self) -> Path:
        local = self.backend.name == "sqlite"
        path = self.tmp / ("job" if local else f"job{self.runs}")
        path.mkdir(exist_ok=True)
        write_rows(path / "members.csv", self.rows)
        text = SPEC.format(state=self.backend.yaml(), delivery=self.delivery, extra=self.extra)
        (path / "sync.yaml").write_text(text, encoding="utf-8")
        return path

    def run(self, *args: str, ok: bool = True) -> dict[str, object]:
        self.runs += 1
        job = self.directory()
        report = job / "report.json"
        done = run_cli("run", str(job / "sync.yaml"), "--report", str(report), *args, env=self.env)
        if ok:
            assert done.returncode == 0, done.stderr
        sync: dict[str, object] = json.loads(report.read_text())["syncs"][0]
        sync["stdout"] = done.stdout
        if self.backend.name != "sqlite":
            assert not (job / ".omnisync" / "state.db").exists()
            shutil.rmtree(job)  # the CI runner's disk is gone
        return sync

    def start(self, *args: str) -> subprocess.Popen[str]:
        self.runs += 1
        return start(self.directory() / "sync.yaml", self.env, *args)


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


def received(sandbox: RunningSandbox) -> int:
    return int(sandbox.stats()["received"].get("audience", 0))


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
    assert f"{rows:,} unchanged" in str(again["stdout"])

    runner.rows = change(runner.rows, rows // 100)  # 100 rows of `rows`
    third = runner.run()
    assert (third["delivered"], third["unchanged"]) == (100, rows - 100)
    assert received(sandbox) == rows + 100
    stored = sandbox.records("audience")
    assert len(stored) == rows
    moved = [r for r in stored.values() if str(r.get("name", "")).endswith("(moved)")]  # type: ignore[union-attr]
    assert len(moved) == 100


def test_a_rerun_sends_only_what_changed(runner: Runner, sandbox: RunningSandbox) -> None:
    second_run_sends_only_the_changes(runner, sandbox, 5_000)


@pytest.mark.long
def test_a_rerun_of_100k_rows_sends_only_the_100_that_changed(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    second_run_sends_only_the_changes(runner, sandbox, 100_000)


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


def test_state_show_and_reset_work_on_every_backend(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    runner.rows = members(300)
    runner.run()
    job = runner.directory()
    shown = run_cli("state", "show", str(job / "sync.yaml"), env=runner.env)
    assert shown.returncode == 0, shown.stderr
    assert "members: no stored position" in shown.stdout
    assert "300 record digests" in shown.stdout
    reset = run_cli("state", "reset", str(job / "sync.yaml"), env=runner.env)
    assert reset.returncode == 0, reset.stderr
    assert "members: cleared 300 record digests" in reset.stdout
    assert runner.run()["delivered"] == 300


def test_two_runs_started_together_never_send_a_record_twice(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    """One holds the lock, the other waits for it, then finds every record unchanged."""
    runner.rows = members(3_000)
    runner.delivery = "{rate_limit: 2000/s, concurrency: 4, batch_size: 100}"
    first, second = runner.start(), runner.start()
    outputs = [p.communicate(timeout=240) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), outputs
    assert received(sandbox) == 3_000  # nothing lost, nothing twice
    assert len(sandbox.records("audience")) == 3_000
    assert any("state_lock_wait" in err for _, err in outputs)


def test_a_run_that_cannot_get_the_lock_stops_with_a_clear_message(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    runner.rows = members(3_000)
    runner.delivery = "{rate_limit: 20/s, concurrency: 2, batch_size: 50}"
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
        holder.terminate()
        holder.communicate(timeout=60)
