"""Prometheus metrics of a run: a textfile-collector file, and a push received by a local HTTP
server standing in for a Pushgateway (the body checked as Prometheus' own parser reads it)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import RunningSandbox, invoke_cli
from tests.sandbox_specs import members, members_spec, write_rows

Received = list[tuple[str, str, bytes]]

SYNC = """\
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    max_reject_ratio: 1
    reject_file: out/rejects.jsonl
    mapping: {member_sn: id, name: name, email: email}
"""


@pytest.fixture
def gateway() -> Iterator[tuple[str, Received]]:
    """An aiohttp server on 127.0.0.1 that records every request, in a thread of its own."""
    received: Received = []

    async def take(request: web.Request) -> web.Response:
        received.append((request.method, request.path, await request.read()))
        return web.Response(status=200)

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", take)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def _samples(text: str) -> dict[tuple[str, str], float]:
    """(metric name, sync label or '') -> value."""
    return {
        (sample.name, sample.labels.get("sync", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_run_writes_and_pushes_its_metrics(
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    gateway: tuple[str, Received],
) -> None:
    url, received = gateway
    write_rows(tmp_path / "members.csv", [*members(4), ("B1", "broken", "not an email")])
    spec = tmp_path / "sync.yaml"
    spec.write_text(members_spec(SYNC), encoding="utf-8")
    prom = tmp_path / "metrics" / "omnisync.prom"

    result = invoke_cli(
        "run", str(spec), "--metrics-file", str(prom), "--pushgateway", url, env=sandbox_env
    )

    assert result.returncode == 0, result.stderr
    ((method, path, body),) = received
    assert (method, path) == ("PUT", "/metrics/job/omnisync")
    for text in (body.decode(), prom.read_text("utf-8")):
        figures = _samples(text)
        assert figures[("omnisync_sync_rows_read", "members")] == 5
        assert figures[("omnisync_sync_records_delivered", "members")] == 4
        assert figures[("omnisync_sync_rows_rejected", "members")] == 1
        assert figures[("omnisync_sync_requests", "members")] == 1
        assert figures[("omnisync_sync_exit_code", "members")] == 0
        assert figures[("omnisync_run_exit_code", "")] == 0
    assert 'spec="' + str(spec) + '"' in body.decode()


def test_a_gateway_that_does_not_answer_is_a_warning(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    write_rows(tmp_path / "members.csv", members(1))
    spec = tmp_path / "sync.yaml"
    spec.write_text(members_spec(SYNC), encoding="utf-8")

    result = invoke_cli("run", str(spec), "--pushgateway", "http://127.0.0.1:9", env=sandbox_env)

    assert result.returncode == 0
    assert "metrics_not_pushed" in result.stderr
