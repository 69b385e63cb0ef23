"""`rejects replay`: rejected rows read again from the source, sent, and marked resolved."""

from __future__ import annotations

import json
from pathlib import Path

from engine.run.replay import replay_spec
from engine.run.runner import RunOptions, run_spec
from engine.specfile import load_spec
from tests.conftest import RunningSandbox, invoke_cli
from tests.integration._sources import rejects, write_spec


def write_members(path: Path, count: int) -> None:
    lines = ["id,name", *(f"M{i:06d},member {i}" for i in range(count))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def test_rows_the_api_refused_are_replayed_and_marked_resolved(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    write_members(tmp_path / "members.csv", 300)
    spec = load_spec(write_spec(tmp_path, {"csv": {"path": "members.csv"}}), environ=sandbox_env)
    sandbox.configure(reject_keys=r"^M0000[1-5]7$")  # M000017, M000027, ... M000057
    first = (await run_spec(spec, RunOptions())).syncs[0]
    assert (first.delivered, first.rejected) == (295, 5)
    assert sorted(e["position"] for e in rejects(tmp_path)) == [
        f"members.csv:{i + 2}" for i in (17, 27, 37, 47, 57)
    ]

    sandbox.configure(reject_keys=r"^M000057$")  # the API takes four of them now
    (result,) = await replay_spec(spec)
    assert (result.listed, result.delivered, result.refused, result.missing) == (5, 4, 1, 0)
    assert {"M000017", "M000027", "M000037", "M000047"} <= set(sandbox.records("audience"))
    entries = {e["position"]: e for e in rejects(tmp_path)}
    assert [p for p, e in entries.items() if not e["resolved"]] == ["members.csv:59"]
    assert "M000057" in json.dumps(entries["members.csv:59"])  # the key, as the run wrote it

    sandbox.configure(reject_keys=None)
    (again,) = await replay_spec(spec)
    assert (again.listed, again.delivered, again.refused) == (1, 1, 0)
    assert all(e["resolved"] for e in rejects(tmp_path))
    (nothing,) = await replay_spec(spec)
    assert nothing.listed == 0
    assert len(sandbox.records("audience")) == 300


async def test_a_row_gone_from_the_source_is_counted_missing(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    write_members(tmp_path / "members.csv", 100)
    spec = load_spec(write_spec(tmp_path, {"csv": {"path": "members.csv"}}), environ=sandbox_env)
    sandbox.configure(reject_keys=r"^M0000(17|97)$")
    await run_spec(spec, RunOptions())
    write_members(tmp_path / "members.csv", 50)  # the export shrank: row M000097 is gone
    sandbox.configure(reject_keys=None)
    (result,) = await replay_spec(spec)
    assert (result.listed, result.delivered, result.missing) == (2, 1, 1)
    unresolved = [e["position"] for e in rejects(tmp_path) if not e.get("resolved")]
    assert unresolved == ["members.csv:99"]


def test_rejects_replay_as_a_user_runs_it(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """`rejects replay` from the command line delivers the refused rows and then finds none left."""
    write_members(tmp_path / "members.csv", 50)
    spec = write_spec(tmp_path, {"csv": {"path": "members.csv"}})
    sandbox.configure(reject_keys=r"^M00001[27]$")
    first = invoke_cli("run", str(spec), env=sandbox_env)
    assert first.returncode == 0, first.stderr
    sandbox.configure(reject_keys=None)
    done = invoke_cli("rejects", "replay", str(spec), "--select", "members", env=sandbox_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "members: 2 rejected rows: 2 delivered and marked resolved, 0 rejected again, "
        "0 no longer in the source\n"
    )
    again = invoke_cli("rejects", "replay", str(spec), env=sandbox_env)
    assert again.stdout == "members: no unresolved rejected rows\n"
    assert len(sandbox.records("audience")) == 50
