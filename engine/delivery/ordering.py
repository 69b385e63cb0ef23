"""Per-key order: a batch holding a key that an earlier batch still has in flight waits for it.

OmniSegment upserts by key, so two versions of one member must arrive in the order they were read:
a retried older batch must never land after a newer one. Each batch records, for its keys, the
batch that claimed them last; it is sent only once those predecessors are finished. Dependencies
point only to earlier batches, which workers take first (FIFO queue), so this cannot deadlock.
Only keys of unfinished batches are remembered: memory follows the in-flight window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


class Claim:
    """One batch's place in the per-key order."""

    __slots__ = ("done", "keys", "waits_for")

    def __init__(self, keys: list[str], waits_for: list[asyncio.Event]) -> None:
        self.keys = keys
        self.waits_for = waits_for
        self.done = asyncio.Event()

    async def ready(self) -> None:
        for event in self.waits_for:
            await event.wait()
        self.waits_for = []


class KeyOrder:
    def __init__(self) -> None:
        self._last: dict[str, Claim] = {}
        self.held_back = 0  # batches that had to wait for another one: for the report

    def claim(self, keys: Iterable[str | None]) -> Claim:
        """Called by the reader, in read order."""
        last = self._last
        unique = list(dict.fromkeys(k for k in keys if k is not None))
        waits: dict[int, asyncio.Event] = {}
        for key in unique:
            previous = last.get(key)
            if previous is not None:
                waits[id(previous)] = previous.done
        claim = Claim(unique, list(waits.values()))
        if waits:
            self.held_back += 1
        for key in unique:
            last[key] = claim
        return claim

    def release(self, claim: Claim) -> None:
        last = self._last
        for key in claim.keys:
            if last.get(key) is claim:
                del last[key]
        claim.done.set()

    def __len__(self) -> int:
        return len(self._last)
