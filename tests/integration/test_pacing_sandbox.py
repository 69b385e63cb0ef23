"""Pacing against the sandbox's strict window (at arrival): the client stays under it, and a
server slower than the spec says is found without a cascade of 429s."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from engine.delivery.sender import departures
from engine.delivery.window import Ticket
from engine.run.runner import RunOptions, run_spec
from engine.specfile import load_spec
from tests.conftest import FakeClock, RunningSandbox, run_cli
from tests.integration.test_delivery import BATCH_ROUTE
from tests.sandbox_specs import members, write_rows, write_spec


def test_at_the_ceiling_no_second_holds_more_than_the_limit_at_the_server(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """The client in its own process (as in production), the sandbox counting at arrival."""
    write_rows(tmp_path / "members.csv", members(1500))
    sandbox.configure(rate_limit=10)
    spec = write_spec(tmp_path, delivery="{rate_limit: 10/s}")

    result = run_cli("run", str(spec), env=sandbox_env)

    assert result.returncode == 0, result.stderr
    stats = sandbox.stats()
    assert stats["requests"] == {f"{BATCH_ROUTE} 200": 30}
    assert max(stats["busiest_second"].values()) <= 10  # type: ignore[attr-defined]


async def test_a_server_at_2_per_second_against_a_spec_at_10_costs_one_episode(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """The first burst's 429s lower the pace once, to what the server took, not by halvings."""
    write_rows(tmp_path / "members.csv", members(500))
    sandbox.configure(rate_limit=2)
    spec = load_spec(write_spec(tmp_path, delivery="{rate_limit: 10/s}"), environ=sandbox_env)

    result = await run_spec(spec, RunOptions())

    stats = result.syncs[0]
    assert stats.delivered == 500
    throttled = stats.requests.by_status.get("429", 0)
    assert throttled >= 1
    assert throttled <= 4  # the first burst (2 leave at once, then one per 102 ms) and a probe


async def test_a_ticket_counts_when_the_request_really_left(sandbox: RunningSandbox) -> None:
    """The window slot moves from the grant to the moment the headers were written."""
    clock = FakeClock()
    async with aiohttp.ClientSession(trace_configs=[departures(clock)]) as session:
        ticket = Ticket(0.0)
        clock.time = 5.0  # the loop ran other work between the grant and the write
        async with session.post(
            f"{sandbox.url}{BATCH_ROUTE}", data=b"{}", trace_request_ctx=ticket
        ) as response:
            await response.read()
    assert ticket.at == 5.0
