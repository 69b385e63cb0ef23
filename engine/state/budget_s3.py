"""Shared rate budgets in S3: one object per budget (`budgets/<budget>.json`) holding its members.

A change reads the object and writes it back with If-Match (If-None-Match when it is new): a
member that lost the race reads again and settles on what the winner wrote, so two members never
count on the same room. Times are the writers' wall clocks: machines sharing a budget through S3
keep their clocks in step (NTP); the hold after a lowered grant carries half a second for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from engine.state.base import SCHEMA_VERSION, StateError
from engine.state.budget import Member, Table
from engine.state.s3_objects import Conflict, Objects

ATTEMPTS = 8  # conditional writes lost in a row before a renewal gives up (and is retried)


class S3Budgets:
    shared_by_default = True

    def __init__(self, bucket: str, prefix: str, client_args: Mapping[str, Any]) -> None:
        self.bucket, self.prefix, self.client_args = bucket, prefix, client_args
        self._objects: Objects | None = None

    @property
    def objects(self) -> Objects:
        if self._objects is None:  # a client of its own: renewals run on another thread
            self._objects = Objects(self.bucket, self.prefix, self.client_args)
        return self._objects

    def _key(self, budget: str) -> str:
        return self.objects.key("budgets", budget) + ".json"

    def apply(self, budget: str, change: Callable[[Table, float], tuple[Table, int]]) -> int:
        key = self._key(budget)
        for _ in range(ATTEMPTS):
            found = self.objects.get(key)
            before, etag = (_parse(found[0], key), found[1]) if found else ({}, None)
            after, grant = change(before, time.time())
            try:
                self.objects.put(key, _render(after), etag)
            except Conflict:
                continue  # another member settled meanwhile: settle again on what it wrote
            return grant
        raise StateError(f"shared budget in {self.objects.describe()}: {key} kept changing")

    def members(self, budget: str) -> Table:
        key = self._key(budget)
        found = self.objects.get(key)
        return _parse(found[0], key) if found else {}

    def close(self) -> None:
        if self._objects is not None:
            self._objects.close()
            self._objects = None


def _render(table: Table) -> bytes:
    members = {name: [m.cap, m.grant, m.held, m.held_until, m.expires] for name, m in table.items()}
    return json.dumps({"schema_version": SCHEMA_VERSION, "members": members}).encode()


def _parse(body: bytes, key: str) -> Table:
    """The stored table. One that does not parse is an error, never an empty budget: its members
    may be sending, and a newcomer must not count on their room."""
    try:
        members = json.loads(body)["members"]
        return {
            str(name): Member(int(v[0]), int(v[1]), int(v[2]), float(v[3]), float(v[4]))
            for name, v in members.items()
        }
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise StateError(
            f"shared budget {key} does not parse ({exc}); no run is using it once every run on "
            "this account has stopped: delete it then"
        ) from None
