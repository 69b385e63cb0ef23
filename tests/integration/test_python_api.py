"""The Python API runs what the command runs: the same report, the same exit codes as errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import omnisync
from tests.conftest import RunningSandbox, run_cli
from tests.integration._two_syncs import write_two_syncs


@pytest.fixture
def env(sandbox_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("SANDBOX_URL", "OMNISEGMENT_TID", "OMNISEGMENT_API_KEY"):
        monkeypatch.setenv(name, sandbox_env[name])
    return sandbox_env


def test_run_returns_the_report_the_command_writes(
    tmp_path: Path, env: dict[str, str], sandbox: RunningSandbox
) -> None:
    spec = write_two_syncs(tmp_path)
    report = omnisync.run(spec, report=tmp_path / "api.json")
    assert report.ok
    assert report.exit_code is omnisync.ExitCode.OK
    members, vouchers = report.sync("members"), report.sync("vouchers")
    assert (members.rows_read, members.delivered, members.rejected) == (3, 2, 1)
    assert members.reject_file is not None
    assert Path(members.reject_file).exists()
    assert (vouchers.rows_read, vouchers.delivered, vouchers.rejected) == (2, 2, 0)
    assert json.loads((tmp_path / "api.json").read_text()) == {
        k: v for k, v in report.as_dict().items() if k != "error"
    }
    done = run_cli("run", str(spec), "--report", str(tmp_path / "cli.json"), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert cli.keys() == report.as_dict().keys() - {"error"}
    assert [s.keys() for s in cli["syncs"]] == [s.keys() for s in report.as_dict()["syncs"]]


def test_select_runs_one_sync(tmp_path: Path, env: dict[str, str]) -> None:
    report = omnisync.run(write_two_syncs(tmp_path), select=["vouchers"])
    assert [s.sync for s in report.syncs] == ["vouchers"]
    assert report.syncs[0].delivered == 2


def test_a_run_over_its_reject_ratio_raises_with_the_commands_exit_code(
    tmp_path: Path, env: dict[str, str]
) -> None:
    bad = "id,name,email\nM1,Ann,nope\nM2,Bo,not-an-email\nM3,Cy,cy@example.com\n"
    report = omnisync.run(write_two_syncs(tmp_path, members=bad), select=["members"])
    assert report.exit_code is omnisync.ExitCode.REJECTS_EXCEEDED
    assert report.sync("members").exit_code == 3
    with pytest.raises(omnisync.RunFailed) as failed:
        report.raise_for_exit()
    assert failed.value.exit_code == 3
    assert "max_reject_ratio" in str(failed.value)


def test_an_invalid_spec_raises_spec_error_exit_2(tmp_path: Path, env: dict[str, str]) -> None:
    spec = write_two_syncs(tmp_path)
    spec.write_text(spec.read_text().replace("max_reject_ratio: 0.5", "max_reject_ratio: lots"))
    with pytest.raises(omnisync.SpecError) as invalid:
        omnisync.validate(spec)
    assert invalid.value.exit_code == 2
    assert "sync.yaml:" in str(invalid.value)
    with pytest.raises(omnisync.SpecError):
        omnisync.run(spec)


def test_validate_names_a_missing_column_and_describes_the_syncs(
    tmp_path: Path, env: dict[str, str]
) -> None:
    spec = write_two_syncs(tmp_path)
    info = omnisync.validate(spec)
    assert [(s.name, s.depends_on, s.endpoint) for s in info.syncs] == [
        ("members", (), "audience"),
        ("vouchers", ("members",), "gift_voucher"),
    ]
    (tmp_path / "vouchers.csv").write_text("voucher,member\nV1,M1\n")
    with pytest.raises(omnisync.SpecError, match="voucher_id"):
        omnisync.validate(spec)
    assert omnisync.validate(spec, offline=True).sync("vouchers").source == "csv"


def test_an_unknown_sync_is_refused_before_anything_runs(
    tmp_path: Path, env: dict[str, str], sandbox: RunningSandbox
) -> None:
    with pytest.raises(omnisync.OmnisyncError, match="no sync named 'nobody'") as refused:
        omnisync.run(write_two_syncs(tmp_path), select=["nobody"])
    assert refused.value.exit_code == 1
    assert not sandbox.records("audience")


def test_plan_previews_without_sending(
    tmp_path: Path, env: dict[str, str], sandbox: RunningSandbox
) -> None:
    (preview,) = omnisync.plan(write_two_syncs(tmp_path), select=["members"])
    assert (preview.send, preview.rejected) == (2, 1)
    assert "email" in preview.text
    assert not sandbox.records("audience")
