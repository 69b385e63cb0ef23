"""`expect:` — what a healthy run of a sync looks like. A run that breaches one of these did not
fail, it degraded (an export came in empty, a mapping change resends everything, the API throttled
us all night): the run exits 5 and says so wherever the operator looks (engine/run/expect.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.durations import parse_duration

KEYS = ("min_rows", "max_reject_ratio", "max_changed_share", "max_429", "max_duration")


@dataclass(frozen=True)
class Expect:
    """Each bound is None when not set; `max_duration` in seconds."""

    min_rows: int | None = None
    max_reject_ratio: float | None = None
    max_changed_share: float | None = None
    max_429: int | None = None
    max_duration: float | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, key) is None for key in KEYS)


def merged(inherited: Mapping[str, Any] | None, own: Mapping[str, Any] | None) -> dict[str, Any]:
    """A sync's `expect:` over the one of `defaults:`, key by key (a sync may tighten one bound)."""
    return {**(inherited or {}), **(own or {})}


def parse_expect(block: Mapping[str, Any] | None) -> Expect:
    """From a block the schema accepted."""
    block = block or {}

    def number(key: str) -> float | None:
        return None if block.get(key) is None else float(block[key])

    def whole(key: str) -> int | None:
        return None if block.get(key) is None else int(block[key])

    duration = block.get("max_duration")
    return Expect(
        min_rows=whole("min_rows"),
        max_reject_ratio=number("max_reject_ratio"),
        max_changed_share=number("max_changed_share"),
        max_429=whole("max_429"),
        max_duration=None if duration is None else parse_duration(duration),
    )
