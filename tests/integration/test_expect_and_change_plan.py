"""`plan --changes` predicts the next run exactly, and `expect:` catches a degraded run: a mapping
change that resends every record is refused before anything is sent (exit 5), the other bounds
after the run; each breach is a line on stderr, a GitHub annotation, a step-summary line and a
webhook message."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunningSandbox, invoke_cli
from tests.integration._field_slots import assert_fields_told
from tests.integration.test_notify import hook
from tests.sandbox_specs import members, members_spec, write_rows

__all__ = ["hook"]  # fixture

MAPPING = "      member_sn: id\n      name: name\n      email: email\n"
RESHAPED = '      member_sn: id\n      name: {template: "{name} (new)"}\n      email: email\n'


def _spec(directory: Path, mapping: str = MAPPING, expect: str = "") -> Path:
    spec = directory / "sync.yaml"
    sync = (
        "    destination: {endpoint: audience, options: {merge_key: member_sn}}\n"
        "    delivery: {rate_limit: 20/s, batch_size: 10}\n"
        "    max_reject_ratio: 1\n"
        "    reject_file: out/rejects.jsonl\n"
        f"{expect}"
        "    mapping:\n" + mapping
    )
    spec.write_text(members_spec(sync), encoding="utf-8")
    return spec


def _received(sandbox: RunningSandbox) -> int:
    return int(sandbox.stats()["received"].get("audience", 0))


def _run(spec: Path, env: dict[str, str], *extra: str) -> tuple[int, dict[str, object], str, str]:
    report = spec.parent / "report.json"
    result = invoke_cli("run", str(spec), "--report", str(report), *extra, env=env, cwd=spec.parent)
    sync = json.loads(report.read_text("utf-8"))["syncs"][0]
    return result.returncode, sync, result.stdout, result.stderr


def test_plan_changes_predicts_the_next_run_exactly(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    rows = members(60)
    write_rows(tmp_path / "members.csv", rows)
    spec = _spec(tmp_path)
    assert _run(spec, sandbox_env)[0] == 0
    assert _received(sandbox) == 60
    # 12 edited (10 names, 2 e-mail addresses), 8 new, 3 new rows with an email the endpoint
    # refuses, 2 gone from the export, 46 unchanged
    edited = [(i, f"{n} (moved)" if k < 10 else n, e) for k, (i, n, e) in enumerate(rows)]
    edited = [(i, n, f"moved-{e}" if 10 <= k < 12 else e) for k, (i, n, e) in enumerate(edited)]
    added = [(f"N{k:03d}", f"newcomer {k}", f"n{k}@example.com") for k in range(8)]
    broken = [(f"B{k:03d}", "broken", "not an email") for k in range(3)]
    write_rows(tmp_path / "members.csv", edited[:-2] + added + broken)

    shown = invoke_cli(
        "plan", str(spec), "--changes", "--format", "json", env=sandbox_env, cwd=tmp_path
    )
    assert shown.returncode == 0, shown.stderr
    (plan,) = json.loads(shown.stdout)
    assert _received(sandbox) == 60  # the plan sent nothing
    assert (plan["read"], plan["new"], plan["changed"], plan["unchanged"], plan["rejected"]) == (
        69,
        8,
        12,
        46,
        3,
    )
    assert plan["left_source"] == 2
    assert_fields_told(plan["fields"], {"name": 10, "email": 2})  # from the field slots
    assert plan["fields_unknown"] == 0
    assert (plan["requests"], plan["seconds"]) == (2, 0.1)  # 20 records, 10 a batch, 20/s
    assert plan["samples"]["new"][0] == "N***"  # keys are masked
    assert len(plan["samples"]["changed"]) == 5

    code, sync, _, _ = _run(spec, sandbox_env)
    assert code == 0
    assert (sync["rows_read"], sync["delivered"], sync["unchanged"], sync["rejected"]) == (
        plan["read"],
        plan["new"] + plan["changed"],
        plan["unchanged"],
        plan["rejected"],
    )
    assert sync["left_the_source"] == plan["left_source"]
    assert _received(sandbox) == 60 + 20


def test_plan_changes_as_markdown_and_text(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    write_rows(tmp_path / "members.csv", members(5))
    spec = _spec(tmp_path)
    assert _run(spec, sandbox_env)[0] == 0
    spec.write_text(spec.read_text("utf-8").replace(MAPPING, RESHAPED), encoding="utf-8")

    markdown = invoke_cli("plan", str(spec), "--changes", "--format", "markdown", env=sandbox_env)
    assert markdown.returncode == 0, markdown.stderr
    assert "### omnisync change plan: `sync.yaml`" in markdown.stdout
    assert (
        "| members | 5 | 0 | 5 | 0 | 0 | 0 | 0 | about 0s (1 request of up to 10 records at 20/s"
        in (markdown.stdout)
    )
    assert "- members: fields that differ from what was last sent: name 5\n" in markdown.stdout
    text = invoke_cli("plan", str(spec), "--changes", env=sandbox_env)
    assert (
        "members: read 5: new 0, changed 5, unchanged 0, left the source 0, rejected 0, filtered 0"
        in text.stdout
    )
    assert "  sample changed keys: M******, M******" in text.stdout
    assert "  fields that differ from what was last sent: name 5\n" in text.stdout
    assert "member 0" not in text.stdout + markdown.stdout  # names of fields, never values


def test_a_mapping_change_that_touches_every_record_trips_expect_before_sending(
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    hook: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    url, received = hook
    write_rows(tmp_path / "members.csv", members(30))
    expect = "    expect: {max_changed_share: 0.5}\n"
    spec = _spec(tmp_path, expect=expect)
    assert _run(spec, sandbox_env)[0] == 0  # a first run: every record new, nothing to compare
    spec.write_text(spec.read_text("utf-8").replace(MAPPING, RESHAPED), encoding="utf-8")
    requests_before = dict(sandbox.stats()["requests"])
    summary = tmp_path / "summary.md"
    env = {**sandbox_env, "GITHUB_ACTIONS": "true", "OMNISYNC_NOTIFY_WEBHOOK": url}

    code, sync, out, err = _run(spec, env, "--summary", str(summary))

    assert code == 5
    assert sandbox.stats()["requests"] == requests_before  # not one request
    assert sync["delivered"] == 0
    assert str(sync["stopped"]).startswith("not run")
    breach = (
        "members: 30 of 30 records sent before changed (100.0%), expected at most 50.0%: "
        "nothing was sent"
    )
    assert err.count(breach) == 1  # said once, not again as an error line
    assert f"expect: {breach}" in err
    escaped = breach.replace("%", "%25")  # a workflow command's message escapes %
    assert f"::warning title=omnisync expect::{escaped}" in out
    assert "## omnisync run: degraded, exit 5" in summary.read_text("utf-8")
    assert f"- :warning: {breach}" in summary.read_text("utf-8")
    text = json.loads(received[0][2])["text"]
    assert text.splitlines()[0].endswith("degraded (exit 5)")
    assert f"expect not met: {breach}" in text

    # reviewed and let go: a higher bound sends them all
    spec.write_text(spec.read_text("utf-8").replace("0.5}", "1}"), encoding="utf-8")
    code, sync, _, _ = _run(spec, sandbox_env)
    assert (code, sync["delivered"]) == (0, 30)


def test_bounds_judged_after_the_run_exit_5_when_nothing_else_failed(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    write_rows(tmp_path / "members.csv", [*members(3), ("B1", "broken", "not an email")])
    spec = _spec(tmp_path, expect="    expect: {min_rows: 100, max_reject_ratio: 0.1}\n")
    spec.write_text(
        spec.read_text("utf-8").replace("syncs:", "defaults:\n  expect: {max_429: 0}\nsyncs:"),
        encoding="utf-8",
    )

    code, sync, out, err = _run(spec, sandbox_env)

    assert code == 5
    assert sync["delivered"] == 3  # a degraded run still delivers what it can
    assert "expect: members: read 4 rows, expected at least 100" in err
    assert "expect: members: rejected 1 of 4 rows (25.0%), expected at most 10.0%" in err
    assert "::warning" not in out  # not in GitHub Actions: no annotation


def test_more_429s_than_expected_is_a_degraded_run(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    sandbox.configure(rate_limit=5)  # the spec paces at 20/s: the sandbox answers 429
    write_rows(tmp_path / "members.csv", members(100))
    spec = _spec(tmp_path, expect="    expect: {max_429: 0}\n")
    spec.write_text(
        spec.read_text("utf-8").replace(
            "batch_size: 10}", "batch_size: 5, retry: {throttled: {attempts: 20}}}"
        ),
        encoding="utf-8",
    )

    code, sync, _, err = _run(spec, sandbox_env)

    assert sync["delivered"] == 100
    assert sync["throttled_429"] > 0
    assert code == 5
    assert f"expect: members: got {sync['throttled_429']} answers 429" in err
