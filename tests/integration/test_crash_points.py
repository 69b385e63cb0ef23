"""A crash at each named point, then a rerun: every good record arrives with its latest value,
and what arrives twice stays within the bound of docs/state.md (concurrency x batch + FLUSH_PAIRS).

The crash is a SIGKILL the engine sends itself at the point (OMNISYNC_CRASH_AT, test-only).
Three points (one per backend) run by default; `-m long` runs every point with every backend and
20 SIGKILLs at random moments.
"""

from __future__ import annotations

import random
import re
import signal
import time

import pytest

from engine.crashpoints import POINTS
from engine.state.change_detection import FLUSH_PAIRS
from tests.conftest import RunningSandbox
from tests.integration._state_backends import Runner, make_backend, moto_url, received, runner
from tests.sandbox_specs import members

__all__ = ["moto_url", "runner"]  # fixtures

ROWS, CHANGED, CONCURRENCY, BATCH = 2_000, 400, 4, 50
BOUND = CONCURRENCY * BATCH + FLUSH_PAIRS  # in flight + acknowledged digests not yet saved
REJECTED = r"^M00[0-9][0-9]37$"  # 20 keys apart, the API refuses them: bisection and rejects
SLOW = f"{{rate_limit: 8/s, concurrency: {CONCURRENCY}, batch_size: {BATCH}}}"
# the default run: three points, one per backend; -m long: every point with every backend
DEFAULT = {("sqlite", "bisection"), ("postgres", "digest_save"), ("s3", "state_write")}
# the points of a sync of records; an event sync's (trigger_mark, trigger_confirm) are crashed
# by tests/integration/test_triggers.py and the trigger kill cycles, whose rule is not a resend
RECORD_POINTS = sorted(p for p in POINTS if not p.startswith("trigger_"))


def latest(rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Every fifth row gets a new name: the value each record must end with."""
    return [(i, f"{n} v2" if k % 5 == 0 else n, e) for k, (i, n, e) in enumerate(rows)]


def assert_latest_values(sandbox: RunningSandbox, rows: list[tuple[str, str, str]]) -> None:
    stored = sandbox.records("audience")
    good = [r for r in rows if not re.match(REJECTED, r[0])]
    missing = [i for i, name, _ in good if stored.get(i, {}).get("name") != name]  # type: ignore[union-attr]
    assert missing == [], f"{len(missing)} records missing or stale, e.g. {missing[:5]}"


def crash_then_rerun(runner: Runner, sandbox: RunningSandbox, point: str) -> None:
    sandbox.configure(reject_keys=REJECTED)
    runner.extra = "    max_reject_ratio: 0.5\n"
    runner.rows = members(ROWS)
    runner.run()  # the first run: every record, digests saved
    before = received(sandbox)

    runner.rows = latest(runner.rows)
    runner.delivery = SLOW
    crashed = runner.run(ok=False, env={"OMNISYNC_CRASH_AT": point})
    assert runner.last is not None
    assert runner.last.returncode == -signal.SIGKILL, (point, runner.last.stderr[-2000:])
    assert "returncode" in crashed  # no report: it died

    runner.delivery = "{rate_limit: 5000/s}"
    runner.run()
    assert_latest_values(sandbox, runner.rows)
    resent = received(sandbox) - before - CHANGED  # no refused key is among the changed rows
    assert 0 <= resent <= BOUND, f"{resent} records sent twice after a crash at {point}"


@pytest.mark.parametrize(
    ("backend_name", "point"),
    [
        pytest.param(b, p, marks=() if (b, p) in DEFAULT else pytest.mark.long)
        for b in ("sqlite", "postgres", "s3")
        for p in RECORD_POINTS
    ],
)
def test_a_crash_at_each_point_loses_nothing(
    request: pytest.FixtureRequest, sandbox: RunningSandbox, point: str, backend_name: str
) -> None:
    crash_then_rerun(fresh_runner(request, backend_name), sandbox, point)


def fresh_runner(request: pytest.FixtureRequest, name: str) -> Runner:
    tmp = request.getfixturevalue("tmp_path")
    env = request.getfixturevalue("sandbox_env")
    moto = request.getfixturevalue("moto_url") if name == "s3" else None
    backend = make_backend(name, tmp, moto)
    if name == "postgres":
        from tests.integration._state_backends import drop_postgres_tables

        request.addfinalizer(lambda: drop_postgres_tables(backend.block["table"]))
    return Runner(tmp, backend, env)


@pytest.mark.long
@pytest.mark.parametrize("runner", ["sqlite", "postgres", "s3"], indirect=True)
def test_twenty_sigkills_at_random_moments(runner: Runner, sandbox: RunningSandbox) -> None:
    """Twenty random SIGKILLs lose no latest value, and each kill resends at most the bound."""
    rows = 20_000
    runner.rows = members(rows)
    runner.run()
    before = received(sandbox)
    runner.rows = latest(runner.rows)
    runner.delivery = SLOW
    chance = random.Random(12)
    kills = 0
    for _ in range(20):
        process = runner.start()
        time.sleep(chance.uniform(0.5, 3.0))
        if process.poll() is None:
            process.kill()
            kills += 1
        process.communicate(timeout=60)
    runner.delivery = "{rate_limit: 5000/s}"
    runner.run()
    assert_latest_values(sandbox, runner.rows)
    resent = received(sandbox) - before - rows // 5
    print(f"{runner.backend.name}: {kills} SIGKILLs, {resent} records sent twice")
    assert 0 <= resent <= kills * BOUND


@pytest.mark.parametrize("refresh", [(), ("--full-refresh",)], ids=["run", "full-refresh"])
@pytest.mark.parametrize("backend_name", ["sqlite", "postgres", "s3"])
def test_a_value_sent_before_a_crash_is_sent_again_when_the_source_reverts(
    request: pytest.FixtureRequest,
    sandbox: RunningSandbox,
    backend_name: str,
    refresh: tuple[str, ...],
) -> None:
    """Every record changes, is sent and acknowledged, and the run dies before it saves the new
    digests; then the source goes back to the old values. The old digests must not make the rerun
    skip them (it did: 200 of 200 records stale at OmniSegment)."""
    runner = fresh_runner(request, backend_name)
    runner.rows = members(200)
    runner.run()
    original = list(runner.rows)
    runner.rows = [(i, f"{n} v2", e) for i, n, e in original]
    runner.delivery = "{rate_limit: 5000/s, concurrency: 1, batch_size: 50}"  # 4 requests
    runner.run(*refresh, ok=False, env={"OMNISYNC_CRASH_AT": "after_answer:4"})
    assert runner.last is not None
    assert runner.last.returncode == -signal.SIGKILL, runner.last.stderr[-2000:]
    assert_latest_values(sandbox, runner.rows)  # both requests reached the API

    runner.rows = original
    runner.delivery = "{rate_limit: 5000/s}"
    rerun = runner.run()
    assert rerun["delivered"] == 200
    assert_latest_values(sandbox, original)
