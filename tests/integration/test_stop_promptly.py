"""A stop signal ends a run within its grace, whatever it is doing: waiting out a retry, or
stuck in a slow transform on the event loop's thread."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import aiohttp

from connectors.omnisegment.destination import OmniSegmentDestination
from engine.clock import SystemClock
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import Sender
from engine.outcomes.reject_file import RejectFile
from engine.outcomes.report import SyncStats
from engine.plugins import load_registry
from engine.run import signals
from engine.run.pipeline import SyncPlan, SyncRun
from engine.run.stop import StopRequest
from engine.transforms.base import TransformContext, TransformDef
from engine.transforms.mapping import compile_mapping
from tests.conftest import ROOT, TEST_API_KEY, TEST_TID, RunningSandbox
from tests.integration.delivery import MemorySource
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


def test_sigterm_while_a_20_mb_numeric_cell_is_cast_exits_143_with_the_report(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """`cast: int` of 20 MB of digits held the interpreter for 12 minutes, SIGTERM unheard. The
    cell is now refused by its length; the signal stops the run within the grace, with a report."""
    rows = [(member, str(i), email) for i, (member, _name, email) in enumerate(members(1000))]
    write_rows(tmp_path / "members.csv", [(rows[0][0], "7" * 20_000_000, rows[0][2]), *rows[1:]])
    spec = tmp_path / "sync.yaml"
    spec.write_text(
        write_spec(tmp_path, delivery="{rate_limit: 1/s}")
        .read_text()
        .replace("name: name", "name: {from: name, transforms: [{cast: int}, {cast: str}]}"),
        encoding="utf-8",
    )
    report = tmp_path / "r.json"
    command = ["-c", "from engine.cli import main; main()", "run", str(spec), "--grace", "1"]
    process = subprocess.Popen(
        [sys.executable, *command, "--report", str(report)],
        env=sandbox_env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # the sync has started once its first log line is out
        if "sync_started" in line:
            break
    time.sleep(2)  # the cell is read (~0.2 s) and cast: refused by now, or still being converted
    process.send_signal(signal.SIGTERM)
    err = _finish(process, timeout=60)  # a hang guard: without the bound, 12 minutes

    assert process.returncode == 143, err
    sync = json.loads(report.read_text())["syncs"][0]
    assert "interrupted by SIGTERM" in sync["stopped"]
    assert adds_up(sync)


def test_a_signal_during_a_transform_stops_the_reader_at_the_next_row(tmp_path: Path) -> None:
    """Rows that need nothing from the event loop (a dry run; a source with rows at hand) gave it
    no turn to hear the stop: the flag is set by the signal handler itself, between two bytecodes
    of the transform, and the reader tests it before each row."""
    stats = asyncio.run(_dry_run_signalled_at(row=100, rows=5000, directory=tmp_path))

    assert stats.read == 100
    assert stats.stopped == "interrupted by SIGTERM"


def _signal_at(row: int) -> TransformDef:
    """A transform that sends this process SIGTERM while it maps row `row` (counted from 1)."""
    seen = [0]

    def build(_args: Any, _ctx: TransformContext) -> Any:
        def transform(value: Any) -> Any:
            seen[0] += 1
            if seen[0] == row:
                os.kill(os.getpid(), signal.SIGTERM)
            return value

        return transform

    return TransformDef("signal_at", {}, build, "Signals.", "signal_at", takes_args=False)


async def _dry_run_signalled_at(row: int, rows: int, directory: Path) -> SyncStats:
    transforms = {**load_registry().transforms, "signal_at": _signal_at(row)}
    spec = {"member_sn": {"from": "id", "transforms": ["signal_at"]}}
    mapping = compile_mapping(spec, transforms, TransformContext("+08:00"))
    connection = {"base_url": "http://127.0.0.1:9", "tid": TEST_TID, "api_key": TEST_API_KEY}
    stop = StopRequest(grace=600)  # the watchdog must not be what ends this test
    loop = asyncio.get_running_loop()
    async with (
        OmniSegmentDestination(connection) as destination,
        aiohttp.ClientSession() as session,
    ):
        endpoint = destination.endpoint({"endpoint": "audience"})
        sender = Sender(session, SystemClock(), random.Random(0))
        plan = SyncPlan(
            name="test",
            source=MemorySource([{"id": f"M{i}"} for i in range(rows)]),
            mapping=mapping,
            endpoint=endpoint,
            batch_size=endpoint.batch_size,
            concurrency=2,
            limiter=sender.limiter(endpoint, 1000.0),
            policy=RetryPolicy.from_spec(None),
            rejects=RejectFile(directory / "r.jsonl", "test", endpoint.personal_fields, False),
            dry_run=True,
            stop=stop,
        )
        restore = signals.install(loop, stop)
        try:
            return await SyncRun(plan, sender).run()
        finally:
            restore()
            plan.rejects.close()
