"""Triggers: events a destination must receive at most once per window, and what the store knows.

Every import route upserts by key, so a record sent twice is harmless; an event (start a workflow
for a member) sent twice reaches the customer twice. An endpoint that fires events says so
(engine.contracts.FiresEvents) and its sync declares a window (`once_per: 1d`): a key is sent for
the endpoint's event scope (OmniSegment: the workflow node) at most once per window.

The store keeps, per (sync key + event scope) and hashed key (keyed BLAKE2b, never the key in
clear), a state and the time it was set:

- `pending`: written, under the run's lease (every write is fenced), before the request carrying
  the key leaves. A pending mark left by an earlier run is an outcome nobody knows (the process
  died, or the answer was lost): it is **not** sent again unless the run is told to
  (`--resend-unknown`); it is reported with its key;
- `confirmed`: written once the API acknowledged the request. Within the window the key is
  skipped; after it, it is sent again.

A key refused by the API (400, after bisection) was not triggered: its mark is removed. A request
with no final answer (a timeout, a lost acknowledgement, 5xx past the policy) keeps its marks
pending. Marks older than the window are expired like confirmed ones: sending again then keeps
"at most once per window" whatever the earlier request did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from engine.crashpoints import crash_point
from engine.rows import Record
from engine.state.change_detection import DIGEST_BYTES, key_hash

NO_DIGEST = bytes(DIGEST_BYTES)  # an event has no content digest: the ledger's "none"

State = Literal["pending", "confirmed"]
PENDING: State = "pending"
CONFIRMED: State = "confirmed"


@dataclass(frozen=True)
class Mark:
    state: State
    at: float  # Unix seconds (UTC) when the state was set


class TriggerStore(Protocol):
    """Where a backend keeps the trigger marks. `scope` is a sync key plus the event scope; keys
    are hashed. Writes are atomic and fenced by the run's lease like the state's other writes."""

    def lookup(self, scope: str, keys: Sequence[bytes]) -> dict[bytes, Mark]: ...

    def mark(self, scope: str, items: Sequence[tuple[bytes, Mark]]) -> None: ...

    def forget(self, scope: str, keys: Sequence[bytes]) -> None: ...

    def counts(self, scope_prefix: str) -> dict[str, int]:
        """Marks by state of every scope starting with `scope_prefix` (a sync key)."""
        ...

    def clear(self, scope_prefix: str) -> int:
        """Forget every mark of the scopes starting with `scope_prefix`; how many there were."""
        ...


@runtime_checkable
class KeepsTriggers(Protocol):
    """Optional for a state backend: it keeps trigger marks (the three built-in ones do)."""

    def triggers(self) -> TriggerStore: ...


def trigger_store(store: object) -> TriggerStore | None:
    return store.triggers() if isinstance(store, KeepsTriggers) else None


def scope_of(sync_key: str, event_scope: str) -> str:
    """The marks' scope: the sync's state key, then the event scope (`node 128`)."""
    return f"{sync_key}#{event_scope}"


@dataclass
class Screened:
    """One screen's verdicts: to send (marked pending as their request leaves), skipped (already
    triggered in the window, or earlier in this run), unknown (pending from an earlier run: not
    sent)."""

    send: list[Record] = field(default_factory=list)
    skipped: list[Record] = field(default_factory=list)
    unknown: list[Record] = field(default_factory=list)


class TriggerGate:
    """screen() decides which keys go (once per window, once per run); claim() marks a batch's
    keys pending just before its request leaves; confirmed() and refused() settle them once the
    API answered. Claiming at the request, not at the screen, keeps the keys a crash leaves of
    unknown outcome to the requests really in flight."""

    def __init__(
        self,
        store: TriggerStore,
        scope: str,
        space: bytes,
        key: Callable[[Any], str | None],
        window: float,
        save: bool = True,
        resend_unknown: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.scope = scope
        self.namespace = space  # change detection's hashing key: the ledger's hashes match
        self.key = key
        self.window = window
        self.save = save  # False in a dry run: look up, never write
        self.resend_unknown = resend_unknown
        self.clock = clock
        self._claimed: set[bytes] = set()  # keys this run sends (or, dry, would send)
        self._written: set[bytes] = set()  # ... whose pending mark is written

    def hashed(self, record: Record) -> bytes | None:
        if record.mark is None:
            key = self.key(record.payload)
            if key is None:
                return None
            record.mark = (key_hash(self.namespace, key), NO_DIGEST)
        return record.mark[0]

    def screen(self, records: Sequence[Record]) -> Screened:
        out = Screened()
        hashes = [h for r in records if (h := self.hashed(r)) is not None]
        stored = self.store.lookup(self.scope, hashes) if hashes else {}
        now = self.clock()
        for record in records:
            hashed = record.mark[0] if record.mark is not None else None
            if hashed is None:  # no key: it cannot be held to "once"; the endpoint refuses it
                out.send.append(record)
                continue
            if hashed in self._claimed:
                out.skipped.append(record)
                continue
            held = stored.get(hashed)
            live = held is not None and now - held.at < self.window
            if live and held is not None and held.state == CONFIRMED:
                out.skipped.append(record)
                continue
            if live and not self.resend_unknown:
                out.unknown.append(record)
                continue
            self._claimed.add(hashed)
            out.send.append(record)
        return out

    def claim(self, records: Sequence[Record]) -> None:
        """Right before the request carrying these leaves: their pending marks, in one fenced
        write (a part of a split batch was claimed with the whole: not written again)."""
        if not self.save:
            return
        now = self.clock()
        written = self._written
        fresh = [r.mark[0] for r in records if r.mark is not None and r.mark[0] not in written]
        if fresh:
            self.store.mark(self.scope, [(hashed, Mark(PENDING, now)) for hashed in fresh])
            written.update(fresh)

    def confirmed(self, records: Sequence[Record]) -> None:
        """The API acknowledged these: their marks become confirmed (one write a batch)."""
        if not self.save:
            return
        now = self.clock()
        done = [(r.mark[0], Mark(CONFIRMED, now)) for r in records if r.mark is not None]
        if done:
            self.store.mark(self.scope, done)

    def refused(self, records: Sequence[Record]) -> None:
        """The API refused these (400): nobody was triggered, the marks go."""
        if not self.save:
            return
        keys = [r.mark[0] for r in records if r.mark is not None]
        if keys:
            self.store.forget(self.scope, keys)
            self._claimed.difference_update(keys)
            self._written.difference_update(keys)


# -- SQL backends (SQLite, PostgreSQL): one table beside the state's --------------------------


class SqlTriggers:
    """The marks in a table `(scope, key, state, at, epoch)`. `write(sql, rows)` runs one
    statement with many rows in a fenced transaction; `query(sql, args)` reads; `placeholder` is
    the driver's parameter mark."""

    def __init__(
        self,
        table: str,
        write: Callable[[str, Sequence[Sequence[Any]], str | None], int],
        query: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]],
        epoch: Callable[[], int],
        placeholder: str = "?",
        absent: Callable[[], bool] = lambda: False,
    ) -> None:
        self.table = table
        self._write = write
        self._query = query
        self._epoch = epoch
        self._p = placeholder
        self._absent = absent

    def lookup(self, scope: str, keys: Sequence[bytes]) -> dict[bytes, Mark]:
        if self._absent() or not keys:
            return {}
        found: dict[bytes, Mark] = {}
        p = self._p
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join([p] * len(chunk))
            rows = self._query(
                f"SELECT key, state, at FROM {self.table} WHERE scope = {p} AND key IN ({marks})",
                (scope, *chunk),
            )
            found.update((bytes(k), Mark(s, float(a))) for k, s, a in rows)
        return found

    def mark(self, scope: str, items: Sequence[tuple[bytes, Mark]]) -> None:
        p, epoch = self._p, self._epoch()
        latest = dict(items)
        self._write(
            f"INSERT INTO {self.table} (scope, key, state, at, epoch) VALUES ({p}, {p}, {p}, {p},"
            f" {p}) ON CONFLICT (scope, key) DO UPDATE SET state = excluded.state,"
            " at = excluded.at, epoch = excluded.epoch",
            [(scope, k, m.state, m.at, epoch) for k, m in latest.items()],
            crash_name(latest.values()),
        )

    def forget(self, scope: str, keys: Sequence[bytes]) -> None:
        p = self._p
        self._write(
            f"DELETE FROM {self.table} WHERE scope = {p} AND key = {p}",
            [(scope, k) for k in keys],
            None,
        )

    def counts(self, scope_prefix: str) -> dict[str, int]:
        if self._absent():
            return {}
        p = self._p
        rows = self._query(
            f"SELECT state, count(*) FROM {self.table} WHERE substr(scope, 1, {p}) = {p}"
            " GROUP BY state",
            (len(scope_prefix), scope_prefix),
        )
        return {str(s): int(n) for s, n in rows}

    def clear(self, scope_prefix: str) -> int:
        if self._absent():
            return 0
        p = self._p
        return self._write(
            f"DELETE FROM {self.table} WHERE substr(scope, 1, {p}) = {p}",
            [(len(scope_prefix), scope_prefix)],
            None,
        )


def crash_name(marks: Any) -> str:
    """The test-only crash point between a write of these marks and its commit."""
    return "trigger_confirm" if any(m.state == CONFIRMED for m in marks) else "trigger_mark"


def trigger_crash(name: str | None) -> None:
    if name is not None:
        crash_point(name)
