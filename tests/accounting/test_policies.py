"""Issue #10's run-level defects: missing columns (4), undeclared custom fields (5), one failing
sync skipping the others (9), and the reject thresholds (11)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.errors import ExitCode, SpecError
from tests.accounting.harness import (
    assert_accounted,
    members_sync,
    reject_lines,
    run,
    write_spec,
)
from tests.conftest import RunningSandbox, run_cli


def members_csv(directory: Path, rows: int = 3, bad_every: int = 0) -> None:
    lines = ["member_sn,name,email"]
    for i in range(rows):
        email = "bad" if bad_every and i % bad_every == 0 else f"m{i}@example.com"
        lines.append(f"M{i:05d},n{i},{email}")
    (directory / "m.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


CSV = {"csv": {"path": "m.csv"}}


@pytest.mark.parametrize(
    ("mapping", "top", "expected"),
    [
        pytest.param(
            "      member_sn: member_sn\n      name: nmae\n",
            "",
            "mapping.name: no column 'nmae' in m.csv (did you mean 'name'?); "
            "its columns: member_sn, name, email",
            id="mapping",
        ),
        pytest.param(
            "      member_sn: member_sn\n      name: {template: '{name} {category}'}\n",
            "",
            "no column 'category' in m.csv",
            id="template",
        ),
    ],
)
async def test_d4_a_mapped_column_the_csv_lacks_is_a_spec_error(
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    mapping: str,
    top: str,
    expected: str,
) -> None:
    """Defect 4: a mapped column the header lacks sent every record without the field."""
    members_csv(tmp_path)

    with pytest.raises(SpecError) as raised:
        await run(tmp_path, sandbox_env, members_sync(CSV, mapping=mapping), top=top)

    assert expected in str(raised.value)
    assert raised.value.exit_code == ExitCode.SPEC_INVALID
    assert sandbox.stats()["received"] == {}


async def test_d4_a_filter_on_a_missing_column_is_a_spec_error(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Defect 4: `filter: not deleted` on a CSV without `deleted` kept every row."""
    members_csv(tmp_path)
    sync = members_sync(CSV).replace("    mapping:", "    filter: not deleted\n    mapping:")

    with pytest.raises(SpecError, match=r"filter: no column 'deleted' in m.csv"):
        await run(tmp_path, sandbox_env, sync)
    assert sandbox.stats()["received"] == {}


async def test_d4_a_cursor_or_mapping_the_table_lacks_is_a_spec_error(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Defect 4: `item_list` for a column `items`, a cursor that is not a column (was KeyError)."""
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    table = f"t_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, member_sn TEXT, items TEXT)")
        )
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (1, 'M1', 'a')"))
    engine.dispose()
    mapping = "      member_sn: member_sn\n      name: item_list\n"
    sync = members_sync({"sql": {"url": url, "table": table}}, mapping=mapping)
    sync = sync.replace("    mapping:", "    incremental: {cursor: updated}\n    mapping:")

    with pytest.raises(SpecError) as raised:
        await run(tmp_path, sandbox_env, sync)

    text = str(raised.value)
    assert f"no column 'item_list' in table {table} (did you mean 'items'?)" in text
    assert "incremental.cursor: no column 'updated'" in text
    assert sandbox.stats()["received"] == {}


def test_d4_validate_checks_columns_unless_offline(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    members_csv(tmp_path)
    spec = write_spec(
        tmp_path, members_sync(CSV, mapping="      member_sn: member_sn\n      name: nmae\n")
    )

    checked = run_cli("validate", str(spec), env=sandbox_env)
    offline = run_cli("validate", "--offline", str(spec), env=sandbox_env)

    assert checked.returncode == 2
    assert "no column 'nmae' in m.csv (did you mean 'name'?)" in checked.stderr
    assert "Traceback" not in checked.stderr
    assert offline.returncode == 0, offline.stderr


async def test_d5_an_undocumented_target_field_must_be_declared(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Defect 5: `store_name` (for physical_store_name) went out as a custom field, silently."""
    members_csv(tmp_path)
    mapping = "      member_sn: member_sn\n      nmae: name\n"

    with pytest.raises(
        SpecError, match=r"'nmae' is not a documented audience field \(did you mean 'name'\?\)"
    ):
        await run(tmp_path, sandbox_env, members_sync(CSV, mapping=mapping))

    declared = members_sync(CSV, mapping=mapping, extra=", custom_fields: [nmae]")
    result = await run(tmp_path, sandbox_env, declared)
    assert result.syncs[0].delivered == 3
    assert_accounted(result, sandbox, tmp_path)


def three_syncs(broken: str) -> list[str]:
    return [
        members_sync(CSV, name="first"),
        members_sync(broken, name="second"),
        members_sync(CSV, name="third"),
    ]


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param("{csv: {path: missing-*.csv}}", id="no-file"),
        pytest.param(
            "{sql: {url: 'postgresql+psycopg://nobody@127.0.0.1:1/x', table: t}}", id="db-down"
        ),
    ],
)
def test_d9_a_failing_sync_does_not_skip_the_next_and_the_report_has_all(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str], broken: str
) -> None:
    """Defect 9: the syncs after a failing one never ran and were missing from the report."""
    members_csv(tmp_path)
    spec = write_spec(tmp_path, *three_syncs(broken))
    report = tmp_path / "report.json"

    done = run_cli("run", str(spec), "--report", str(report), env=sandbox_env)

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    syncs = {s["sync"]: s for s in json.loads(report.read_text())["syncs"]}
    assert list(syncs) == ["first", "second", "third"]
    assert syncs["first"]["delivered"] == syncs["third"]["delivered"] == 3
    assert syncs["second"]["stopped"]
    assert "second" in done.stderr


def test_d9_fail_fast_stops_at_the_first_failure_and_says_why_the_rest_did_not_run(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    members_csv(tmp_path)
    spec = write_spec(tmp_path, *three_syncs("{csv: {path: missing-*.csv}}"))
    report = tmp_path / "report.json"

    done = run_cli("run", str(spec), "--fail-fast", "--report", str(report), env=sandbox_env)

    assert done.returncode == 1, done.stderr
    syncs = {s["sync"]: s for s in json.loads(report.read_text())["syncs"]}
    assert list(syncs) == ["first", "second", "third"]
    assert syncs["third"]["rows_read"] == 0
    assert "not run" in str(syncs["third"]["stopped"])
    assert "--fail-fast" in str(syncs["third"]["stopped"])


async def test_d11_max_reject_ratio_decides_the_exit_code_after_every_good_row_is_sent(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Defect 11: with the default ratio 0 and 1% bad rows the run stopped after 1,000 rows."""
    members_csv(tmp_path, rows=3000, bad_every=100)
    mapping = "      member_sn: member_sn\n      email: {from: email, transforms: [email]}\n"
    sync = members_sync(CSV, mapping=mapping).replace("    max_reject_ratio: 1\n", "")

    result = await run(tmp_path, sandbox_env, sync)

    stats = result.syncs[0]
    assert (stats.read, stats.delivered, stats.rejected, stats.unsent) == (3000, 2970, 30, 0)
    assert result.exit_code == ExitCode.REJECTS_EXCEEDED
    assert result.error is not None
    for part in ("members", "max_reject_ratio", "rejects-members.jsonl", "30 of 3000"):
        assert part in result.error
    assert_accounted(result, sandbox, tmp_path)


async def test_d11_early_stop_ends_a_plainly_broken_mapping_and_names_the_setting(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    members_csv(tmp_path, rows=5000, bad_every=1)  # every row bad
    mapping = "      member_sn: member_sn\n      email: {from: email, transforms: [email]}\n"
    sync = members_sync(CSV, mapping=mapping).replace(
        "    max_reject_ratio: 1\n", "    early_stop: {ratio: 0.5, after: 1000}\n"
    )

    result = await run(tmp_path, sandbox_env, sync)

    stats = result.syncs[0]
    assert stats.read < 5000
    assert result.exit_code == ExitCode.REJECTS_EXCEEDED
    for part in ("members", "early_stop", "rejects-members.jsonl"):
        assert part in str(result.error)
    assert len(reject_lines(tmp_path)) == stats.rejected
    assert_accounted(result, sandbox, tmp_path)


async def test_d11_under_a_thousand_rows_the_message_still_names_the_sync(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    members_csv(tmp_path, rows=10, bad_every=5)
    mapping = "      member_sn: member_sn\n      email: {from: email, transforms: [email]}\n"
    sync = members_sync(CSV, mapping=mapping).replace("    max_reject_ratio: 1\n", "")

    result = await run(tmp_path, sandbox_env, sync)

    assert result.exit_code == ExitCode.REJECTS_EXCEEDED
    assert "members" in str(result.error)
    assert "max_reject_ratio" in str(result.error)


async def test_after_early_stop_no_line_claims_the_other_rows_were_delivered(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """The sync stopped early: most rows were never read, so only the early_stop message stands
    (the max_reject_ratio line said "every other row was delivered")."""
    members_csv(tmp_path, rows=5000, bad_every=1)
    mapping = "      member_sn: member_sn\n      email: {from: email, transforms: [email]}\n"
    sync = members_sync(CSV, mapping=mapping).replace(
        "    max_reject_ratio: 1\n", "    early_stop: {ratio: 0.5, after: 1000}\n"
    )

    result = await run(tmp_path, sandbox_env, sync)

    assert result.exit_code == ExitCode.REJECTS_EXCEEDED
    assert "stopped early" in str(result.error)
    assert "delivered" not in str(result.error)
    assert "max_reject_ratio" not in str(result.error)


async def test_every_row_rejected_says_to_fix_the_mapping_not_to_raise_the_ratio(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    members_csv(tmp_path, rows=10, bad_every=1)
    mapping = "      member_sn: member_sn\n      email: {from: email, transforms: [email]}\n"
    sync = members_sync(CSV, mapping=mapping).replace("    max_reject_ratio: 1\n", "")

    result = await run(tmp_path, sandbox_env, sync)

    assert result.exit_code == ExitCode.REJECTS_EXCEEDED
    assert "members: every row was rejected (10 of 10)" in str(result.error)
    assert "fix the mapping" in str(result.error)
    assert "raise" not in str(result.error)
