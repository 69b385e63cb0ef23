"""Every kind of failure has its own exit code, so a script or CI job can tell them apart."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

import engine.cli.info
from engine.cli import cli
from engine.errors import ExitCode, OmnisyncError, SpecError
from tests.conftest import ROOT, invoke_cli


def _schema_raises(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """`omnisync schema` stands in for any command: they all share the group's error handling."""

    def fail(*_: object) -> None:
        raise error

    monkeypatch.setattr(engine.cli.info, "editor_schema", fail)


def test_an_unexpected_exception_is_an_internal_error_exit_70(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _schema_raises(monkeypatch, RuntimeError("a bug"))
    monkeypatch.delenv("OMNISYNC_TRACEBACK", raising=False)

    result = invoke_cli("schema")

    assert result.returncode == ExitCode.INTERNAL_ERROR == 70
    assert result.stderr == (
        "internal error: RuntimeError: a bug (set OMNISYNC_TRACEBACK=1 for details)\n"
    )


def test_omnisync_traceback_lets_the_exception_through(monkeypatch: pytest.MonkeyPatch) -> None:
    _schema_raises(monkeypatch, RuntimeError("a bug"))

    result = CliRunner().invoke(cli, ["schema"], env={"OMNISYNC_TRACEBACK": "1"})

    assert isinstance(result.exception, RuntimeError)


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (SpecError(["a.yaml:1:1 syncs: required"]), 2, "a.yaml:1:1 syncs: required\n"),
        (OmnisyncError("API down"), 1, "error: API down\n"),
        (KeyboardInterrupt(), 130, "interrupted\n"),
    ],
)
def test_known_errors_keep_their_codes(
    monkeypatch: pytest.MonkeyPatch, error: BaseException, code: int, message: str
) -> None:
    _schema_raises(monkeypatch, error)

    result = invoke_cli("schema")

    assert (result.returncode, result.stderr) == (code, message)


def test_a_usage_error_exits_2_like_an_invalid_spec() -> None:
    result = invoke_cli("run")

    assert result.returncode == ExitCode.SPEC_INVALID
    assert "Missing argument 'FILES...'" in result.stderr


def test_failed_mapping_tests_exit_4_in_a_real_process() -> None:
    """The code reaches the shell, not only click's runner (the other cases: test_plan_and_test.py)."""
    spec = ROOT / "configs" / "quickstart.yaml"  # has no mapping tests: a failure when required
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "test", "--require-tests", str(spec)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == ExitCode.MAPPING_TESTS_FAILED == 4, result.stderr
    assert "no mapping tests found" in result.stderr


def test_the_readme_documents_every_exit_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = re.search(r"^Exit codes:\n\n(.*?)\n\n", readme, flags=re.S | re.M)
    assert documented is not None

    first_cells = re.findall(r"^\| ([^|]+) \|", documented.group(1), flags=re.M)
    codes = {int(code) for cell in first_cells for code in re.findall(r"`(\d+)`", cell)}

    assert codes == {int(code) for code in ExitCode}


@pytest.mark.parametrize("limit", [20, 45, 60, 74, 120])
def test_help_lists_each_built_in_command_by_its_own_first_sentence(limit: int) -> None:
    """`--help` lists unloaded commands from engine.cli.main.COMMANDS: each summary must read
    exactly as the command's own help would, whatever the terminal's width."""
    import importlib

    from engine.cli.main import COMMANDS, summary_of

    for name, (target, _summary) in COMMANDS.items():
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert summary_of(name).get_short_help_str(limit) == command.get_short_help_str(limit)
