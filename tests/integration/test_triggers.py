"""Workflow triggers on the sandbox: each member once per window, a second run within the window
triggers nobody and one after it everybody; plan and --dry-run say who; an outcome nobody knows
is reported, not resent, until --resend-unknown; two processes at once never trigger twice."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import RunningSandbox, run_cli
from tests.integration._state_backends import (
    BACKENDS,
    drop_postgres_tables,
    make_backend,
    moto_url,
)
from tests.integration._triggers import run_triggers, triggered, write_trigger_spec
from tests.integration.test_signals import start

__all__ = ["moto_url"]  # the fixture, imported for pytest


def test_a_member_is_triggered_once_per_window_and_again_after_it(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = write_trigger_spec(tmp_path, 250, window="10m")
    first, out = run_triggers(spec, sandbox_env)
    assert (first["triggered"], first["skipped_in_window"], first["outcome_unknown"]) == (250, 0, 0)
    assert first["requests"] == 3  # 100 members a request (the default cap)
    assert "members: read 250, triggered 250, skipped (already triggered in the window) 0" in out
    assert set(triggered(sandbox).values()) == {1}
    second, _ = run_triggers(spec, sandbox_env)
    assert (second["triggered"], second["skipped_in_window"], second["requests"]) == (0, 250, 0)
    assert set(triggered(sandbox).values()) == {1}
    # a window of 1s: judged when a run reads the marks, so the confirmed ones have expired
    write_trigger_spec(tmp_path, 250, window="1s")
    time.sleep(1.1)  # a wait for the window, not a timed assertion
    third, _ = run_triggers(spec, sandbox_env)
    assert (third["triggered"], third["skipped_in_window"]) == (250, 0)
    counts = triggered(sandbox)
    assert len(counts) == 250
    assert set(counts.values()) == {2}
    history = run_cli("history", str(spec), env=sandbox_env)
    assert history.returncode == 0, history.stderr
    assert "triggered 0, skipped 250, unknown 0" in history.stdout
    assert "triggered 250, skipped 0, unknown 0" in history.stdout
    why = run_cli("why", str(spec), "M000007", env=sandbox_env)
    assert why.returncode == 0, why.stderr
    assert why.stdout.count("\n  triggered in run") == 2
    assert "already triggered within the sync's once_per window" in why.stdout
    shown = run_cli("state", "show", str(spec), env=sandbox_env)
    assert "members: trigger marks: 250 confirmed, 0 pending" in shown.stdout


def test_plan_and_dry_run_say_who_would_be_triggered_and_who_is_skipped(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = write_trigger_spec(tmp_path, 3)
    run_triggers(spec, sandbox_env)
    write_trigger_spec(tmp_path, 5)  # two more members lapsed since
    dry = run_cli("--log-level", "warning", "run", str(spec), "--dry-run", env=sandbox_env)
    assert dry.returncode == 0, dry.stderr
    assert "members: read 5, would trigger 2, skipped (already triggered in the window) 3" in (
        dry.stdout
    )
    assert "members: would trigger: M******, M******" in dry.stdout  # masked by default
    revealed = run_cli(
        "--log-level", "warning", "run", str(spec), "--dry-run", "--reveal-pii", env=sandbox_env
    )
    assert "members: would trigger: M000003, M000004" in revealed.stdout
    assert "members: skipped: M000000, M000001, M000002" in revealed.stdout
    plan = run_cli("--log-level", "warning", "plan", str(spec), "--changes", env=sandbox_env)
    assert plan.returncode == 0, plan.stderr
    assert "members: read 5: would trigger 2, skipped (already triggered in the window) 3" in (
        plan.stdout
    )
    plain = run_cli("--log-level", "warning", "plan", str(spec), env=sandbox_env)
    assert "members: triggers, each member once per window: `plan --changes`" in plain.stdout
    assert sum(triggered(sandbox).values()) == 3  # none of them sent anything


def test_an_unknown_outcome_is_reported_with_its_keys_and_resent_only_when_asked(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Killed after the second request left and before its answer: those 100 members may have
    been triggered. The rerun triggers the rest, lists the 100 (exit 6) and sends none of them;
    --resend-unknown sends them on purpose."""
    spec = write_trigger_spec(tmp_path, 300, delivery="{rate_limit: 1000/s, concurrency: 1}")
    killed = run_cli("run", str(spec), env={**sandbox_env, "OMNISYNC_CRASH_AT": "after_send:2"})
    assert killed.returncode == -9
    assert sum(triggered(sandbox).values()) == 200
    rerun, out = run_triggers(spec, sandbox_env, "--reveal-pii", code=6)
    assert (rerun["triggered"], rerun["outcome_unknown"], rerun["skipped_in_window"]) == (
        100,
        100,
        100,
    )
    unknown = rerun["outcome_unknown_keys"]
    assert unknown == [f"M{i:06d}" for i in range(100, 200)]
    assert "members: outcome unknown, not sent again: M000100, M000101" in out
    assert "--resend-unknown" in out
    assert set(triggered(sandbox).values()) == {1}  # nobody twice
    summary = tmp_path / "summary.md"
    masked, _ = run_triggers(spec, sandbox_env, "--summary", str(summary), code=6)
    assert masked["outcome_unknown_keys"][0] == "M******"
    text = summary.read_text()
    assert "## omnisync run: triggers of unknown outcome, exit 6" in text
    assert "- members: triggered 0, skipped (already triggered in the window) 200, outcome " in text
    resent, _ = run_triggers(spec, sandbox_env, "--resend-unknown")
    assert (resent["triggered"], resent["outcome_unknown"], resent["skipped_in_window"]) == (
        100,
        0,
        200,
    )
    counts = triggered(sandbox)
    assert {counts[m] for m in unknown} == {2}  # they had arrived: a deliberate second message
    assert run_triggers(spec, sandbox_env)[0]["skipped_in_window"] == 300


def test_a_lost_acknowledgement_is_not_retried(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """The sandbox triggers, then drops the answer: an import would be sent again, a trigger is
    not. The sync stops (exit 1) with the request's members of unknown outcome."""
    spec = write_trigger_spec(tmp_path, 50)
    sandbox.configure(lost_ack_ratio=1.0)
    failed, _ = run_triggers(spec, sandbox_env, code=1)
    assert (failed["triggered"], failed["failed"]) == (0, 50)
    assert triggered(sandbox) == {f"M{i:06d}": 1 for i in range(50)}
    sandbox.configure(lost_ack_ratio=0.0)
    rerun, _ = run_triggers(spec, sandbox_env, code=6)
    assert (rerun["triggered"], rerun["outcome_unknown"]) == (0, 50)
    assert set(triggered(sandbox).values()) == {1}


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_two_processes_on_one_spec_never_trigger_a_member_twice(
    backend_name: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
) -> None:
    """On each backend: the second process waits for the lock, then finds everyone confirmed."""
    moto = request.getfixturevalue("moto_url") if backend_name == "s3" else None
    backend = make_backend(backend_name, tmp_path, moto)
    top = f"state: {backend.yaml()[:-1]}, lock_timeout: 2m}}\n"
    spec = write_trigger_spec(tmp_path, 2000, delivery="{rate_limit: 20/s}", top=top)
    env = {**sandbox_env, **backend.env}
    try:
        processes: list[subprocess.Popen[str]] = [start(spec, env) for _ in range(2)]
        outputs = [process.communicate(timeout=240) for process in processes]
    finally:
        if backend.name == "postgres":
            drop_postgres_tables(backend.block["table"])
    assert [p.returncode for p in processes] == [0, 0], outputs
    lines = sorted(out.splitlines()[-1] for out, _ in outputs)
    assert lines[0].startswith("members: read 2000, triggered 0, skipped (already triggered")
    assert lines[1].startswith("members: read 2000, triggered 2000, skipped (already trig")
    counts = triggered(sandbox)
    assert len(counts) == 2000
    assert set(counts.values()) == {1}


def test_validate_asks_for_once_per_on_events_and_refuses_it_elsewhere(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    spec = write_trigger_spec(tmp_path, 1)
    spec.write_text(spec.read_text().replace("    once_per: 1d\n", ""), encoding="utf-8")
    done = run_cli("validate", str(spec), env=sandbox_env)
    assert done.returncode == 2
    assert "fires events (a resend is not harmless): say how often" in done.stderr + done.stdout
    other = tmp_path / "audience.yaml"
    other.write_text(
        spec.read_text()
        .replace("workflow_trigger, options: {node_id: 128}", "audience")
        .replace("    mapping:", "    once_per: 1d\n    mapping:"),
        encoding="utf-8",
    )
    done = run_cli("validate", str(other), env=sandbox_env)
    assert done.returncode == 2
    assert "once_per applies only to endpoints that fire events" in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("point", "unknown"),
    [
        ("trigger_mark:2", 0),  # the second batch's pending marks never committed: not sent
        ("trigger_confirm:1", 100),  # the first batch sent, its confirmation never committed
    ],
)
def test_a_crash_inside_a_trigger_write(
    point: str,
    unknown: int,
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
) -> None:
    """A write of the marks is atomic: killed before its commit, the rerun finds the state before
    it. Uncommitted pending marks: that request never left, its members are triggered now;
    an uncommitted confirmation: its members are of unknown outcome (they did arrive)."""
    spec = write_trigger_spec(tmp_path, 300, delivery="{rate_limit: 1000/s, concurrency: 1}")
    killed = run_cli("run", str(spec), env={**sandbox_env, "OMNISYNC_CRASH_AT": point})
    assert killed.returncode == -9
    rerun, _ = run_triggers(spec, sandbox_env, code=6 if unknown else 0)
    assert rerun["outcome_unknown"] == unknown
    assert rerun["triggered"] + rerun["skipped_in_window"] + unknown == 300
    counts = triggered(sandbox)
    assert len(counts) == 300
    assert set(counts.values()) == {1}


def test_the_python_api_reports_the_trigger_counts(
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import omnisync

    for name in ("SANDBOX_URL", "OMNISEGMENT_TID", "OMNISEGMENT_API_KEY"):
        monkeypatch.setenv(name, sandbox_env[name])
    spec = write_trigger_spec(tmp_path, 4)
    first = omnisync.run(spec).sync("members")
    assert (first.triggered, first.skipped_in_window, first.outcome_unknown) == (4, 0, 0)
    again = omnisync.run(spec, resend_unknown=True).sync("members")
    assert (again.triggered, again.skipped_in_window, again.outcome_unknown_keys) == (0, 4, ())


def test_a_refused_trigger_is_replayed_once_and_marked(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """A member the API refuses (400) was not triggered: its mark goes, its row is in the reject
    file. `rejects replay` sends it through the same gate: triggered once and marked, so the next
    run skips it."""
    spec = write_trigger_spec(tmp_path, 3, top="max_reject_ratio: 0.5\n")
    sandbox.configure(reject_keys="M000002$")
    first, _ = run_triggers(spec, sandbox_env)
    assert (first["triggered"], first["rejected"]) == (2, 1)
    sandbox.configure(reject_keys=None)
    replay = run_cli("--log-level", "warning", "rejects", "replay", str(spec), env=sandbox_env)
    assert replay.returncode == 0, replay.stderr
    assert "1 delivered and marked resolved" in replay.stdout
    assert triggered(sandbox) == {"M000000": 1, "M000001": 1, "M000002": 1}
    after, _ = run_triggers(spec, sandbox_env)
    assert (after["triggered"], after["skipped_in_window"]) == (0, 3)
