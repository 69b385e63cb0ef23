"""The allocation of a shared rate budget (engine/state/budget.py), on an invented store clock.

Members renew in any order at any time; what the store counts must never exceed the cap while any
member may still send at its grant, and every live member must get its fair share in the end."""

from __future__ import annotations

import random

import pytest

from engine.state.budget import LEASE, ROTATION, Member, Table, fair_share, settle

HOLD = 1.6


def renew(table: Table, me: str, now: float, cap: int = 10) -> tuple[Table, int]:
    return settle(table, me, cap, now, HOLD)


def test_a_lone_member_gets_the_whole_cap() -> None:
    table, grant = renew({}, "a", 0.0)
    assert grant == 10
    assert table["a"].expires == LEASE


def test_a_newcomer_gets_room_only_after_the_holder_lowered_and_its_window_passed() -> None:
    table, _ = renew({}, "a", 0.0)
    table, b = renew(table, "b", 0.1)
    assert b == 0  # a may be sending 10 per window still
    table, a = renew(table, "a", 1.0)
    assert a == 5
    assert table["a"].counted(1.0) == 10  # lowered at once, counted high for a window
    table, b = renew(table, "b", 1.1)
    assert b == 0
    table, b = renew(table, "b", 1.0 + HOLD)
    assert b == 5


def test_the_remainder_goes_round() -> None:
    names = ["a", "b", "c"]
    table = {n: Member(10, 3, 3, 0.0, 1e9) for n in names}
    extra = [
        [n for n in names if fair_share(table, n, epoch * ROTATION) == 4] for epoch in range(3)
    ]
    assert (
        sorted(n for turn in extra for n in turn) == names
    )  # each one holds it once in three turns


def test_a_dead_member_is_dropped_when_its_lease_ran_out_and_its_room_returns() -> None:
    table: Table = {}
    for name in "abc":
        table, _ = renew(table, name, 0.0)
    for t in (2.0, 4.0, 6.0):  # everyone settles to a fair share
        for name in "abc":
            table, _ = renew(table, name, t)
    assert sum(m.grant for m in table.values()) == 10
    now = 6.0
    while "c" in table:  # c was killed: only a and b renew
        now += 1.0
        for name in "ab":
            table, _ = renew(table, name, now)
    assert now <= 6.0 + LEASE - HOLD + 1.0
    for _ in range(3):
        now += 1.0
        for name in "ab":
            table, _ = renew(table, name, now)
    assert table["a"].grant + table["b"].grant == 10


def test_leaving_gives_the_room_back_a_window_later() -> None:
    table, _ = renew({}, "a", 0.0)
    table, _ = renew(table, "b", 0.5)
    table, grant = settle(table, "a", 10, 1.0, HOLD, leaving=True)
    assert grant == 0
    assert table["a"].counted(1.0) == 10
    table, b = renew(table, "b", 1.5)
    assert b == 0
    table, b = renew(table, "b", 1.0 + HOLD + 0.1)
    assert b == 10
    assert "a" not in table


def test_the_smallest_cap_among_the_members_holds() -> None:
    table, _ = settle({}, "a", 10, 0.0, HOLD)
    table, _ = settle(table, "b", 4, 0.1, HOLD)
    table, a = settle(table, "a", 10, 0.2, HOLD)
    assert a == 2


@pytest.mark.parametrize("seed", range(20))
def test_what_members_may_send_never_adds_up_to_more_than_the_cap(seed: int) -> None:
    """Random renewals, joins, deaths and departures: at every step, the grants the members use
    (each one's own, as it last heard it, while its window lasts) stay within the cap."""
    rng = random.Random(seed)
    table: Table = {}
    using: dict[str, list[tuple[float, int]]] = {}  # member -> (from when, grant) it used
    alive: set[str] = set()
    now = 0.0
    for step in range(400):
        now += rng.uniform(0.0, 0.7)
        if rng.random() < 0.03 or not alive:
            alive.add(f"m{step}")
        name = rng.choice(sorted(alive))
        leaving = rng.random() < 0.02
        dying = not leaving and rng.random() < 0.02
        if dying:  # killed: sends nothing from now on, renews never again
            alive.discard(name)
            using.setdefault(name, []).append((now, 0))
            continue
        table, grant = settle(table, name, 10, now, HOLD, leaving)
        using.setdefault(name, []).append((now, grant))
        if leaving:
            alive.discard(name)
        assert in_use(using, now) <= 10, (seed, step)


def in_use(using: dict[str, list[tuple[float, int]]], now: float) -> int:
    """What the members may have sent within the last window: each grant holds from the renewal
    that brought it to the next one, and never past the fence (engine/delivery/shared_budget.py:
    a window and a hold before the lease would run out), whatever the member heard."""
    window = 1.1
    total = 0
    for history in using.values():
        most = 0
        for i, (t, grant) in enumerate(history):
            ends = min(history[i + 1][0] if i + 1 < len(history) else now, t + LEASE - 2 * HOLD)
            if ends > now - window:
                most = max(most, grant)
        total += most
    return total
