"""Warnings that save a night: said at the start of the sync, in the log and in the summary."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunningSandbox, invoke_cli
from tests.sandbox_specs import members_spec

SYNC = """\
    incremental: {{cursor: modified}}
    destination: {{endpoint: audience}}
    mapping: {{member_sn: id}}
    delivery: {{rate_limit: {rate}}}
"""

CI_NAMES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "CIRCLECI", "TF_BUILD")


def _setup(tmp_path: Path, extra: str, rate: str) -> Path:
    rows = "\n".join(f"M{i:05d},2024-01-01T00:00:{i % 60:02d}" for i in range(10_050))
    (tmp_path / "members.csv").write_text("id,updated_at\n" + rows + "\n", encoding="utf-8")
    spec = tmp_path / "sync.yaml"
    spec.write_text(members_spec(SYNC.format(rate=rate), top=f"{extra}\n"), encoding="utf-8")
    return spec


def _warnings(stderr: str) -> list[str]:
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [e["message"] for e in events if e["event"] == "check_this"]


def test_the_three_warnings_on_a_ci_runner(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """On a CI runner, a dry run warns of the rate, the missing max_reject_ratio and the local state."""
    spec = _setup(tmp_path, "", "1000/s")
    env = {**{k: v for k, v in sandbox_env.items() if k not in CI_NAMES}, "GITHUB_ACTIONS": "true"}

    summary = tmp_path / "summary.md"
    result = invoke_cli("run", str(spec), "--dry-run", "--summary", str(summary), env=env)

    assert result.returncode == 0, result.stderr
    assert summary.read_text("utf-8").count("\n- members: ") == 3
    rate, rejects, state = _warnings(result.stderr)
    assert rate.startswith("rate_limit 1000/s is above the endpoint's documented ")
    assert rejects.startswith("about 10,0")
    assert "no max_reject_ratio" in rejects
    assert state.startswith("incremental sync on a CI runner (GITHUB_ACTIONS is set)")
    assert "use state: {backend: postgres" in state
    assert result.stdout.count("members: warning: ") == 3


def test_no_warning_when_the_spec_says_what_it_means(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = _setup(tmp_path, "max_reject_ratio: 0.01", "2/s")
    env = {k: v for k, v in sandbox_env.items() if k not in CI_NAMES}

    result = invoke_cli("run", str(spec), "--dry-run", env=env)

    assert result.returncode == 0, result.stderr
    assert _warnings(result.stderr) == []
    assert "warning" not in result.stdout
