"""Scheduling the syncs of a run: all at once, depends_on waits, a failure skips dependants only."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from engine.run.sync_order import Finished, run_syncs


@dataclass(frozen=True)
class Sync:
    name: str
    depends_on: tuple[str, ...] = ()


async def _run(
    syncs: list[Sync], failing: frozenset[str] = frozenset()
) -> tuple[list[str], list[str]]:
    events: list[str] = []
    gates = {sync.name: asyncio.Event() for sync in syncs}

    async def run(sync: Sync) -> Finished[str]:
        events.append(f"start {sync.name}")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        events.append(f"end {sync.name}")
        gates[sync.name].set()
        return Finished(f"ran {sync.name}", clean=sync.name not in failing)

    def skip(sync: Sync, reason: str) -> str:
        events.append(f"skip {sync.name}")
        return f"{sync.name}: {reason}"

    results = await run_syncs(syncs, run, skip)
    return results, events


async def test_independent_syncs_all_start_before_any_ends() -> None:
    _, events = await _run([Sync("members"), Sync("orders"), Sync("vouchers")])
    starts = [i for i, e in enumerate(events) if e.startswith("start")]
    ends = [i for i, e in enumerate(events) if e.startswith("end")]
    assert len(starts) == 3
    assert max(starts) < min(ends)


async def test_a_dependant_starts_after_its_dependency_ends() -> None:
    results, events = await _run([Sync("purchases", ("members",)), Sync("members")])
    assert events.index("end members") < events.index("start purchases")
    assert results == ["ran purchases", "ran members"]  # in the spec's order


async def test_a_failed_dependency_skips_its_dependants_and_theirs_not_the_others() -> None:
    syncs = [
        Sync("members"),
        Sync("purchases", ("members",)),
        Sync("refunds", ("purchases",)),
        Sync("vouchers"),
    ]
    results, events = await _run(syncs, failing={"members"})
    assert results[0] == "ran members"
    assert results[1] == "purchases: skipped: members, which it depends on, did not finish cleanly"
    assert results[2] == "refunds: skipped: purchases, which it depends on, did not finish cleanly"
    assert results[3] == "ran vouchers"
    assert "start purchases" not in events


async def test_a_dependency_outside_the_run_is_not_waited_for() -> None:
    results, _ = await _run([Sync("purchases", ("members",))])
    assert results == ["ran purchases"]


async def test_an_unexpected_error_cancels_the_run_and_surfaces_as_itself() -> None:
    async def run(sync: Sync) -> Finished[str]:
        if sync.name == "bad":
            raise RuntimeError("boom")
        await asyncio.sleep(3600)
        return Finished("never", True)

    with pytest.raises(RuntimeError, match="boom"):
        await run_syncs([Sync("slow"), Sync("bad")], run, lambda s, r: r)
