"""The example workflow and the action pass the checks GitHub's own tooling would make: actionlint
(expressions, inputs of the action, known action versions) and the vendor's JSON Schemas for
workflows and for action.yml, as check-jsonschema ships them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"
ACTION = ROOT / "action.yml"
BIN = Path(sys.executable).parent


def _tool(name: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is in the test extra: pip install -e '.[test]'"
    return subprocess.run(
        [found, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_actionlint_passes_the_example_workflow() -> None:
    linted = _tool("actionlint", "-no-color", str(WORKFLOW))

    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_actionlint_checks_the_workflow_against_the_action_in_this_repository(
    tmp_path: Path,
) -> None:
    """In a repository holding action.yml, `uses: ./` lets actionlint check every input."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ACTION, tmp_path / "action.yml")
    local = re.sub(r"\S+/omnisync@v1", "./", WORKFLOW.read_text(encoding="utf-8"))
    assert local.count("uses: ./") == 5
    (tmp_path / ".github" / "workflows" / "omnisync.yml").write_text(local, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)

    linted = _tool("actionlint", "-no-color", cwd=tmp_path)
    misspelt = local.replace("args: --require-env", "arguments: --require-env")
    (tmp_path / ".github" / "workflows" / "omnisync.yml").write_text(misspelt, encoding="utf-8")
    caught = _tool("actionlint", "-no-color", cwd=tmp_path)

    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert caught.returncode == 1
    assert 'input "arguments" is not defined in action' in caught.stdout


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-workflows", WORKFLOW), ("vendor.github-actions", ACTION)],
    ids=["workflow", "action"],
)
def test_the_vendor_schema_accepts(schema: str, path: Path) -> None:
    checked = _tool("check-jsonschema", "--builtin-schema", schema, str(path))

    assert checked.returncode == 0, checked.stdout + checked.stderr


def _action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return loaded


def test_the_action_installs_from_its_own_checkout() -> None:
    install, _ = _action()["runs"]["steps"]

    assert install["env"]["OMNISYNC_ACTION_PATH"] == "${{ github.action_path }}"
    assert (
        'pip install --quiet --disable-pip-version-check \\\n    "$OMNISYNC_ACTION_PATH'
        in (install["run"])
    )


def test_the_action_takes_inputs_through_the_environment_only() -> None:
    """An input is never pasted into a script (`${{ inputs.args }}` in `run:` would let a value
    with quotes or $(...) run as shell)."""
    for step in _action()["runs"]["steps"]:
        assert "${{" not in step["run"]


def test_every_output_the_documents_read_is_one_the_action_sets() -> None:
    outputs = set(_action()["outputs"])
    read = set()
    for path in [WORKFLOW, ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        read |= set(re.findall(r"steps\.omnisync\.outputs\.([\w-]+)", path.read_text("utf-8")))
    assert read <= outputs
    assert {"exit-code", "report", "reject-files", "delivered", "rejected"} <= outputs
