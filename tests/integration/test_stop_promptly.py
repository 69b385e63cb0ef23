"""A stop signal ends a run within its grace, whatever it is doing: waiting out a retry, or
stuck in a slow transform on the event loop's thread."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT, TEST_API_KEY, RunningSandbox
from tests.integration.test_delivery import adds_up
from tests.integration.test_fault_suite import files_text, leaks
from tests.integration.test_signals import start, wait_for_requests
from tests.sandbox_specs import members, write_rows, write_spec

SLOW_TRANSFORM = '''
"""A transform that takes a minute a value: a plugin gone wrong."""
import time

from engine.transforms.base import TransformDef


def _build(_args, _ctx):
    def slow(value):
        time.sleep(60)
        return value

    return slow


TRANSFORMS = {
    "slow": TransformDef(
        name="slow", args_schema={"type": "null"}, build=_build, summary="Sleeps.",
        example="slow", takes_args=False,
    )
}
'''


def _finish(process: subprocess.Popen[str], timeout: float) -> str:
    """stderr once the process ends; a process still running after `timeout` is killed."""
    try:
        _out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return err


def test_sigterm_during_a_retry_wait_stops_at_once_with_the_report(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """No request is on the wire during a back-off: the stop does not wait out the grace."""
    write_rows(tmp_path / "members.csv", members(200))
    sandbox.configure(fail_ratio=1.0)
    spec = write_spec(tmp_path, delivery="{retry: {unavailable: {interval: 600, attempts: 5}}}")
    report = tmp_path / "r.json"
    process = start(spec, sandbox_env, "--report", str(report), "--grace", "600")

    wait_for_requests(sandbox, 1)
    process.send_signal(signal.SIGTERM)
    err = _finish(process, timeout=60)  # a hang guard: without the fix it takes 600 s

    assert process.returncode == 143, err
    sync = json.loads(report.read_text())["syncs"][0]
    assert "interrupted by SIGTERM" in sync["stopped"]
    assert adds_up(sync)
    assert sync["delivered"] == 0
    assert sandbox.records("audience") == {}
    assert not leaks([err, files_text(tmp_path)], TEST_API_KEY)


def _slow_plugin(directory: Path) -> Path:
    """A module plus its dist-info on a path: importlib.metadata finds the entry point there."""
    directory.mkdir()
    (directory / "omnisync_slow.py").write_text(textwrap.dedent(SLOW_TRANSFORM), encoding="utf-8")
    info = directory / "omnisync_slow-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: omnisync-slow\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[omnisync.transforms]\nslow = omnisync_slow:TRANSFORMS\n", encoding="utf-8"
    )
    return directory


def test_sigterm_while_a_transform_blocks_the_loop_ends_within_the_grace(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    plugin = _slow_plugin(tmp_path / "plugin")
    write_rows(tmp_path / "members.csv", members(3))
    spec = tmp_path / "sync.yaml"
    spec.write_text(
        write_spec(tmp_path)
        .read_text()
        .replace("name: name", "name: {from: name, transforms: [slow]}"),
        encoding="utf-8",
    )
    env = {**sandbox_env, "PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)])}
    command = ["-c", "from engine.cli import main; main()", "run", str(spec), "--grace", "1"]
    process = subprocess.Popen(
        [sys.executable, *command],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # the sync has started once its first log line is out
        if "sync_started" in line:
            break
    process.send_signal(signal.SIGTERM)
    err = _finish(process, timeout=30)  # a hang guard: without the fix, 3 minutes

    assert process.returncode == 143, err
    assert "SIGTERM: stopping" in err
