"""The acceptance test of docs/ci.md: the GitHub Actions workflow kept in docs/examples/ played step
by step in a fresh directory, with only the environment CI gives: a pull-request job without
secrets (validate with annotations, mapping tests), then the scheduled job twice (validate with
its secrets, run with state in PostgreSQL; the second run sends nothing), the step summary and the
artifacts it uploads."""

from __future__ import annotations

import glob
import json
import os
import shlex
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.plugins import load_registry
from tests.conftest import ROOT, TEST_API_KEY, TEST_TID, RunningSandbox, require_service, run_cli

WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"

SPEC = """\
# yaml-language-server: $schema=../schema/omnisync.schema.json
version: 1
omnisegment:
  base_url: "${{SANDBOX_URL}}"            # stands for the production host in this test
  tid: "${{OMNISEGMENT_TID}}"
  api_key: "${{OMNISEGMENT_API_KEY}}"
state: {state}
max_reject_ratio: 0.5
syncs:
  - name: members
    source: {{csv: {{path: ../exports/members.csv}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    mapping:
      member_sn: id
      email: {{from: email, transforms: [trim, lower]}}
      sex: sex
    tests:
      - name: email is cleaned
        row: {{id: M1, email: " A@Example.COM ", sex: male, updated_at: "1"}}
        expect: {{member_sn: M1, email: a@example.com, sex: male}}
"""

ROWS = [
    "id,email,sex,updated_at",
    "M1,a@example.com,male,2024-01-01T00:00:00",
    "M2,b@example.com,female,2024-01-02T00:00:00",
    "M3,c@example.com,unknown,2024-01-03T00:00:00",
]


def _steps(job: str) -> list[list[str]]:
    """The workflow's `omnisync ...` commands of one job, in order."""
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = workflow["jobs"][job]["steps"]
    return [shlex.split(s["run"]) for s in steps if str(s.get("run", "")).startswith("omnisync ")]


def _play(command: list[str], env: dict[str, str], cwd: Path) -> Any:
    """One step as the runner's shell runs it: globs expanded in the job's directory."""
    args: list[str] = []
    for word in command[1:]:
        found = sorted(glob.glob(word, root_dir=cwd)) if "*" in word else []
        args += found or [word]
    return run_cli(*args, env=env, cwd=cwd)


def _ci_env(tmp_path: Path, **more: str) -> dict[str, str]:
    """What a runner gives a job: no developer variables, CI flags, a step summary file."""
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    summary = tmp_path / "runner" / "step_summary.md"
    summary.parent.mkdir(exist_ok=True)
    summary.touch()
    return {
        **env,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        **more,
    }


def _state_block(backend: str, tmp_path: Path) -> tuple[str, dict[str, str]]:
    if backend == "postgres":
        require_service("PostgreSQL", "127.0.0.1", 5432)
        if "postgres" not in load_registry().state:
            pytest.skip("waits for the PostgreSQL state backend (issue #12), not installed")
        # the sync's state key holds the spec's path: this test's rows are its own
        url = "postgresql://postgres@127.0.0.1:5432/test"
        return '{backend: postgres, url: "${OMNISYNC_STATE_URL}"}', {"OMNISYNC_STATE_URL": url}
    # outside the checkout, as a store that outlives the runner would be (an absolute path: a
    # relative one may not climb out of the spec's directory)
    return f"{{backend: sqlite, path: {tmp_path / 'state' / 'omnisync.db'}}}", {}


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_the_documented_workflow_plays_in_order(
    tmp_path: Path, sandbox: RunningSandbox, backend: str
) -> None:
    block, state_env = _state_block(backend, tmp_path)
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    (repo / "exports").mkdir()
    (repo / "exports" / "members.csv").write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    # the state key is the spec's file name: unique, for a database other tests share
    name = f"specs/members-{uuid.uuid4().hex[:8]}.yaml"
    (repo / name).write_text(SPEC.format(state=block), encoding="utf-8")

    # pull request: no secret at all
    pr_env = _ci_env(tmp_path)
    validate, mapping_tests = _steps("check")
    checked = _play(validate, pr_env, repo)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"::notice file={name},line=4,col=13,title=omnisync validate::" in (checked.stdout)
    assert "::error" not in checked.stdout
    assert f"{name}: ok (1 sync)" in checked.stdout
    tested = _play(mapping_tests, pr_env, repo)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed, 0 failed" in tested.stdout

    # the schedule: secrets from the store, state outside the runner
    secrets = {
        "SANDBOX_URL": sandbox.url,
        "OMNISEGMENT_TID": TEST_TID,
        "OMNISEGMENT_API_KEY": TEST_API_KEY,
        **state_env,
    }
    nightly = _ci_env(tmp_path, **secrets)
    preflight, run = _steps("sync")
    assert _play(preflight, nightly, repo).returncode == 0
    first = _play(run, nightly, repo)
    assert first.returncode == 0, first.stderr
    report = json.loads((repo / "out" / "report.json").read_text(encoding="utf-8"))
    (sync,) = report["syncs"]
    assert (sync["rows_read"], sync["delivered"], sync["rejected"]) == (3, 2, 1)
    assert sync["unchanged"] == 0
    assert set(sandbox.records("audience")) == {"M1", "M2"}
    rejects = sorted(glob.glob("specs/.omnisync/rejects-*.jsonl", root_dir=repo))
    assert rejects == ["specs/.omnisync/rejects-members.jsonl"]  # the artifact's second path
    assert '"M3"' in (repo / rejects[0]).read_text(encoding="utf-8")

    shutil.rmtree(repo / "out")  # a new runner: no file of the first run in the checkout ...
    shutil.rmtree(repo / "specs" / ".omnisync")
    second = _play(run, nightly, repo)
    assert second.returncode == 0, second.stderr
    (again,) = json.loads((repo / "out" / "report.json").read_text(encoding="utf-8"))["syncs"]
    # ... but the state store remembers what the API acknowledged: nothing is sent again
    assert (again["rows_read"], again["delivered"], again["unchanged"]) == (3, 0, 2)
    assert again["requests"] == 0

    summary = Path(nightly["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.count("## omnisync run: succeeded") == 2
    assert f"| {name} | members | 3 | 2 |" in summary
    assert f"| {name} | members | 3 | 0 | 2 | 0 | 1 |" in summary
    for text in (checked.stdout, first.stdout, first.stderr, summary):
        assert TEST_API_KEY not in text


def test_the_workflow_keeps_runs_apart_and_uploads_even_a_failed_run() -> None:
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    sync = workflow["jobs"]["sync"]
    upload = next(s for s in sync["steps"] if str(s.get("uses", "")).startswith("actions/upload"))

    assert sync["concurrency"] == {"group": "omnisync-sync", "cancel-in-progress": False}
    assert upload["if"] == "always()"
    assert "out/report.json" in upload["with"]["path"]
    assert set(workflow[True]) == {"pull_request", "schedule", "workflow_dispatch"}  # YAML 1.1 `on`
    assert all("secrets." in v for v in sync["env"].values())
    assert "env" not in workflow["jobs"]["check"]
