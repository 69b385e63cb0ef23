"""SIGINT/SIGTERM on `omnisync run` as a subprocess: in-flight requests finish, the report is written."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, RunningSandbox
from tests.integration.test_delivery import adds_up
from tests.sandbox_specs import members, write_rows, write_spec

OMNISYNC = (sys.executable, "-c", "from engine.cli import main; main()", "--log-level", "warning")


def start(spec: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*OMNISYNC, "run", str(spec), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_requests(sandbox: RunningSandbox, count: int) -> None:
    for _ in range(600):  # bounded: 60 s at most
        if sum(sandbox.stats()["requests"].values()) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} requests reached the sandbox")


def test_sigint_finishes_in_flight_requests_writes_the_report_and_exits_130(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Ctrl-C stops reading; what was sent is accounted for, what was not is counted unsent."""
    write_rows(tmp_path / "members.csv", members(5000))
    sandbox.configure(rate_limit=10)
    spec = write_spec(tmp_path, delivery="{rate_limit: 10/s}")
    process = start(spec, sandbox_env, "--report", str(tmp_path / "r.json"))

    wait_for_requests(sandbox, 3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    assert "SIGINT: stopping" in err
    sync = json.loads((tmp_path / "r.json").read_text())["syncs"][0]
    assert "interrupted by SIGINT" in sync["stopped"]
    assert adds_up(sync)
    assert 0 < sync["delivered"] < 5000
    assert sync["unsent"] > 0
    assert len(sandbox.records("audience")) == sync["delivered"]  # nothing sent was abandoned
    assert "unsent" in out


def test_a_second_sigterm_exits_at_once_with_143(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """A request the server never answers holds the grace; a second signal does not wait.
    (A back-off no longer holds it: tests/integration/test_stop_promptly.py.)"""
    write_rows(tmp_path / "members.csv", members(200))
    sandbox.configure(hang_after=0)
    spec = write_spec(tmp_path, delivery="{timeout: 600}")
    process = start(spec, sandbox_env, "--report", str(tmp_path / "r.json"), "--grace", "600")

    for _ in range(600):  # bounded: 60 s at most; a held request is never counted as answered
        if sandbox.call(lambda: sandbox.sandbox.arrived) >= 1:
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.stderr is not None
    for line in process.stderr:  # bounded by the process: it ends when its stderr closes
        if "SIGTERM: stopping" in line:
            break
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)

    assert process.returncode == 143
    assert not (tmp_path / "r.json").exists()
