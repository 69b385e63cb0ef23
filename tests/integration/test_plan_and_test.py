"""`omnisync plan` shows what rows become; `omnisync test` holds a mapping to its fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import ROOT, RunningSandbox, invoke_cli

CONFIGS = ROOT / "configs"


def test_plan_shows_rows_records_and_verdicts_and_sends_nothing(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """Every row of the example export: mapped record, or why it would be filtered or rejected."""
    result = invoke_cli(
        "plan", str(CONFIGS / "members.yaml"), "--rows", "7", "--reveal-pii"
    )  # masked by default: tests/integration/test_pii.py

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "data/members_export.csv:2  send" in out
    assert '"phone": "+886912345678"' in out
    assert '"name": "王小明"' in out
    assert "data/members_export.csv:6  REJECTED phone: phone: cannot parse 'not a phone'" in out
    assert "data/members_export.csv:7  filtered (filter)" in out
    assert "data/members_export.csv:8  filtered (duplicate)" in out
    assert "members: 7 rows: would send 4, filter 2, reject 1" in out
    assert sandbox.stats()["requests"] == {}


def _copy_members_spec(tmp_path: Path) -> Path:
    shutil.copytree(CONFIGS / "data", tmp_path / "data")
    spec = tmp_path / "members.yaml"
    shutil.copy(CONFIGS / "members.yaml", spec)
    return spec


def test_mapping_tests_pass_and_fail_with_a_diff(tmp_path: Path) -> None:
    """Inline cases and a sibling <spec>.tests.yaml; a wrong expectation fails with a diff, exit 4."""
    spec = _copy_members_spec(tmp_path)
    (tmp_path / "members.tests.yaml").write_text(
        "members:\n"
        "  - name: gender F is female\n"
        "    row: {member_id: M9, gender: F, status: active}\n"
        "    expect: {member_sn: M9, sex: male}\n",
        encoding="utf-8",
    )

    result = invoke_cli("test", str(spec))

    assert result.returncode == 4
    assert "PASS  members: a Taiwanese member with every field" in result.stdout
    assert "FAIL  members: gender F is female" in result.stdout
    assert '-  "sex": "male"' in result.stdout
    assert '+  "sex": "female"' in result.stdout
    assert "3 passed, 1 failed" in result.stdout


def test_a_spec_without_mapping_tests_passes_with_a_note() -> None:
    """A new spec (the docs', `init`'s before it wrote one) has no tests yet: CI stays green."""
    spec = CONFIGS / "quickstart.yaml"

    result = invoke_cli("test", str(spec))

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "0 passed, 0 failed\n"
    assert f"{spec}: no mapping tests: nothing was checked" in result.stderr
    assert "--require-tests" in result.stderr


def test_require_tests_makes_a_spec_without_tests_fail(tmp_path: Path) -> None:
    tested = _copy_members_spec(tmp_path)
    untested = CONFIGS / "quickstart.yaml"

    result = invoke_cli("test", "--require-tests", str(tested), str(untested))

    assert result.returncode == 4
    assert f"{untested}: no mapping tests found (--require-tests)" in result.stderr
    assert f"{tested}: no mapping tests" not in result.stderr
    assert "passed, 0 failed, 1 spec without tests" in result.stdout
