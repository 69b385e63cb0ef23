"""The fields `plan --changes` names, as the digests' one-byte field slots can tell them."""

from __future__ import annotations

from engine.run.change_plan import NOT_TOLD


def assert_fields_told(found: dict[str, int], expected: dict[str, int]) -> None:
    """`found` is `expected`, except that a changed value whose slot byte happens to stay the
    same (1 time in 256 per change, by the spec's own hashing key) is counted as not told."""
    missed = found.get(NOT_TOLD, 0)
    told = {name: count for name, count in found.items() if name != NOT_TOLD}
    assert set(told) <= set(expected), found
    assert all(told[name] <= count for name, count in expected.items() if name in told), found
    assert sum(told.values()) + missed == sum(expected.values()), found
    assert missed <= 1, found  # two misses in a handful of changes: a broken slot, not chance
