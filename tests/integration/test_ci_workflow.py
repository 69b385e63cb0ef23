"""The acceptance test of docs/ci.md: on a new repository of specs, the workflow kept in
docs/examples/ played job by job (tests/integration/workflow_player.py) with only what a runner
gives: the pull-request job without secrets passes (validate with annotations, mapping tests),
and the scheduled job, twice, with its secrets, installs omnisync through the action, runs the
specs against the sandbox (standing for OmniSegment) with state outside the runner, and uploads
the report and the reject files. The second night sends nothing."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from engine.plugins import load_registry
from tests.conftest import ROOT, TEST_API_KEY, TEST_TID, RunningSandbox, require_service
from tests.integration.workflow_player import JobResult, Player, collect_upload

WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"

SPEC = """\
# yaml-language-server: $schema=../schema/omnisync.schema.json
version: 1
omnisegment:
  base_url: {url}                       # the sandbox stands for the production host
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
        row: {{id: M1, email: " A@Example.COM ", sex: male}}
        expect: {{member_sn: M1, email: a@example.com, sex: male}}
"""

ROWS = [
    "id,email,sex",
    "M1,a@example.com,male",
    "M2,b@example.com,female",
    "M3,c@example.com,unknown",  # rejected: sex is male or female
]


def _postgres_state() -> tuple[str, dict[str, str]]:
    """The state store docs/ci.md sets up: PostgreSQL, outside the runner."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    if "postgres" not in load_registry().state:
        pytest.skip("the PostgreSQL state backend is not installed")
    url = "postgresql://postgres@127.0.0.1:5432/test"
    return '{backend: postgres, url: "${OMNISYNC_STATE_URL}"}', {"OMNISYNC_STATE_URL": url}


def _new_repository(tmp_path: Path, sandbox: RunningSandbox, state: str) -> tuple[Path, str]:
    """What docs/ci.md says to set up: the workflow in .github/workflows/, the specs in specs/."""
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(WORKFLOW, repo / ".github" / "workflows" / "omnisync.yml")
    (repo / "specs").mkdir()
    (repo / "exports").mkdir()
    (repo / "exports" / "members.csv").write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    # the state key holds the spec's file name: unique, for a database other tests share
    name = f"specs/members-{uuid.uuid4().hex[:8]}.yaml"
    (repo / name).write_text(SPEC.format(url=sandbox.url, state=state), encoding="utf-8")
    return repo, name


def _night(repo: Path, runner: Path, secrets: dict[str, str]) -> JobResult:
    workflow = repo / ".github" / "workflows" / "omnisync.yml"
    night = Player(workflow, repo, runner, "schedule")
    assert night.play("check", secrets).steps == []  # the pull-request job does not run
    return night.play("sync", secrets)


def test_a_new_repository_passes_the_pull_request_job_and_runs_nightly(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    state, state_secrets = _postgres_state()
    repo, name = _new_repository(tmp_path, sandbox, state)
    workflow = repo / ".github" / "workflows" / "omnisync.yml"

    # a pull request: no secret at all
    pull_request = Player(workflow, repo, tmp_path / "runner-pr", "pull_request")
    checked = pull_request.play("check", secrets={})
    assert checked.succeeded, checked.log()
    (validate,) = (s for s in checked.steps if s.name.endswith(": omnisync validate"))
    (tests,) = (s for s in checked.steps if s.name.endswith(": omnisync test"))
    assert f"::notice file={name},line=5,col=8,title=omnisync validate::" in validate.stdout
    assert "::error" not in validate.stdout
    assert f"{name}: ok (1 sync)" in validate.stdout
    assert "PASS  members: email is cleaned" in tests.stdout
    assert "1 passed, 0 failed" in tests.stdout
    assert pull_request.play("sync", secrets={}).steps == []

    # the schedule: the secrets from the repository's settings
    secrets = {"OMNISEGMENT_TID": TEST_TID, "OMNISEGMENT_API_KEY": TEST_API_KEY, **state_secrets}
    first = _night(repo, tmp_path / "runner-night-1", secrets)
    assert first.succeeded, first.log()
    run = first.outputs["omnisync"]
    assert run["exit-code"] == "0"
    assert (run["rows-read"], run["delivered"], run["rejected"]) == ("3", "2", "1")
    assert run["report"] == "out/report.json"
    assert run["reject-files"] == "specs/.omnisync/rejects-members.jsonl"
    assert set(sandbox.records("audience")) == {"M1", "M2"}
    (artifact,) = first.artifacts
    assert artifact.name == "omnisync-1234"
    history = f"out/history-{Path(name).stem}.html"
    assert artifact.files == [
        history,
        "out/report.json",
        "out/run.html",
        "specs/.omnisync/rejects-members.jsonl",
    ]
    assert '"M3"' in (repo / artifact.files[3]).read_text(encoding="utf-8")
    assert "<figure id='records'>" in (repo / "out" / "run.html").read_text(encoding="utf-8")
    assert "<figure id='exit-codes'>" in (repo / history).read_text(encoding="utf-8")

    shutil.rmtree(repo / "out")  # a new runner: no file of the first night in the checkout ...
    shutil.rmtree(repo / "specs" / ".omnisync")
    second = _night(repo, tmp_path / "runner-night-2", secrets)
    assert second.succeeded, second.log()
    # ... but the state store remembers what the API acknowledged: nothing is sent again
    (again,) = json.loads((repo / "out" / "report.json").read_text(encoding="utf-8"))["syncs"]
    assert (again["rows_read"], again["delivered"], again["unchanged"]) == (3, 0, 2)
    assert again["requests"] == 0
    assert second.outputs["omnisync"]["unchanged"] == "2"

    summary = (tmp_path / "runner-night-1" / "step_summary.md").read_text(encoding="utf-8")
    assert "## omnisync run: succeeded" in summary
    assert f"| {name} | members | 3 | 2 |" in summary
    for job in (checked, first, second):
        assert TEST_API_KEY not in job.log()


def test_a_failed_night_still_uploads_its_report(tmp_path: Path, sandbox: RunningSandbox) -> None:
    """Every row rejected: the run exits 3, the step fails, the upload step runs all the same."""
    repo, name = _new_repository(tmp_path, sandbox, "{backend: sqlite}")
    (repo / "exports" / "members.csv").write_text("id,email,sex\nM9,x@example.com,robot\n", "utf-8")
    secrets = {"OMNISEGMENT_TID": TEST_TID, "OMNISEGMENT_API_KEY": TEST_API_KEY}

    night = _night(repo, tmp_path / "runner", secrets)

    assert not night.succeeded
    assert night.outputs["omnisync"]["exit-code"] == "3"
    assert night.steps[-1].name == "Keep the report and the rejected rows"
    assert not night.steps[-1].skipped
    (artifact,) = night.artifacts
    assert artifact.files == [
        f"out/history-{Path(name).stem}.html",  # the failed run is in the history page too
        "out/report.json",
        "out/run.html",
        "specs/.omnisync/rejects-members.jsonl",
    ]


def test_upload_artifact_leaves_hidden_folders_out_unless_told(tmp_path: Path) -> None:
    """The rule the player applies, as @actions/glob does since upload-artifact v4.4.0."""
    (tmp_path / "specs" / ".omnisync").mkdir(parents=True)
    (tmp_path / "specs" / ".omnisync" / "rejects-a.jsonl").write_text("{}\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.json").write_text("{}", encoding="utf-8")
    path = "out/report.json\nspecs/.omnisync/rejects-*.jsonl\n"

    hidden_left_out = collect_upload(tmp_path, {"path": path})
    told = collect_upload(tmp_path, {"path": path, "include-hidden-files": "true"})
    folder = collect_upload(tmp_path, {"path": "specs/"})
    named = collect_upload(tmp_path, {"path": "specs/.omnisync/rejects-a.jsonl"})

    assert hidden_left_out.files == ["out/report.json"]
    assert told.files == ["out/report.json", "specs/.omnisync/rejects-a.jsonl"]
    assert folder.files == []  # a hidden folder met while walking is pruned
    assert named.files == ["specs/.omnisync/rejects-a.jsonl"]  # the search root is the file


ACTION_STEPS = """\
on: workflow_dispatch
jobs:
  try:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-python@v6
        with: {python-version: "3.12"}
      - id: plan
        uses: ./
        with: {command: plan, specs: "specs/*.yaml", args: "--rows 2 --offline"}
      - id: typo
        if: always()
        uses: ./
        with: {command: deploy}
"""


def test_the_action_previews_each_spec_and_refuses_an_unknown_command(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    repo, _ = _new_repository(tmp_path, sandbox, "{backend: sqlite}")
    (repo / "try.yml").write_text(ACTION_STEPS, encoding="utf-8")

    job = Player(repo / "try.yml", repo, tmp_path / "runner", "workflow_dispatch").play("try", {})

    install, plan, _, typo = job.steps[1:]
    assert install.exit_code == 0, install.stderr
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "members: 2 rows: would send 2, filter 0, reject 0" in plan.stdout
    assert job.outputs["plan"]["exit-code"] == "0"
    assert typo.exit_code == 2
    assert "::error title=omnisync::command: 'deploy' is not one of run, validate, test, plan" in (
        typo.stdout
    )
    assert job.outputs["typo"]["exit-code"] == "2"
