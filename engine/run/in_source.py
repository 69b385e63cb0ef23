"""Change detection inside the source (`change_detection: in_source`): the source (a database)
computes each row's digest, compares it with the digests it keeps, and lets only new or changed
rows out; the engine marks them pending before they are sent and has their digests written back
after the acknowledgement, as the client-side screen does with the state store.

The engine knows no SQL: it hands the source a ScreenRequest (engine/contracts/in_source.py) naming the
columns the mapping reads, the key columns and a fingerprint of everything else a record depends
on (the mapping, the destination, omnisync's version and a generation kept in the state store),
and gets rows back. Unchanged rows are counted by the source, not read. Where the source cannot
(no write permission, no hash function), the sync compares client-side, with a note.

The generation: the state store holds one reserved digest for an in-source sync. Anything that
makes the source's digests untrustworthy (a run compared client-side or without change detection,
`--full-refresh`, `state reset`) leaves the store without it, or with other digests beside it;
the next in-source run then draws a new generation, and every row's digest changes with it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import orjson

from engine import logging as omnilog
from engine.contracts import (
    Endpoint,
    ScreenRequest,
    ScreensChanges,
    Source,
    SourceScreen,
    screens_changes,
    source_notes,
)
from engine.errors import OmnisyncError, SpecIssue
from engine.outcomes.report import SyncStats
from engine.plugins import Registry
from engine.rows import Position, Record, Row
from engine.run.columns import uses
from engine.specfile import Spec, SyncSpec
from engine.specfile.validate import format_issues
from engine.state.base import StateStore
from engine.state.change_detection import (
    FLUSH_INTERVAL,
    FLUSH_PAIRS,
    PENDING,
    ChangeDetector,
    key_hash,
)
from engine.state.fingerprint import destination_fingerprint
from engine.state.ledger import SyncLedger

log = omnilog.get_logger("omnisync.in_source")

GENERATION_KEY = b"omnisync:in-src\x00"  # the state store's reserved digest (16 bytes)
PROBE = "\x00omnisync-key-probe:"
FALLBACK = "change detection in the source is not possible ({why}); compared client-side"


def key_columns(sync: SyncSpec, endpoint: Endpoint) -> tuple[str, ...] | None:
    """The source columns naming a record: declared (`key:`), else the columns mapped (`from`,
    or a bare column) to the fields the endpoint's key is made of; None when they cannot be told."""
    declared = (sync.in_source or {}).get("key")
    if declared:
        return tuple(str(name) for name in declared)
    columns: dict[str, str] = {}
    for field, definition in sync.mapping.items():
        if isinstance(definition, str):
            columns[field] = definition
        elif isinstance(definition, Mapping) and "from" in definition:
            columns[field] = str(definition["from"])
    try:
        key = endpoint.key({field: f"{PROBE}{field}\x00" for field in columns})
    except Exception:
        return None
    if key is None:
        return None
    found = [field for field in columns if f"{PROBE}{field}\x00" in str(key)]
    return tuple(columns[field] for field in found) or None


def input_columns(sync: SyncSpec) -> tuple[str, ...]:
    """Every column the mapping and the filter read, sorted: the inputs of a row's digest."""
    here = ("syncs", sync.index)
    return tuple(
        sorted(
            {
                use.column
                for use in uses(sync, cursor_is_column=False)
                if use.path[2:3] in (("mapping",), ("filter",)) and use.path[:2] == here
            }
        )
    )


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("omnisync-engine")
    except PackageNotFoundError:
        return "unknown"


def fingerprint(spec: Spec, sync: SyncSpec, generation: str) -> str:
    """What a row's digest covers besides its inputs: the mapping, filter and de-duplication, the
    destination (without secrets), omnisync's version (a transform that maps differently) and the
    generation."""
    meaning = destination_fingerprint(
        sync.destination_type,
        spec.connections.get(sync.destination_type, {}),
        sync.destination,
        spec.secrets,
    )
    body = orjson.dumps(
        [sync.mapping, sync.filter, sync.dedupe_key, meaning, _version()],
        option=orjson.OPT_SORT_KEYS,
        default=str,
    )
    # short: it is hashed with every row's inputs (a 64-byte MD5 block more per row is time)
    return hashlib.sha256(body + f"\0{generation}".encode()).hexdigest()[:32]


def generation(store: StateStore, sync_key: str, write: bool) -> str:
    """The generation of the source's digests; a new one (and a cleared store) when the store
    says they may be stale (see module doc)."""
    held = store.lookup_digests(sync_key, [GENERATION_KEY]).get(GENERATION_KEY)
    if held is not None and held != PENDING and store.count_digests(sync_key) == 1:
        return held.hex()
    if not write:  # a dry run: whatever is kept is not trusted; a run would send everything
        return "unsaved"
    fresh = os.urandom(16)
    store.clear_digests(sync_key)
    store.save_digests(sync_key, [(GENERATION_KEY, fresh)])
    return fresh.hex()


def spec_problems(sync: SyncSpec, source_class: object, endpoint: Endpoint | None) -> list[str]:
    """Spec errors of an in-source sync: a source that cannot, a key that cannot be told."""
    if sync.in_source is None:
        return []
    if not screens_changes(source_class):
        return [
            f"{sync.name}: change_detection: in_source needs a source that compares in place "
            f"(sql); the {sync.source_type} source cannot: use change_detection: true"
        ]
    if sync.dedupe_key:
        return [
            f"{sync.name}: change_detection: in_source reads only the rows that changed, so "
            "dedupe cannot tell which duplicate comes first: drop one or the other"
        ]
    if endpoint is not None and key_columns(sync, endpoint) is None:
        return [
            f"{sync.name}: change_detection: in_source cannot tell which source column holds the "
            "record key (it is not mapped from one column); name it: "
            "change_detection: {in: source, key: [column]}"
        ]
    return []


def request_for(
    spec: Spec, sync: SyncSpec, endpoint: Endpoint, sync_key: str, generation: str, write: bool
) -> ScreenRequest:
    key = key_columns(sync, endpoint)
    if key is None:
        raise OmnisyncError(spec_problems(sync, ScreensChanges, endpoint)[0])
    return ScreenRequest(
        sync_id=hashlib.blake2b(sync_key.encode(), digest_size=16).digest(),
        fingerprint=fingerprint(spec, sync, generation),
        inputs=input_columns(sync),
        key=key,
        options={k: v for k, v in (sync.in_source or {}).items() if k != "key"},
        write=write,
    )


class ScreenedSource:
    """The sync's source as the pipeline reads it: only the rows the source let out."""

    config_schema: ClassVar[dict[str, Any]] = {}

    def __init__(self, source: Source, screen: SourceScreen) -> None:
        self.source = source
        self.screen = screen

    def read(self, resume: Position | None) -> AsyncIterator[Row]:
        return self.screen.read(resume)

    def locate(self, position: Position) -> str:
        return self.source.locate(position)

    @property
    def notes(self) -> Sequence[str]:
        return source_notes(self.source)


class SourceDetector(ChangeDetector):
    """The pipeline's change screen when the source compared: every record it gets is new or
    changed. Same interface as the client-side ChangeDetector, so the pipeline, the ledger and the
    acknowledgement path stay as they are; the digests live in the source, not the state store."""

    marks_rows = True  # the pipeline copies each ScreenedRow's mark onto its record

    def __init__(
        self, screen: SourceScreen, write: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        # no super().__init__: nothing of the state store's digests is used
        self.screen_ = screen
        self.save = write
        self.skip = True
        self.clock = clock
        self._pending: list[tuple[bytes, bytes]] = []
        self._saved_at = clock()
        self._in_flight: dict[bytes, bytes] = {}
        self.last_stored: dict[bytes, bytes] = {}

    def screen(self, records: Sequence[Record]) -> tuple[list[Record], list[Record]]:
        """All changed; the ones that held a digest are pending in the source before return."""
        hashes = [record.mark[0] for record in records if record.mark is not None]
        known = self.screen_.pending(hashes) if hashes else set()
        self.last_stored = dict.fromkeys(known, PENDING)  # the ledger's new/changed split
        for record in records:
            if record.mark is not None:
                self._in_flight[record.mark[0]] = record.mark[1]
        return list(records), []

    def acknowledged(self, records: Sequence[Record]) -> None:
        if not self.save:
            return
        in_flight, pending = self._in_flight, self._pending
        for record in records:
            if record.mark is not None and in_flight.get(record.mark[0]) == record.mark[1]:
                del in_flight[record.mark[0]]
                pending.append(record.mark)
        if len(pending) >= FLUSH_PAIRS or self.clock() - self._saved_at >= FLUSH_INTERVAL:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            latest = {k: d for k, d in self._pending if k not in self._in_flight}
            self._pending = []
            if latest:
                self.screen_.save(list(latest.items()))
        self._saved_at = self.clock()


REMEMBERED = 65_536  # ledger hashes held between screen and outcome: far more than in flight


class SourceLedger(SyncLedger):
    """The record ledger of an in-source sync: the records carry the source's key hashes, while
    the ledger (and `omnisync why`) names keys by change detection's keyed hash: each record is
    entered under that one, with the source's digest."""

    _hashed: dict[bytes, bytes]  # source's hash -> ledger's, from the screen to the outcome

    @classmethod
    def of(cls, ledger: SyncLedger) -> SourceLedger:
        adopted = cls.__new__(cls)
        adopted.__dict__.update(ledger.__dict__)
        adopted._hashed = {}
        return adopted

    def _rekeyed(
        self, records: Iterable[Record], screening: bool
    ) -> tuple[list[Record], dict[bytes, bytes]]:
        """The records under the ledger's key hash; the source's hash -> the ledger's. A
        record's hash is made once, as it is screened, and taken back at its outcome (made
        again for one that was never screened: a reject, a filtered row)."""
        out: list[Record] = []
        hashes: dict[bytes, bytes] = {}
        remembered = self._hashed
        if screening and len(remembered) > REMEMBERED:  # outcomes that never came (a refusal)
            remembered.clear()
        for record in records:
            copy = Record(record.payload, record.position, record.seq)
            out.append(copy)
            if record.mark is None:
                continue
            hashed = None if screening else remembered.pop(record.mark[0], None)
            if hashed is None:
                key = self.key(record.payload)
                if key is None:
                    continue
                hashed = key_hash(self.namespace, key)
            if screening:
                remembered[record.mark[0]] = hashed
            copy.mark = (hashed, record.mark[1])
            hashes[record.mark[0]] = hashed
        return out, hashes

    def screened(self, changed: Sequence[Record], stored: Mapping[bytes, bytes]) -> None:
        records, hashes = self._rekeyed(changed, screening=True)
        super().screened(records, {hashes[k]: v for k, v in stored.items() if k in hashes})

    def records(self, action: str, records: Iterable[Record]) -> None:
        super().records(action, self._rekeyed(records, screening=False)[0])


@dataclass
class InSource:
    """One sync's comparison in its source for one run: the source to read, the detector."""

    source: ScreenedSource
    detector: SourceDetector

    def finish(self, stats: SyncStats, clean: bool, full: bool) -> None:
        """Count what stayed in the source as read and unchanged; after a clean full read, the
        keys that left the source (their digests forgotten, so they are counted once)."""
        screen = self.source.screen
        unchanged = screen.unchanged()
        if unchanged is not None:
            stats.read += unchanged
            stats.unchanged += unchanged
        stats.notes.append(
            f"change detection in the source: {screen.fetched()} rows read out of it"
            + (f", {unchanged} unchanged rows left in it" if unchanged is not None else "")
        )
        if clean and full and self.detector.save:
            stats.left_source = screen.left_source()
            if stats.left_source:
                log.warning("records_left_the_source", count=stats.left_source)

    def close(self) -> None:
        self.source.screen.close()


def screen_problem(
    spec: Spec, sync: SyncSpec, source: Source, endpoint: Endpoint, write: bool
) -> str | None:
    """Why the source cannot compare for this sync (it prepares what it needs when `write`),
    as the note the sync then carries; None when it can. Blocking: run it in a thread."""
    if not isinstance(source, ScreensChanges):
        raise OmnisyncError(spec_problems(sync, source, None)[0])
    probe = request_for(spec, sync, endpoint, sync.name, "probe", write)
    why = source.screen_problem(probe, prepare=write)
    if why is None:
        return None
    log.warning("in_source_fallback", reason=why)
    return FALLBACK.format(why=why)


def open_in_source(
    spec: Spec,
    sync: SyncSpec,
    source: Source,
    endpoint: Endpoint,
    store: StateStore,
    sync_key: str,
    write: bool,
) -> InSource:
    """The sync's comparison in its source, once screen_problem found none (the store is used
    here: on the thread that opened it)."""
    assert isinstance(source, ScreensChanges)
    request = request_for(spec, sync, endpoint, sync_key, generation(store, sync_key, write), write)
    screen = source.open_screen(request)
    return InSource(ScreenedSource(source, screen), SourceDetector(screen, write))


def _endpoint(spec: Spec, sync: SyncSpec, registry: Registry) -> Endpoint | None:
    """The sync's endpoint, built without opening anything; None when it cannot be built here."""
    factory = registry.destinations.get(sync.destination_type)
    if factory is None or sync.destination_type not in spec.connections:
        return None
    try:
        return factory(spec.connections[sync.destination_type]).endpoint(sync.destination)
    except Exception:  # the destination's own checks say what is wrong with its block
        return None


def spec_errors(spec: Spec, sync: SyncSpec, registry: Registry) -> list[str]:
    """The spec errors of an in-source sync, at the line of its change_detection."""
    if sync.in_source is None:
        return []
    problems = spec_problems(
        sync, registry.sources.get(sync.source_type), _endpoint(spec, sync, registry)
    )
    at = ("syncs", sync.index, "change_detection")
    return format_issues(spec.document, [SpecIssue(at, problem) for problem in problems])


def validate_note(spec: Spec, sync: SyncSpec, registry: Registry, source: object) -> str | None:
    """What `validate` says of an in-source sync whose source cannot compare (its permissions,
    its hash function): the run will compare client-side. Looks, creates nothing."""
    if sync.in_source is None or not isinstance(source, ScreensChanges):
        return None
    endpoint = _endpoint(spec, sync, registry)  # builds the record check: only when asked
    if endpoint is None:
        return None
    if spec_problems(sync, source, endpoint):
        return None  # an error, said by spec_errors
    request = request_for(spec, sync, endpoint, sync.name, "probe", write=False)
    why = source.screen_problem(request, prepare=False)
    return None if why is None else f"{sync.name}: {FALLBACK.format(why=why)}"
