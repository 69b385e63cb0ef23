"""Records that failed only because the API stayed unavailable are sent first by the next run:
the low-water mark stays before them and no digest is saved for them."""

from __future__ import annotations

import pytest

from tests.conftest import RunningSandbox
from tests.integration._state_backends import Runner, moto_url, received, runner
from tests.sandbox_specs import members

__all__ = ["moto_url", "runner"]  # fixtures

UNAVAILABLE_FAST = (
    "{unavailable: {interval: 0.01, attempts: 2}, transient: {interval: 0.01, attempts: 2}}"
)


@pytest.mark.parametrize("runner", ["sqlite"], indirect=True)  # the same for every backend
def test_records_the_api_could_not_take_are_sent_first_next_run(
    runner: Runner, sandbox: RunningSandbox
) -> None:
    runner.rows = members(1_000)
    runner.run()
    runner.rows = [
        (i, f"{n} v2", e) if k >= 500 else (i, n, e) for k, (i, n, e) in enumerate(runner.rows)
    ]
    runner.delivery = f"{{concurrency: 1, batch_size: 50, retry: {UNAVAILABLE_FAST}}}"
    sandbox.configure(fail_ratio=1.0)
    down = runner.run(ok=False)
    assert runner.last is not None
    assert runner.last.returncode == 1
    assert down["failed"] == 50  # the first changed batch; the sync stopped there
    assert "delivery failed" in runner.last.stderr

    sandbox.configure(fail_ratio=0.0)
    before = received(sandbox)
    back = runner.run()
    assert back["resumed_from"] is not None  # after the 500 unchanged rows, before the failed ones
    assert (back["rows_read"], back["delivered"], back["unchanged"]) == (500, 500, 0)
    assert received(sandbox) - before == 500
    stored = sandbox.records("audience")
    assert all(str(stored[f"M{i:06d}"]["name"]).endswith("v2") for i in range(500, 1000))  # type: ignore[index]
