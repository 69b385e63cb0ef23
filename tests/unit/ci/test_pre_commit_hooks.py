"""The pre-commit hooks offered in .pre-commit-hooks.yaml pick spec files only: matched against
every YAML file by default they failed on the workflow file docs/ci.md tells you to add."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

HOOKS: list[dict[str, Any]] = yaml.safe_load(
    (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
)
SPECS = ["specs/members.yaml", "specs/nightly/purchases.yml", "etl/specs/a.yaml", "omnisync/b.yaml"]
NOT_SPECS = [
    ".github/workflows/omnisync.yml",  # the workflow docs/ci.md adds
    ".pre-commit-config.yaml",
    ".gitlab-ci.yml",
    "docker-compose.yaml",
    "config/app.yaml",
    "specs/members.tests.yaml",  # the mapping tests beside a spec: not a spec
    "specs/members.csv",
    "myspecs/x.yaml",
]


def _selected(hook: dict[str, Any], path: str) -> bool:
    """pre-commit's choice of files for a hook: `files` and `exclude` are searched (re.search),
    `types: [yaml]` keeps files with a .yaml/.yml suffix."""
    if not re.search(hook.get("files", ""), path):
        return False
    if re.search(hook.get("exclude", "^$"), path):
        return False
    return "yaml" not in hook.get("types", []) or path.endswith((".yaml", ".yml"))


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_a_hook_runs_on_specs_and_on_nothing_else(hook: dict[str, Any]) -> None:
    assert [p for p in SPECS if not _selected(hook, p)] == []
    assert [p for p in NOT_SPECS if _selected(hook, p)] == []


def test_both_hooks_choose_the_same_files_and_need_no_secret() -> None:
    assert {h["id"] for h in HOOKS} == {"omnisync-validate", "omnisync-test"}
    assert len({(h["files"], h.get("exclude")) for h in HOOKS}) == 1
    assert all(h["language"] == "python" for h in HOOKS)
    assert all("--require-env" not in h["entry"] for h in HOOKS)
