"""Retry policies against the sandbox; the five-minute vendor policy on a virtual clock."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import aiohttp

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.endpoint import OmniSegmentEndpoint
from engine.clock import SystemClock
from engine.contracts import Verdict
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import RequestStats, Sender
from engine.errors import ExitCode
from engine.run.runner import RunOptions, run_spec
from engine.specfile import load_spec
from tests.conftest import TEST_API_KEY, TEST_TID, FakeClock, RunningSandbox
from tests.sandbox_specs import members, write_rows, write_spec


async def test_502_503_504_follow_the_vendor_policy_five_retries_five_minutes_apart(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """An API answering only 5xx is retried every 300 s five times, then the sync stops."""
    write_rows(tmp_path / "members.csv", members(10))
    sandbox.configure(fail_ratio=1.0)
    spec = load_spec(write_spec(tmp_path, delivery="{concurrency: 1}"), environ=sandbox_env)
    clock = FakeClock()

    result = await run_spec(spec, RunOptions(), clock=clock)

    assert result.exit_code is ExitCode.DELIVERY_FAILED
    assert result.error is not None
    assert "gave up after 6 attempts" in result.error
    assert sum(sandbox.stats()["requests"].values()) == 6
    assert [s for s in clock.sleeps if s >= 1] == [300.0] * 5
    assert result.syncs[0].failed == 10


def audience(sandbox: RunningSandbox) -> OmniSegmentEndpoint:
    definition = CATALOGUE["audience"]
    assert definition.batch is not None
    return OmniSegmentEndpoint(
        definition, definition.batch, sandbox.url, TEST_TID, TEST_API_KEY, {}
    )


async def test_429_backs_off_honouring_retry_after_and_slows_the_shared_limiter(
    sandbox: RunningSandbox,
) -> None:
    """Past the server's rate every batch still arrives; the limiter, shared by every sync of
    the endpoint, has slowed down."""
    sandbox.configure(rate_limit=5)
    async with aiohttp.ClientSession() as session:
        sender = Sender(session, SystemClock(), random.Random(3))
        endpoint = audience(sandbox)
        limiter = sender.limiter(endpoint, 50)
        stats = RequestStats()
        answers = await asyncio.gather(
            *(
                sender.send(endpoint, [{"member_sn": f"M{i}"}], limiter, RetryPolicy(), stats)
                for i in range(12)
            )
        )
        assert sender.limiter(audience(sandbox), None) is limiter
    assert {answer.verdict for answer in answers} == {Verdict.ACCEPTED}
    assert stats.by_status.get("429", 0) > 0
    assert stats.retries == stats.by_status["429"]
    assert limiter.rate < 50
    assert len(sandbox.records("audience")) == 12


def test_200_without_success_true_is_not_a_success(sandbox: RunningSandbox) -> None:
    """A 200 whose body says SUCCESS false is judged a rejection, never a delivery."""
    endpoint = audience(sandbox)
    answer = endpoint.judge(200, b'{"SUCCESS": false, "ERR_MSG": "quota"}', {})
    assert answer.verdict is Verdict.REJECTED
    assert answer.message == "quota"
