"""Shared fixtures: a sandbox on 127.0.0.1 in a background thread, and service availability."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import CliRunner

from connectors.omnisegment.sandbox.server import Sandbox, SandboxServer

ROOT = Path(__file__).resolve().parent.parent
TEST_TID = "OA-test"
TEST_API_KEY = "test-key-0d3f8a6e-91b2-4c55-a7e1-5f0c2b9d4e77"
NO_FAULTS: dict[str, object] = {
    "hang_after": None,
    "answer_status": None,
    "html_ratio": 0.0,
    "false_ratio": 0.0,
    "lost_ack_ratio": 0.0,
    "truncated_ratio": 0.0,
    "answer_delay": 0.0,
}


@dataclass
class RunningSandbox:
    url: str
    sandbox: Sandbox
    loop: asyncio.AbstractEventLoop

    def call(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Run fn on the sandbox's loop (its state is not shared across threads otherwise)."""
        done: asyncio.Future[object] = asyncio.run_coroutine_threadsafe(
            _call(fn, args, kwargs), self.loop
        )
        return done.result(timeout=10)

    def records(self, endpoint: str) -> dict[str, object]:
        return self.call(lambda: dict(self.sandbox.state.records.get(endpoint, {})))

    def stats(self) -> dict[str, object]:
        return self.call(self.sandbox.state.stats)

    def counts(self, endpoint: str) -> dict[str, int]:
        """Events only: arrivals per key, through the control API (GET /_sandbox/counts/...)."""
        import json
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/_sandbox/counts/{endpoint}", timeout=10) as got:
            found: dict[str, int] = json.loads(got.read())
        return found

    def configure(self, **changes: object) -> None:
        self.call(self.sandbox.configure, **changes)

    def reset(self) -> None:
        self.call(self.sandbox.reset)


async def _call(fn, args, kwargs):  # type: ignore[no-untyped-def]
    return fn(*args, **kwargs)


class FakeClock:
    """engine.clock.Clock on virtual time: sleep() moves `time` on at once and keeps every wait
    in `sleeps`, so a five-minute retry costs nothing. It still yields to the event loop, as a
    real sleep does, so the other tasks run while one waits."""

    def __init__(self) -> None:
        self.time = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds
        await asyncio.sleep(0)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3-compatible server on a free port of 127.0.0.1, for as long as the block runs."""
    with stoppable_moto_server() as (url, _):
        yield url


@contextlib.contextmanager
def stoppable_moto_server() -> Iterator[tuple[str, Callable[[], None]]]:
    """moto_server(), and a stop() that cuts it off mid-test: S3 becomes unreachable."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", server.stop
    finally:
        server.stop()  # a second stop() does nothing


def moto_client(url: str, key_id: str, secret: str) -> Any:
    """A boto3 S3 client for the moto server at `url`, with the test's own credentials."""
    import boto3

    return boto3.session.Session().client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


@contextlib.contextmanager
def running_sandbox(tid: str, api_key: str) -> Iterator[RunningSandbox]:
    """A sandbox (one account: `tid`) on 127.0.0.1 in a thread of its own, for the block."""
    loop = asyncio.new_event_loop()
    server = SandboxServer(tid, api_key)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    url = asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
    try:
        yield RunningSandbox(url, server.sandbox, loop)
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


@pytest.fixture(scope="session")
def _sandbox_thread() -> Iterator[RunningSandbox]:
    with running_sandbox(TEST_TID, TEST_API_KEY) as running:
        yield running


@pytest.fixture
def sandbox(_sandbox_thread: RunningSandbox) -> RunningSandbox:
    """A sandbox on 127.0.0.1 (tid OA-test), emptied and unthrottled for each test."""
    _sandbox_thread.reset()
    _sandbox_thread.configure(
        rate_limit=None, fail_ratio=0.0, reset_ratio=0.0, seed=0, reject_keys=None, **NO_FAULTS
    )
    return _sandbox_thread


@pytest.fixture
def sandbox_env(sandbox: RunningSandbox) -> dict[str, str]:
    """Environment for a spec that reads ${SANDBOX_URL}, ${OMNISEGMENT_TID}, ${OMNISEGMENT_API_KEY}."""
    return {
        **os.environ,
        "SANDBOX_URL": sandbox.url,
        "OMNISEGMENT_TID": TEST_TID,
        "OMNISEGMENT_API_KEY": TEST_API_KEY,
    }


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`omnisync ARGS` as a user runs it: a subprocess, output captured."""
    return subprocess.run(
        [sys.executable, "-c", "from engine.cli import main; main()", *args],
        env=dict(env or os.environ),
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def invoke_cli(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`omnisync ARGS` in this process through click's runner: run_cli's result, without a new
    interpreter. For commands whose process (signals, plugins' commands, exit) is not the point."""
    from engine.cli import cli

    overlay: dict[str, str | None] = {}
    if env is not None:  # like run_cli, `env` is the whole environment
        overlay = {**dict.fromkeys(os.environ), **env}
    logging_config = structlog.get_config()  # the command points structlog at the runner's stderr
    try:
        with contextlib.chdir(cwd or ROOT):
            result = CliRunner().invoke(cli, args, env=overlay)
    finally:
        structlog.configure(**logging_config)
    return subprocess.CompletedProcess(
        ["omnisync", *args], result.exit_code, result.stdout, result.stderr
    )


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip when the server is absent, unless OMNISYNC_REQUIRE_SERVICES=1 (CI), where it fails."""
    if _answers(host, port):
        return
    message = f"{name} does not answer on {host}:{port}"
    if os.environ.get("OMNISYNC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and OMNISYNC_REQUIRE_SERVICES=1")
    pytest.skip(message)
