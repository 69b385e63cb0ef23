"""An operator's week on the sandbox: five runs with edits, a rejected and a filtered record, a row
removed from the export and a crash; then `omnisync history` and `omnisync why` tell it back.

Each backend keeps the history in the store itself: with PostgreSQL and S3 every run starts from
a fresh copy of the spec directory, as a CI job does.
"""

from __future__ import annotations

import json
import signal
from typing import Any

from tests.conftest import RunningSandbox, run_cli
from tests.integration._field_slots import assert_fields_told
from tests.integration._state_backends import Runner, moto_url, runner
from tests.sandbox_specs import members

__all__ = ["moto_url", "runner"]

FILTER = "    max_reject_ratio: 0.5\n    filter: \"name != 'hidden'\"\n"
COUNTED = ("read", "delivered", "unchanged", "filtered", "rejected", "failed", "left_source")


def edit(rows: list[tuple[str, str, str]], key: str, name: str) -> list[tuple[str, str, str]]:
    return [(i, name if i == key else n, e) for i, n, e in rows]


def cli(runner: Runner, *args: str) -> str:
    job = runner.directory()
    done = run_cli(*args[:1], str(job / "sync.yaml"), *args[1:], env=runner.env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def counts(run: dict[str, Any]) -> tuple[int, ...] | None:
    members_counts = run["syncs"]["members"]
    if "read" not in members_counts:
        return None
    return tuple(members_counts[k] for k in COUNTED)


def play_the_week(runner: Runner, sandbox: RunningSandbox) -> list[str]:
    """Monday to Friday; the run ids, oldest first."""
    sandbox.configure(reject_keys=r"^M000007$")  # the API refuses this member
    runner.extra = FILTER
    runner.rows = edit(members(10), "M000005", "hidden")  # filtered by the spec
    monday = runner.run()
    assert (monday["delivered"], monday["filtered"], monday["rejected"]) == (8, 1, 1)

    runner.rows = edit(runner.rows, "M000001", "member 1 (married)")
    assert runner.run()["delivered"] == 1

    runner.rows = [r for r in edit(runner.rows, "M000003", "member 3 (moved)") if r[0] != "M000002"]
    (plan,) = json.loads(cli(runner, "plan", "--changes", "--format", "json"))
    wednesday = runner.run()
    # the plan's exact prediction: M000003 changed (its name), M000007 new (the API refused it
    # before: no digest; it refuses it again), M000002 gone from the export
    assert (plan["new"], plan["changed"], plan["unchanged"], plan["filtered"]) == (1, 1, 6, 1)
    assert plan["left_source"] == wednesday["left_the_source"] == 1
    assert_fields_told(plan["fields"], {"name": 1})
    assert plan["new"] + plan["changed"] == wednesday["delivered"] + wednesday["rejected"]
    assert plan["unchanged"] == wednesday["unchanged"]
    assert "left the source 1" in str(wednesday["stdout"])

    runner.rows = edit(runner.rows, "M000000", "member 0 (renamed)")  # first: no mark moves
    runner.run(ok=False, env={"OMNISYNC_CRASH_AT": "before_send"})
    assert runner.last is not None
    assert runner.last.returncode == -signal.SIGKILL

    friday = runner.run()
    assert (friday["delivered"], friday["unchanged"], friday["left_the_source"]) == (1, 6, 0)

    shown = json.loads(cli(runner, "history", "--format", "json"))
    assert [counts(run) for run in shown] == [
        (9, 1, 6, 1, 1, 0, 0),  # Friday: the crashed run's record sent
        None,  # Thursday: killed, said so
        (9, 1, 6, 1, 1, 0, 1),  # Wednesday: M000002 left the source
        (10, 1, 7, 1, 1, 0, 0),
        (10, 8, 0, 1, 1, 0, 0),
    ]
    assert [run["exit_code"] for run in shown] == [0, None, 0, 0, 0]
    text = cli(runner, "history", "--limit", "2")
    assert "did not finish (crashed, killed, or still running)" in text
    assert "members: read 9, delivered 1, unchanged 6, filtered 1, rejected 1" in text
    return [run["run_id"] for run in reversed(shown)]


def why(runner: Runner, key: str) -> tuple[str, list[tuple[str, str]]]:
    text = cli(runner, "why", key)
    answer = json.loads(cli(runner, "why", key, "--format", "json"))
    assert [a["sync"] for a in answer] == ["members"]
    return text, [(e["run_id"], e["action"]) for e in answer[0]["runs"]]


def test_an_operators_week(runner: Runner, sandbox: RunningSandbox) -> None:
    mon, tue, wed, thu, fri = play_the_week(runner, sandbox)

    text, events = why(runner, "M000001")  # delivered, changed, then unchanged
    assert events == [(mon, "new"), (tue, "changed"), (wed, "unchanged"), (fri, "unchanged")]
    assert f"sent in run {mon} at" in text
    assert "(changed) with digest" in text
    assert "M000001" not in text  # masked, as everywhere
    assert "members: M000001\n" in cli(runner, "why", "M000001", "--reveal-pii")

    text, events = why(runner, "M000008")  # never changed
    assert events == [(mon, "new"), (tue, "unchanged"), (wed, "unchanged"), (fri, "unchanged")]
    assert f"unchanged since: runs {tue} to {fri} (3 runs" in text

    text, events = why(runner, "M000007")  # the API refused it every time
    assert events == [(mon, "rejected"), (tue, "rejected"), (wed, "rejected"), (fri, "rejected")]
    assert f"rejected in run {mon} at" in text
    assert "because" in text

    text, events = why(runner, "M000005")
    assert [action for _, action in events] == ["filtered"] * 4
    assert "by the rule: filter: name != 'hidden'" in text

    text, events = why(runner, "M000002")
    assert events == [(mon, "new"), (tue, "unchanged"), (wed, "removed")]
    assert f"left the source in run {wed}" in text

    text, events = why(runner, "M000000")  # the crashed run left no trace; Friday sent it
    assert events[-1] == (fri, "changed")
    assert thu not in text

    _, events = why(runner, "M404")
    assert events == []
