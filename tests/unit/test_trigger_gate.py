"""The trigger gate on a store in memory: each key at most once per window, pending marks written
before the keys are let through, an earlier run's pending mark an unknown outcome."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.rows import Record
from engine.state.triggers import CONFIRMED, PENDING, Mark, TriggerGate


class Memory:
    def __init__(self) -> None:
        self.marks: dict[bytes, Mark] = {}
        self.writes: list[list[tuple[bytes, Mark]]] = []

    def lookup(self, scope: str, keys: Sequence[bytes]) -> dict[bytes, Mark]:
        return {k: self.marks[k] for k in keys if k in self.marks}

    def mark(self, scope: str, items: Sequence[tuple[bytes, Mark]]) -> None:
        self.writes.append(list(items))
        self.marks.update(items)

    def forget(self, scope: str, keys: Sequence[bytes]) -> None:
        for key in keys:
            self.marks.pop(key, None)

    def counts(self, scope_prefix: str) -> dict[str, int]:
        return {}

    def clear(self, scope_prefix: str) -> int:
        return 0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def gate(store: Memory, clock: Clock, **options: Any) -> TriggerGate:
    return TriggerGate(
        store, "s", b"n" * 32, lambda p: p["member_sn"], 60.0, clock=clock, **options
    )


def records(*members: str) -> list[Record]:
    return [Record({"member_sn": m}, (i,), i) for i, m in enumerate(members)]


def sns(found: list[Record]) -> list[str]:
    return [r.payload["member_sn"] for r in found]


def test_a_key_goes_once_a_window_and_is_pending_before_it_goes() -> None:
    store, clock = Memory(), Clock()
    first = gate(store, clock)
    out = first.screen(records("a", "b", "a"))
    assert (sns(out.send), sns(out.skipped)) == (["a", "b"], ["a"])  # twice in one run: once
    assert store.marks == {}  # decided, not claimed: claimed as the request leaves
    first.claim(out.send)
    first.claim(out.send[:1])  # half of a split batch: claimed with the whole already
    assert [m.state for m in store.marks.values()] == [PENDING, PENDING]
    assert len(store.writes) == 1
    first.confirmed(out.send)
    assert {m.state for m in store.marks.values()} == {CONFIRMED}
    clock.now += 59
    again_gate = gate(store, clock)
    again = again_gate.screen(records("a", "b", "c"))
    assert (sns(again.send), sns(again.skipped)) == (["c"], ["a", "b"])
    again_gate.claim(again.send)
    clock.now += 2  # a and b: the window passed since they were confirmed
    later = gate(store, clock).screen(records("a", "b", "c"))
    # c: pending since the run above (never confirmed): an outcome nobody knows
    assert (sns(later.send), sns(later.unknown)) == (["a", "b"], ["c"])


def test_an_earlier_runs_pending_mark_is_unknown_and_resent_only_when_asked() -> None:
    store, clock = Memory(), Clock()
    killed = gate(store, clock)
    killed.claim(killed.screen(records("a", "b")).send)  # killed before any answer
    rerun = gate(store, clock)
    out = rerun.screen(records("a", "b", "c"))
    assert (sns(out.send), sns(out.unknown)) == (["c"], ["a", "b"])
    rerun.claim(out.send)
    resent = gate(store, clock, resend_unknown=True).screen(records("a", "b", "c"))
    # c too: the run above marked it pending and never heard back
    assert (sns(resent.send), sns(resent.unknown)) == (["a", "b", "c"], [])


def test_a_refused_key_is_forgotten_and_a_dry_run_writes_nothing() -> None:
    store, clock = Memory(), Clock()
    live = gate(store, clock)
    out = live.screen(records("a", "b"))
    live.claim(out.send)
    live.refused(out.send[:1])  # a 400: nobody was triggered
    assert len(store.marks) == 1
    assert sns(gate(store, clock).screen(records("a")).send) == ["a"]
    dry_store = Memory()
    dry = gate(dry_store, clock, save=False)
    out = dry.screen(records("x", "x"))
    dry.claim(out.send)
    dry.confirmed(out.send)
    assert (sns(out.send), sns(out.skipped), dry_store.writes) == (["x"], ["x"], [])
