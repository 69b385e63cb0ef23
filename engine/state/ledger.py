"""Run history and the record ledger: what each run did, and what became of each record key.

A run is one row (its id, spec, git commit, CI URL, start and end, exit code and counts per sync).
What became of each record goes to the ledger, in the state store the operator already runs, for
as long as `state: {history: {keep: 90d}}` says. Keys are stored only as the keyed hashes change
detection uses (change_detection.key_hash), plus a masked rendering for display; `why` hashes the
key it is asked about the same way.

The bulk of a run (records new, changed, unchanged, failed) is written compactly: one blob of
(hashed key, digest) pairs per action and batch, so a 1,000,000-row run costs a few hundred
inserts, not a million. The rare outcomes (filtered, rejected, left the source) are one row each,
with their reason. Entries are buffered and written a batch at a time: memory stays flat.
"""

from __future__ import annotations

import datetime as dt
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Protocol

from engine import durations
from engine.pii import mask, mask_reason, mask_text
from engine.rows import Record
from engine.state.change_detection import DIGEST_BYTES, key_hash

DEFAULT_KEEP = "90d"
PAIR = 2 * DIGEST_BYTES  # one bulk entry: hashed key, then digest
FLUSH_BYTES = 1 << 20  # bulk bytes buffered at most before a write (32,768 entries)
FLUSH_ROWS = 1000  # single rows buffered at most
# "sent": change detection was off; "triggered", "skipped", "unknown": an event sync's keys
BULK = ("new", "changed", "unchanged", "failed", "sent", "triggered", "skipped", "unknown")
SINGLE = ("filtered", "rejected", "removed")
NO_DIGEST = bytes(DIGEST_BYTES)


def keep_seconds(state_block: Mapping[str, Any]) -> float:
    """The retention of the spec's `state.history.keep` in seconds (0: no history kept)."""
    history = state_block.get("history") or {}
    return durations.parse_duration(history.get("keep", DEFAULT_KEEP))


@dataclass
class RunRecord:
    """One run of one spec: `syncs` holds each sync's counts once the run ended."""

    run_id: str
    spec: str
    started: str  # ISO 8601, UTC
    ended: str | None = None  # None: still running, or it crashed
    exit_code: int | None = None
    commit: str | None = None
    ci_url: str | None = None
    syncs: dict[str, dict[str, Any]] = field(default_factory=dict)
    kind: str = "run"  # "run", or "replay" (`rejects replay`: a run over the rejected rows)

    def info(self) -> dict[str, Any]:
        info = {"commit": self.commit, "ci_url": self.ci_url, "syncs": self.syncs}
        return info if self.kind == "run" else {**info, "kind": self.kind}

    @classmethod
    def from_row(
        cls,
        run_id: str,
        spec: str,
        started: str,
        ended: str | None,
        exit_code: int | None,
        info: Mapping[str, Any],
    ) -> RunRecord:
        return cls(
            run_id,
            spec,
            started,
            ended,
            exit_code,
            info.get("commit"),
            info.get("ci_url"),
            dict(info.get("syncs") or {}),
            str(info.get("kind") or "run"),
        )


@dataclass(frozen=True)
class Single:
    """A rare outcome, one row: its hashed key (None when the key could not be told)."""

    key: bytes | None
    action: str  # one of SINGLE
    shown: str | None  # the key as displayed (masked unless --reveal-pii)
    reason: str | None


@dataclass(frozen=True)
class Seen:
    """What `why` finds: one run's entry for a key."""

    run_id: str
    action: str
    digest: bytes | None
    shown: str | None = None
    reason: str | None = None


class LedgerStore(Protocol):
    """What a state backend offers for history (its `ledger()` method returns one)."""

    def begin_run(self, run: RunRecord) -> None: ...

    def end_run(self, run: RunRecord) -> None: ...

    def write(
        self, run_id: str, sync_key: str, bulk: Mapping[str, bytes], rows: Sequence[Single]
    ) -> None:
        """One batch: blobs of (key, digest) pairs per bulk action, and single rows; atomic."""
        ...

    def runs(self, spec: str, limit: int | None = None) -> list[RunRecord]:
        """The spec's runs, newest first."""
        ...

    def find(self, sync_key: str, key: bytes) -> list[Seen]:
        """Every entry of this hashed key (bulk and single), in no particular order."""
        ...

    def bulk(self, sync_key: str, run_ids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        """(action, blob) of these runs' bulk entries for the sync."""
        ...

    def prune(self, spec: str, before: str) -> int:
        """Forget the spec's runs started before `before` (ISO), and their entries."""
        ...


class ReadOnlyLedger:
    """A ledger read, never written: `plan --changes` finds the records that would leave the
    source as a run would, and leaves the history as it found it."""

    def __init__(self, inner: LedgerStore) -> None:
        self.inner = inner

    def begin_run(self, run: RunRecord) -> None:
        return None

    def end_run(self, run: RunRecord) -> None:
        return None

    def write(
        self, run_id: str, sync_key: str, bulk: Mapping[str, bytes], rows: Sequence[Single]
    ) -> None:
        return None

    def runs(self, spec: str, limit: int | None = None) -> list[RunRecord]:
        return self.inner.runs(spec, limit)

    def find(self, sync_key: str, key: bytes) -> list[Seen]:
        return self.inner.find(sync_key, key)

    def bulk(self, sync_key: str, run_ids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        return self.inner.bulk(sync_key, run_ids)

    def prune(self, spec: str, before: str) -> int:
        return 0


def ledger_of(store: object) -> LedgerStore | None:
    """The store's ledger, when its backend keeps one (a third-party backend may not)."""
    opener = getattr(store, "ledger", None)
    return opener() if callable(opener) else None


def find_in_blob(blob: bytes, key: bytes) -> bytes | None:
    """The digest paired with `key` in a bulk blob, or None (only aligned matches count)."""
    start = blob.find(key)
    while start >= 0:
        if start % PAIR == 0:
            return blob[start + DIGEST_BYTES : start + PAIR]
        start = blob.find(key, start + 1)
    return None


class SyncLedger:
    """One sync's entries in one run, buffered and written a batch at a time.

    `track_seen`: a full read (not incremental, not resumed) keeps the first 8 bytes of every key
    it saw (8 bytes a key), so that at a clean end the keys omnisync sent before and did not see
    now are known: they left the source."""

    def __init__(
        self,
        store: LedgerStore,
        run_id: str,
        sync_key: str,
        namespace: bytes,
        key: Callable[[Any], str | None],
        personal: frozenset[str] = frozenset(),
        reveal: bool = False,
        track_seen: bool = False,
        rules: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.sync_key = sync_key
        self.namespace = namespace
        self.key = key
        self.personal = personal
        self.rules = dict(rules or {})  # a filter's reason -> the spec's rule ("filter: ...")
        self.reveal = reveal
        self.seen: array[int] | None = array("Q") if track_seen else None
        self._bulk: dict[str, bytearray] = {action: bytearray() for action in BULK}
        self._size = 0
        self._rows: list[Single] = []
        self._known: set[bytes] = set()  # keys screened with a stored digest, not yet delivered
        self.counted: dict[str, int] = dict.fromkeys((*BULK, *SINGLE), 0)  # entries by action

    # -- the pipeline's receipts ---------------------------------------------------------

    def screened(self, changed: Sequence[Record], stored: Mapping[bytes, bytes]) -> None:
        """Change detection compared these: the ones with a stored digest are `changed`."""
        self._known.update(r.mark[0] for r in changed if r.mark is not None and r.mark[0] in stored)

    def records(self, action: str, records: Iterable[Record]) -> None:
        """Bulk outcomes: new/changed (split here for `delivered`), unchanged, failed. The hot
        path of a run: a few list operations per batch, the pairs joined in C."""
        marks = [r.mark or self._mark(r.payload) for r in records]
        pairs = [mark for mark in marks if mark is not None]
        known = self._known
        if action in ("delivered", "failed") and known:
            hit = [mark for mark in pairs if mark[0] in known]
            if hit:
                keys = {mark[0] for mark in hit}
                known.difference_update(keys)
                if action == "delivered":
                    self._add("changed", hit)
                    pairs = [mark for mark in pairs if mark[0] not in keys]
        self._add("new" if action == "delivered" else action, pairs)
        if self._size >= FLUSH_BYTES:
            self.flush()

    def _add(self, action: str, pairs: list[tuple[bytes, bytes]]) -> None:
        if pairs:
            self._bulk[action] += b"".join(chain.from_iterable(pairs))
            self._size += PAIR * len(pairs)
            self.counted[action] += len(pairs)

    def single(self, action: str, key: str | None, reason: str, field: str | None = None) -> None:
        """A filtered or rejected row (its key when it could be told), with its reason (masked
        as in the reject file unless --reveal-pii)."""
        if action == "filtered":  # the spec's rule, not a value: only addresses are masked
            reason = self.rules.get(reason, reason)
            reason = reason if self.reveal else mask_text(reason)
        elif not self.reveal:
            reason = mask_reason(reason, field, self.personal)
        hashed = key_hash(self.namespace, key) if key is not None else None
        if hashed is not None and self.seen is not None:
            self.seen.append(int.from_bytes(hashed[:8], sys.byteorder))
        self._rows.append(Single(hashed, action, self._shown(key), reason))
        self.counted[action] += 1
        if len(self._rows) >= FLUSH_ROWS:
            self.flush()

    def _mark(self, payload: Any) -> tuple[bytes, bytes] | None:
        """A record change detection did not mark (detection off): its hashed key, no digest."""
        key = self.key(payload)
        return None if key is None else (key_hash(self.namespace, key), NO_DIGEST)

    def _shown(self, key: str | None) -> str | None:
        if key is None:
            return None
        return key if self.reveal else str(mask(key))

    def flush(self) -> None:
        bulk = {action: bytes(blob) for action, blob in self._bulk.items() if blob}
        if self.seen is not None:
            for body in bulk.values():
                self.seen.extend(_prefixes(body))
        if bulk or self._rows:
            rows, self._rows = self._rows, []
            for buffer in self._bulk.values():
                buffer.clear()
            self._size = 0
            self.store.write(self.run_id, self.sync_key, bulk, rows)

    # -- the end of a full read ----------------------------------------------------------

    def removed(self, since: Sequence[str]) -> int:
        """Keys in the bulk entries of runs `since` (the last clean full read and after) that
        this full read did not see: written as `removed` rows; how many."""
        self.flush()
        if self.seen is None or not since:  # nothing to compare with (a first full read)
            self.seen = None
            return 0
        # 8-byte prefixes (a collision at 1M keys is ~1e-8 likely); a set: fast, about 70 MB
        # for a moment at 1M keys (a sorted array would hold 8 bytes a key but cost twice the CPU)
        seen = frozenset(self.seen)
        self.seen = None
        gone: dict[bytes, None] = {}
        for action, blob in self.store.bulk(self.sync_key, since):
            if action == "failed":
                continue  # never acknowledged: not a key the API holds from omnisync
            missing = set(_prefixes(blob)).difference(seen)
            for start in range(0, len(blob), PAIR) if missing else ():
                key = blob[start : start + DIGEST_BYTES]
                if int.from_bytes(key[:8], sys.byteorder) in missing:
                    gone[key] = None
        gone_rows = [Single(key, "removed", None, "no longer in the source") for key in gone]
        self.counted["removed"] = len(gone_rows)
        for start in range(0, len(gone_rows), FLUSH_ROWS):
            self.store.write(self.run_id, self.sync_key, {}, gone_rows[start : start + FLUSH_ROWS])
        return len(gone_rows)


def _prefixes(blob: bytes) -> list[int]:
    """The first 8 bytes of each key of a bulk blob, as integers (in C, not a Python loop)."""
    return memoryview(blob).cast("Q")[:: PAIR // 8].tolist()


def utc_now() -> str:
    """To the microsecond: runs a second apart or less still sort in the order they ran."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def cutoff(keep: float, now: dt.datetime | None = None) -> str:
    """The ISO time before which runs are forgotten."""
    moment = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(seconds=keep)
    return moment.isoformat(timespec="microseconds")
