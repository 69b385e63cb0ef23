"""One rate budget shared by the processes that send on it: who sends, and how much each may.

Processes that run at the same time against one account's endpoint (one limiter key: the
budget) each keep a member record in the state backend, under a lease they renew every second.
A member's grant is a whole number of requests per window; the grants the store counts never add
up to more than the budget's cap, so however the members' windows line up, no window of the
server sees more than the cap. That is what a fraction of the rate could not promise: three
processes pacing at 3.33/s each can still send 4 each in one second.

Fair shares: cap // n each, and the remainder goes to `cap % n` members in turn, moving every
ROTATION seconds of the store's clock, so over a run each gets the same. A member that lowers its
grant still counts at its former grant for `hold` seconds (the requests it sent in its last
window); a member raises its grant only into what nobody counts, so a grant moves from one
process to another only after the first one's window has passed. A member whose lease ran out
(killed, or cut off from the store and stopped sending by itself) is dropped by the next member
that settles, a hold before the lease's end, and its share goes to the others.

`settle` is pure; a backend's board applies it atomically (a transaction, a conditional PUT) on
the store's clock. Safety never depends on the members agreeing on the time: only on the store
counting grants under one lock.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from engine.state.base import StateError

ROTATION = 20.0  # seconds of the store's clock between moves of the remainder
LEASE = 10.0  # seconds a member's record outlives its last renewal
RENEW = 1.0  # seconds between renewals


@dataclass(frozen=True)
class Member:
    """One process on one budget, as the store keeps it (times on the store's clock)."""

    cap: int  # the budget's cap as this member reads its spec (the smallest one holds)
    grant: int  # requests per window it may send now
    held: int  # what it may still have sent within the last window, counted until held_until
    held_until: float
    expires: float  # its lease: past it the member is gone

    def counted(self, now: float) -> int:
        return max(self.grant, self.held) if now < self.held_until else self.grant


Table = dict[str, Member]


def settle(
    members: Mapping[str, Member],
    me: str,
    cap: int,
    now: float,
    hold: float,
    leaving: bool = False,
) -> tuple[Table, int]:
    """The budget's table after `me` renewed (or left) at `now`, and the grant `me` may use.

    A member is dropped `hold` before its lease runs out: it stops sending a window and a hold
    before (engine/delivery/shared_budget.py), so its last window has passed by then. Leaving
    sets the grant to 0, counted at its former value for `hold` more seconds. Otherwise the grant
    moves towards the fair share: down at once, up only as far as the other members' counted
    grants leave room."""
    table = {name: m for name, m in members.items() if m.expires - hold > now or name == me}
    current = table.get(me) or Member(cap, 0, 0, now, now)
    if leaving:
        table[me] = Member(cap, 0, current.counted(now), now + hold, now + 2 * hold)
        return table, 0
    table[me] = replace(current, cap=cap, expires=now + LEASE)
    target = fair_share(table, me, now)
    mine = table[me]
    if target < mine.grant:
        mine = replace(mine, grant=target, held=mine.counted(now), held_until=now + hold)
    elif target > mine.grant:
        limit = min(m.cap for m in table.values())
        others = sum(m.counted(now) for name, m in table.items() if name != me)
        mine = replace(mine, grant=max(mine.grant, min(target, limit - others)))
    table[me] = mine
    return table, mine.grant


def fair_share(table: Mapping[str, Member], me: str, now: float) -> int:
    """cap // n, plus one for the members whose turn it is to hold the remainder."""
    names = sorted(table)
    limit = min(m.cap for m in table.values())
    base, extra = divmod(limit, len(names))
    turn = int(now // ROTATION)
    lucky = {names[(turn + i) % len(names)] for i in range(extra)}
    return base + (1 if me in lucky else 0)


def budget_id(key: str) -> str:
    """The budget's name in the store: a hash of the limiter key (it names a URL and an account)."""
    return hashlib.sha256(f"omnisync-budget\0{key}".encode()).hexdigest()[:32]


def member_name() -> str:
    """This process on this machine, unique across restarts."""
    import socket  # here: loading the state plugins (every command does) must stay cheap

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class BudgetBoard(Protocol):
    """Where a state backend keeps the members of shared budgets.

    `apply` reads the budget's table, calls change(table, now) with the store's clock and writes
    what it returns, all atomically (another member's apply never interleaves); it returns the
    grant the change computed. Calls are synchronous and short; the caller runs them off the
    event loop."""

    shared_by_default: bool  # a store several machines use (a database, a bucket)

    def apply(self, budget: str, change: Callable[[Table, float], tuple[Table, int]]) -> int: ...

    def members(self, budget: str) -> Table:
        """The budget's table as stored (for `state` commands and tests)."""
        ...

    def close(self) -> None: ...


def shared_board(store: object, config: Mapping[str, object]) -> BudgetBoard | None:
    """The store's budget board when this run shares its rate budgets, else None.

    `shared_budget` in the state block decides; without it, a store several machines use shares
    and a local file does not. A backend without a board never shares (a plugin may add one)."""
    opened: Callable[[], BudgetBoard] | None = getattr(store, "budgets", None)
    wanted = config.get("shared_budget")
    if opened is None and wanted is True:
        raise StateError(
            f"state store {getattr(store, 'describe', lambda: '?')()} cannot share rate budgets "
            "with other runs: remove shared_budget from the state block, or use postgres, s3 or "
            "sqlite"
        )
    if opened is None or wanted is False:
        return None
    board = opened()
    if wanted is None and not board.shared_by_default:
        board.close()
        return None
    return board
