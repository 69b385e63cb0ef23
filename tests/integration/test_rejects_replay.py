"""`rejects replay`: rejected rows read again from the source, sent, and marked resolved; a reject
file a crash cut short still replays; what a replay sent is remembered, also when it is killed."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from engine.run.replay import replay_spec
from engine.run.runner import RunOptions, run_spec
from engine.specfile import load_spec
from tests.conftest import RunningSandbox, invoke_cli, run_cli
from tests.integration._sources import rejects, write_spec
from tests.sandbox_specs import members, write_rows


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

    # a replay is a run in the history, and its records are in the ledger
    shown = json.loads(invoke_cli("history", str(spec), "--format", "json", env=sandbox_env).stdout)
    assert [run["kind"] for run in shown] == ["replay", "replay", "run"]
    nothing, replayed, ran = shown
    assert replayed["exit_code"] == nothing["exit_code"] == 0
    assert nothing["syncs"]["members"]["read"] == 0
    assert ran["syncs"]["members"]["rejected"] == 2
    assert (replayed["syncs"]["members"]["delivered"], replayed["syncs"]["members"]["new"]) == (
        2,
        2,
    )
    text = invoke_cli("history", str(spec), env=sandbox_env).stdout
    assert f"rejects replay {replayed['run_id']}: started" in text
    why = json.loads(
        invoke_cli("why", str(spec), "M000012", "--format", "json", env=sandbox_env).stdout
    )
    assert [(e["run_id"], e["kind"], e["action"]) for e in why[0]["runs"]] == [
        (ran["run_id"], "run", "rejected"),
        (replayed["run_id"], "replay", "new"),
    ]
    told = invoke_cli("why", str(spec), "M000012", env=sandbox_env).stdout
    assert f"sent in replay {replayed['run_id']} at" in told


# -- A reject line cut short by a crash ---------------------------------------------------------

EMAIL_SPEC = """\
version: 1
omnisegment:
  base_url: ${SANDBOX_URL}
  tid: ${OMNISEGMENT_TID}
  api_key: ${OMNISEGMENT_API_KEY}
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    delivery: {rate_limit: 5000/s, concurrency: 1, batch_size: 10}
    max_reject_ratio: 0.5
    mapping:
      member_sn: id
      name: name
      email: {from: email, transforms: [email]}
"""


def reject_path(directory: Path) -> Path:
    return directory / ".omnisync" / "rejects-members.jsonl"


def write_with_bad_emails(directory: Path, count: int, bad: set[int]) -> None:
    """Members; those in `bad` have an email the mapping refuses."""
    rows = [(i, n, f"no-at-{k}" if k in bad else e) for k, (i, n, e) in enumerate(members(count))]
    write_rows(directory / "members.csv", rows)


def crash_mid_reject_line(directory: Path, env: dict[str, str]) -> Path:
    """A run killed while it appends its reject lines (the first 50 rows are bad); the spec."""
    spec = directory / "sync.yaml"
    spec.write_text(EMAIL_SPEC, encoding="utf-8")
    write_with_bad_emails(directory, 300, set(range(50)))
    crashed = run_cli("run", str(spec), env={**env, "OMNISYNC_CRASH_AT": "reject_append"})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    written = reject_path(directory).read_bytes()
    assert written.count(b"\n") >= 1  # whole lines, then one cut short
    assert not written.endswith(b"\n")
    return spec


def test_replay_right_after_a_crash_skips_the_line_it_cut_short(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Replay refused the whole file ("cut short?") until someone edited it by hand."""
    spec = crash_mid_reject_line(tmp_path, sandbox_env)
    path = reject_path(tmp_path)
    whole = path.read_bytes().count(b"\n")  # the lines before the cut one
    write_rows(tmp_path / "members.csv", members(300))  # the data is fixed

    done = run_cli("rejects", "replay", str(spec), env=sandbox_env)
    assert done.returncode == 0, done.stderr
    assert f"{path}:{whole + 1}: the last line was cut short by a crash; skipped" in done.stderr
    assert done.stdout == (
        f"members: {whole} rejected rows: {whole} delivered and marked resolved, "
        "0 rejected again, 0 no longer in the source\n"
    )
    assert [e["resolved"] for e in rejects(tmp_path)] == [True] * whole


def test_a_run_after_the_crash_leaves_every_reject_once_on_a_line_of_its_own(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """The writer closed a cut line with a newline: after the rerun appended, the cut line sat in
    the middle of the file, and replay (like any JSON Lines reader) refused it there."""
    spec = crash_mid_reject_line(tmp_path, sandbox_env)

    rerun = run_cli("run", str(spec), env=sandbox_env)
    assert rerun.returncode == 0, rerun.stderr
    assert "its last line was cut short by a crash; removed before this run appends" in rerun.stderr
    keys = [e["key"] for e in rejects(tmp_path)]  # every line parses
    assert sorted(keys) == [f"M{i:06d}" for i in range(50)]  # each bad row once

    write_rows(tmp_path / "members.csv", members(300))
    done = run_cli("rejects", "replay", str(spec), env=sandbox_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("members: 50 rejected rows: 50 delivered and marked resolved")
    assert len(sandbox.records("audience")) == 300


def test_a_broken_line_inside_the_file_stops_replay_naming_its_line(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    write_members(tmp_path / "members.csv", 50)
    spec = write_spec(tmp_path, {"csv": {"path": "members.csv"}})
    sandbox.configure(reject_keys=r"^M00001[27]$")
    assert invoke_cli("run", str(spec), env=sandbox_env).returncode == 0
    path = reject_path(tmp_path)
    first, second = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(first[:30] + b"\n" + second)  # damage no crash can explain

    done = invoke_cli("rejects", "replay", str(spec), env=sandbox_env)
    assert done.returncode == 1
    assert f"error: {path}:1: not a reject entry" in done.stderr


# -- What a replay sent is remembered ------------------------------------------------------------


def received(sandbox: RunningSandbox) -> int:
    return int(sandbox.stats()["received"].get("audience", 0))


async def test_what_a_replay_delivered_is_not_sent_again_by_the_next_run(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Replay saved no digests: the next run sent every replayed record again."""
    write_members(tmp_path / "members.csv", 300)
    spec = load_spec(write_spec(tmp_path, {"csv": {"path": "members.csv"}}), environ=sandbox_env)
    sandbox.configure(reject_keys=r"^M0000[1-5]7$")
    await run_spec(spec, RunOptions())
    sandbox.configure(reject_keys=None)
    (replayed,) = await replay_spec(spec)
    assert replayed.delivered == 5
    before = received(sandbox)

    (rerun,) = (await run_spec(spec, RunOptions())).syncs
    assert (rerun.delivered, rerun.unchanged) == (0, 300)
    assert received(sandbox) == before


def test_a_replay_killed_after_some_batches_keeps_what_it_resolved(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """A replay killed after 90 of 100 marked none resolved: the next one sent all 100 again."""
    spec = tmp_path / "sync.yaml"
    spec.write_text(EMAIL_SPEC, encoding="utf-8")
    write_with_bad_emails(tmp_path, 200, {i for i in range(200) if i % 10 < 3})  # 60 bad rows
    assert run_cli("run", str(spec), env=sandbox_env).returncode == 0
    assert len(rejects(tmp_path)) == 60
    write_rows(tmp_path / "members.csv", members(200))  # the data is fixed
    before = received(sandbox)

    killed = run_cli(
        "rejects", "replay", str(spec), env={**sandbox_env, "OMNISYNC_CRASH_AT": "after_answer:3"}
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert received(sandbox) == before + 30  # three batches of 10 sent, the third unanswered
    journal = [
        json.loads(line)
        for line in reject_path(tmp_path).with_suffix(".jsonl.resolved").read_text().splitlines()
    ]
    assert sum(len(line.get("resolved", ())) for line in journal) == 20  # two acknowledged

    again = run_cli("rejects", "replay", str(spec), env=sandbox_env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == (
        "members: 40 rejected rows: 40 delivered and marked resolved, 0 rejected again, "
        "0 no longer in the source\n"
    )
    assert received(sandbox) - before - 60 == 10  # sent twice: the batch in flight only
    assert all(e["resolved"] for e in rejects(tmp_path))
    assert not reject_path(tmp_path).with_suffix(".jsonl.resolved").exists()

    rerun = run_cli("run", str(spec), env=sandbox_env)
    assert rerun.returncode == 0, rerun.stderr
    assert "delivered 0, unchanged 200," in rerun.stdout


async def test_a_listed_row_refused_once_is_sent_again_and_resolved(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """M000017 was delivered, then changed and refused, then changed back. Its digest was marked
    pending before the refused request left (a digest never claims what the API may not hold),
    so the replay sends it once more instead of trusting the first digest, and resolves it."""
    source = tmp_path / "members.csv"
    write_members(source, 50)
    spec = load_spec(write_spec(tmp_path, {"csv": {"path": "members.csv"}}), environ=sandbox_env)
    await run_spec(spec, RunOptions())
    source.write_text(source.read_text().replace("member 17\n", "renamed 17\n"), encoding="utf-8")
    sandbox.configure(reject_keys=r"^M000017$")
    await run_spec(spec, RunOptions())
    write_members(source, 50)  # back to the value the API acknowledged first
    sandbox.configure(reject_keys=None)
    before = received(sandbox)

    (result,) = await replay_spec(spec)
    assert (result.listed, result.delivered, result.unchanged, result.refused) == (1, 1, 0, 0)
    assert received(sandbox) == before + 1
    assert [e["resolved"] for e in rejects(tmp_path)] == [True]
