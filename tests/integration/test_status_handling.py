"""Statuses that no retry can fix end the sync at once: 404/405 (a wrong base_url or path) as a
configuration error, 403 as refused credentials, 400 as rejected records; none is retried."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY, RunningSandbox, run_cli
from tests.integration.test_delivery import adds_up
from tests.integration.test_fault_suite import files_text, leaks
from tests.sandbox_specs import members, write_rows, write_spec


def _run(
    spec: Path, tmp_path: Path, env: dict[str, str], *options: str
) -> subprocess.CompletedProcess[str]:
    """`omnisync run` at debug level (one event per request), its report in tmp_path/r.json."""
    return run_cli(
        "--log-level",
        "debug",
        *options,
        "run",
        str(spec),
        "--report",
        str(tmp_path / "r.json"),
        env=env,
    )


def _report(tmp_path: Path) -> dict[str, object]:
    sync: dict[str, object] = json.loads((tmp_path / "r.json").read_text())["syncs"][0]
    return sync


def _requests(sandbox: RunningSandbox) -> int:
    return sum(sandbox.stats()["requests"].values())


def test_a_wrong_base_url_path_stops_at_once_as_a_configuration_error(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    write_rows(tmp_path / "members.csv", members(200))
    spec = write_spec(tmp_path, delivery="{rate_limit: 1000/s, concurrency: 1}")
    env = {**sandbox_env, "SANDBOX_URL": sandbox_env["SANDBOX_URL"] + "/v9"}

    result = _run(spec, tmp_path, env)

    assert result.returncode == 1, result.stderr
    assert "configuration error" in result.stderr
    assert "404" in result.stderr
    assert "base_url" in result.stderr
    sync = _report(tmp_path)
    assert sync["retries"] == 0
    assert sync["requests"] == 1
    assert adds_up(sync)
    assert not leaks([result.stdout, result.stderr, files_text(tmp_path)], TEST_API_KEY)
    assert sync["delivered"] == 0


@pytest.mark.parametrize("status", [404, 405])
def test_404_and_405_are_never_retried(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str], status: int
) -> None:
    write_rows(tmp_path / "members.csv", members(100))
    sandbox.configure(answer_status=status)
    spec = write_spec(tmp_path, delivery="{rate_limit: 1000/s, concurrency: 1}")

    result = _run(spec, tmp_path, sandbox_env, "--log-format", "console")

    assert result.returncode == 1, result.stderr
    assert "configuration error" in result.stderr
    assert f"{status}" in result.stderr
    sync = _report(tmp_path)
    assert (sync["requests"], sync["retries"]) == (1, 0)
    assert adds_up(sync)
    assert not leaks([result.stdout, result.stderr, files_text(tmp_path)], TEST_API_KEY)


@pytest.mark.parametrize("status", [400, 403])
def test_400_and_403_are_never_retried(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str], status: int
) -> None:
    write_rows(tmp_path / "members.csv", members(20))
    sandbox.configure(answer_status=status)
    spec = write_spec(
        tmp_path, delivery="{rate_limit: 1000/s, concurrency: 1}", top="max_reject_ratio: 1"
    )

    result = _run(spec, tmp_path, sandbox_env, "--log-format", "console")

    sync = _report(tmp_path)
    assert sync["retries"] == 0, result.stderr
    assert adds_up(sync)
    assert not leaks([result.stdout, result.stderr, files_text(tmp_path)], TEST_API_KEY)
    assert _requests(sandbox) == sync["requests"]


@pytest.mark.parametrize("attempt", range(3))
def test_a_403_stop_counts_every_request_that_left(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str], attempt: int
) -> None:
    """Four requests leave together and the first 403 stops the sync: the others, cut off before
    their answer was read, are still requests sent (the report said 1 where 2 had left)."""
    write_rows(tmp_path / "members.csv", members(1000))
    spec = write_spec(tmp_path, delivery="{rate_limit: 1000/s, concurrency: 4}")
    env = {**sandbox_env, "OMNISEGMENT_API_KEY": "not-the-key-" + str(attempt)}

    result = _run(spec, tmp_path, env)

    assert result.returncode == 1, result.stderr
    assert "refused the credentials" in result.stderr
    sync = _report(tmp_path)
    by_status: dict[str, int] = sync["requests_by_status"]  # type: ignore[assignment]
    assert sync["requests"] == sum(by_status.values()) == _requests(sandbox), by_status
    assert sync["requests"] > 1  # several were on the wire when the first answer came back
