"""Which syncs of a run go at the same time: all of them, except where `depends_on` says wait.

Syncs on different rate budgets (endpoints, accounts) overlap, so a spec takes as long as its
slowest sync rather than the sum; syncs sharing a budget overlap too and take turns at its limiter.
A sync waits for the syncs of this run it depends on (a dependency left out by --select or
`enabled: false` is not waited for); if one of them did not finish cleanly, the dependant is not
started and says why. One sync's failure never stops the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def depends_on(self) -> tuple[str, ...]: ...


S = TypeVar("S", bound=Named)
R = TypeVar("R")


@dataclass(frozen=True)
class Finished(Generic[R]):
    result: R
    clean: bool  # dependants may start


async def run_syncs(
    syncs: Sequence[S],
    run: Callable[[S], Awaitable[Finished[R]]],
    skip: Callable[[S, str], R],
) -> list[R]:
    """Each sync's result, in the order given. `skip(sync, reason)` stands for a sync not started.

    `run` reports a sync's failure in its result; an exception escaping it is a defect and
    cancels the whole run."""
    in_run = {sync.name for sync in syncs}
    loop = asyncio.get_running_loop()
    done: dict[str, asyncio.Future[bool]] = {sync.name: loop.create_future() for sync in syncs}

    async def one(sync: S) -> R:
        for name in (name for name in sync.depends_on if name in in_run):
            if not await done[name]:
                done[sync.name].set_result(False)
                return skip(sync, f"skipped: {name}, which it depends on, did not finish cleanly")
        outcome = await run(sync)
        done[sync.name].set_result(outcome.clean)
        return outcome.result

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(sync)) for sync in syncs]
    except BaseExceptionGroup as failure:
        if len(failure.exceptions) == 1:
            raise failure.exceptions[0] from None
        raise
    return [task.result() for task in tasks]
