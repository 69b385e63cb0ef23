"""Change detection: a digest of each acknowledged record, by its hashed key, so reruns skip it.

A record's key is the idempotency key its endpoint declares (member_sn, email, ...): the engine
knows no field names. Keys are stored only as keyed BLAKE2b hashes (an email never reaches the
store in clear), and a digest covers the whole mapped payload plus the destination's meaning (the
endpoint block and the connection without secrets), so a changed mapping or another account sends
everything again. Digests are looked up a chunk at a time: memory stays flat in the number of keys.
A digest is 8 bytes of the whole record's keyed hash, then 8 field slots (FieldSlots: one byte of
a keyed hash per field, folded into a slot its name picks) from which `plan --changes` tells which
fields of a changed record differ from what was last sent. "Unchanged" is decided on the whole
record's hash; the slots are computed only for the records sent.

A stored digest never claims what the API may not hold. When a record whose key has a digest is
screened as changed, that digest is replaced by PENDING (one write per chunk, before any of the
chunk's records is sent), and the new digest is saved only after the API acknowledged the record.
A crash in between leaves PENDING, so the rerun sends the record whatever the source says by then.
The store also answers "was this key sent earlier in this run" exactly: such a key holds PENDING or
its new digest, or is still in flight (known by its hash, as many as the read-ahead window holds).

A first run (the store holds no digest of the sync when it starts) has nothing to look up but the
digests it saved itself: a 2 MB bit map of the keys it saved says which few keys are worth asking
the store about, so a run that must send everything pays for hashing and saving, not for lookups.
The map only narrows the lookups: a key it names is still looked up, never taken as sent.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from operator import xor
from typing import Any

import orjson

from engine.rows import Record
from engine.state.base import StateStore

DIGEST_BYTES = 16
PENDING = bytes(DIGEST_BYTES)  # "sent, not acknowledged yet": equal to no record's digest
FLUSH_PAIRS = 4096  # acknowledged digests kept in memory at most before they are saved
FLUSH_INTERVAL = 1.0  # ... or seconds since the last save
SAVED_BITS = 24  # the first run's map of saved keys: 2**24 bits (2 MB), ~6% taken at 1M keys


WHOLE_BYTES = 8  # a digest: the whole record's hash, then one byte per field slot
SLOTS = DIGEST_BYTES - WHOLE_BYTES


def key_hash(namespace: bytes, key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=DIGEST_BYTES, key=namespace).digest()


class FieldSlots:
    """The per-field part of a digest: each top-level field's name picks one of SLOTS bytes (a
    hash of the name), and the field's value is folded into that byte (CRC-32 seeded by a keyed
    hash of the name, low byte, XORed in). Two digests of one key then tell which slots,
    hence which fields, differ, without any value kept: one byte of a keyed hash per field. A
    changed field goes unnoticed here 1 time in 256 (the whole record's hash still sees it), and
    fields that share a slot are named together."""

    PLANS = 4096  # field lists remembered at most (blank fields are left out of records)

    def __init__(self, namespace: bytes) -> None:
        self.namespace = namespace
        self.by_name: dict[str, tuple[int, int]] = {}  # field -> (slot, CRC seed)
        self._plans: dict[tuple[Any, ...], list[tuple[int, int]]] = {}  # fields -> their slots

    def _learn(self, name: str) -> tuple[int, int]:
        """A name's slot by a plain hash (names are no secret, and two fields then share a slot
        in every spec alike), its values' CRC seed by the keyed one."""
        text = f"field\0{name}".encode()
        slot = hashlib.blake2b(text, digest_size=1).digest()[0] % SLOTS
        seed = hashlib.blake2b(text, digest_size=4, key=self.namespace).digest()
        found = self.by_name[name] = (slot, int.from_bytes(seed, "big"))
        return found

    def _plan(self, names: tuple[Any, ...]) -> list[tuple[int, int]]:
        by_name = self.by_name
        plan = [by_name.get(name) or self._learn(str(name)) for name in names]
        if len(self._plans) < self.PLANS:
            self._plans[names] = plan
        return plan

    def __call__(self, payload: Any) -> bytes:
        if not isinstance(payload, dict):
            return bytes(SLOTS)
        names = tuple(payload)
        plan = self._plans.get(names) or self._plan(names)
        slots = [0] * SLOTS
        crc = zlib.crc32
        for (slot, seed), value in zip(plan, payload.values(), strict=True):
            if type(value) is str:
                try:
                    body = value.encode()
                except UnicodeEncodeError:  # a lone surrogate: still a value, still hashed
                    body = value.encode("utf-8", "surrogatepass")
            else:
                body = b"\0" + _value_bytes(value)
            slots[slot] ^= crc(body, seed) & 0xFF
        return bytes(slots)

    def many(self, payloads: list[Any]) -> list[bytes]:
        """The slots of each payload, as __call__ gives them. A chunk of text-only records with
        the same fields (a CSV's rows) is hashed a column at a time, in C; any other chunk, a
        record at a time."""
        first = payloads[0] if payloads else None
        if type(first) is not dict or not first or set(map(type, payloads)) != {dict}:
            return [self(payload) for payload in payloads]
        if len(set(map(tuple, payloads))) != 1:
            return [self(payload) for payload in payloads]
        plan = self._plans.get(tuple(first)) or self._plan(tuple(first))
        folded: dict[int, Any] = {}
        try:
            for (slot, seed), column in zip(
                plan, zip(*map(dict.values, payloads), strict=True), strict=True
            ):
                if set(map(type, column)) != {str}:
                    return [self(payload) for payload in payloads]
                crcs = map(zlib.crc32, map(str.encode, column), repeat(seed))
                held = folded.get(slot)
                folded[slot] = list(crcs if held is None else map(xor, held, crcs))
        except UnicodeEncodeError:  # a lone surrogate: the record at a time way hashes it
            return [self(payload) for payload in payloads]
        width = len(payloads)
        table = bytearray(SLOTS * width)
        for slot, crcs in folded.items():
            table[slot::SLOTS] = bytes(map(_LOW_BYTE, crcs))
        return [bytes(table[at : at + SLOTS]) for at in range(0, SLOTS * width, SLOTS)]

    def names(self, slot: int) -> list[str]:
        """The fields seen so far whose values fold into this slot."""
        return sorted(name for name, (at, _) in self.by_name.items() if at == slot)


_LOW_BYTE = (0xFF).__and__  # a CRC's low byte, mapped in C


def _value_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:
        return json.dumps(value, sort_keys=True, default=str).encode()


def payload_digest(namespace: bytes, payload: Any, slots: FieldSlots | None = None) -> bytes:
    whole = hashlib.blake2b(_canonical(payload), digest_size=WHOLE_BYTES, key=namespace).digest()
    return whole + (slots or FieldSlots(namespace))(payload)


def slots_differing(old: bytes, new: bytes) -> list[int]:
    """The field slots in which two digests of one key differ."""
    return [i for i in range(SLOTS) if old[WHOLE_BYTES + i] != new[WHOLE_BYTES + i]]


def _canonical(payload: Any) -> bytes:
    """The bytes a record's digest is taken of. What orjson refuses (an integer past 64 bits) is
    digested through json instead: the record goes on and the sender rejects it alone."""
    try:
        return orjson.dumps(
            payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str
        )
    except TypeError:
        return json.dumps(payload, sort_keys=True, default=str).encode()


def namespace(sync_key: str, meaning: str) -> bytes:
    """The hashing key: the sync, and the fingerprint of its destination (see module doc)."""
    return hashlib.sha256(f"{sync_key}\0{meaning}".encode()).digest()[:32]


class ChangeDetector:
    """screen() splits records into changed and unchanged; acknowledged() remembers delivered ones."""

    def __init__(
        self,
        store: StateStore,
        sync_key: str,
        meaning: str,
        key: Callable[[Any], str | None],
        save: bool = True,
        skip: bool = True,
        clock: Callable[[], float] = time.monotonic,
        label: str | None = None,
    ) -> None:
        self.store = store
        self.sync_key = sync_key
        # the hashing key's name for the sync: its former key, stable when the state moves
        self.namespace = namespace(label or sync_key, meaning)
        self.slots = FieldSlots(self.namespace)  # the per-field part of each digest
        self.key = key
        self.save = save  # False in a dry run: look up, never write
        self.skip = skip  # False for --full-refresh: send everything, still save the digests
        self.clock = clock
        self._pending: list[tuple[bytes, bytes]] = []  # acknowledged, not saved yet
        self._saved_at = clock()
        # key hash -> digest of its newest version screened as changed and not acknowledged yet
        # (in a dry run, which sends nothing: every key it would send)
        self._in_flight: dict[bytes, bytes] = {}
        self.last_stored: dict[bytes, bytes] = {}  # the last screen's lookup (the run ledger's)
        # the keys saved by this run, when the store held none of the sync's at its start
        # (decided at the first screen); None: every key is looked up
        self._saved: SavedKeys | None = None
        self._first: bool | None = None

    def screen(self, records: Sequence[Record]) -> tuple[list[Record], list[Record]]:
        """(changed, unchanged); a changed record carries its mark for acknowledged(). The stored
        digests of the changed records are PENDING in the store before this returns."""
        hashes = self._mark(records)
        if hashes and self.skip and self._first_run():
            assert self._saved is not None
            hashes = self._saved.filter(hashes)
        stored = self.store.lookup_digests(self.sync_key, hashes) if hashes and self.skip else {}
        self.last_stored = stored
        changed: list[Record] = []
        unchanged: list[Record] = []
        in_flight = self._in_flight
        here: set[bytes] = set()  # keys screened as changed earlier in this chunk
        untrue: list[tuple[bytes, bytes]] = []  # stored digests the new values make untrue
        fresh: list[Record] = []  # the keyed records screened as changed
        for record in records:
            mark = record.mark
            if mark is None:
                changed.append(record)
                continue
            hashed, whole = mark  # the whole record's hash only, so far
            held = stored.get(hashed)
            if (
                held is not None
                and held.startswith(whole)
                and hashed not in here
                and hashed not in in_flight
            ):
                record.mark = (hashed, held)  # the same record: the same field slots
                unchanged.append(record)
                continue
            fresh.append(record)
            changed.append(record)
            here.add(hashed)
            in_flight[hashed] = whole  # its digest below, once the chunk's slots are hashed
            if held is not None and held != PENDING:
                untrue.append((hashed, PENDING))
        # the field slots only for what is sent: an unchanged rerun pays nothing for them
        for record, tail in zip(fresh, self.slots.many([r.payload for r in fresh]), strict=True):
            hashed, whole = record.mark  # type: ignore[misc]
            record.mark = (hashed, whole + tail)
            in_flight[hashed] = whole + tail
        if untrue and self.save:
            self.store.save_digests(self.sync_key, untrue)
        return changed, unchanged

    def _first_run(self) -> bool:
        """True when the store held no digest of this sync as the run began (asked once)."""
        if self._first is None:
            self._first = self.store.count_digests(self.sync_key) == 0
            self._saved = SavedKeys() if self._first else None
        return self._first

    def _mark(self, records: Sequence[Record]) -> list[bytes]:
        """Set each keyed record's (key hash, whole record's hash) mark, which screen() makes
        (key hash, digest); the key hashes."""
        # the hot loop of an unchanged rerun: hashing inlined, names bound locally
        key_of, blake2b, dumps, space = self.key, hashlib.blake2b, orjson.dumps, self.namespace
        options = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
        hashes: list[bytes] = []
        for record in records:
            key = key_of(record.payload)
            if key is None:  # no key: nothing to compare with, always sent
                continue
            hashed = blake2b(key.encode("utf-8"), digest_size=DIGEST_BYTES, key=space).digest()
            try:
                body = dumps(record.payload, option=options, default=str)
            except TypeError:
                body = _canonical(record.payload)
            record.mark = (hashed, blake2b(body, digest_size=WHOLE_BYTES, key=space).digest())
            hashes.append(hashed)
        return hashes

    def acknowledged(self, records: Sequence[Record]) -> None:
        """The API accepted these: their digests are saved (throttled, see FLUSH_*), unless a
        newer version of the key was screened since (its digest waits for its own answer)."""
        if not self.save:
            return
        in_flight, pending = self._in_flight, self._pending
        for record in records:
            if record.mark is None:
                continue
            hashed, digest = record.mark
            if in_flight.get(hashed) == digest:
                del in_flight[hashed]
                pending.append(record.mark)
        if len(pending) >= FLUSH_PAIRS or self.clock() - self._saved_at >= FLUSH_INTERVAL:
            self.flush()

    def settled(self, records: Sequence[Record]) -> None:
        """These get no acknowledgement (refused, failed): no longer in flight. Their stored mark
        stays PENDING (or absent), so the next run sends them again."""
        in_flight = self._in_flight
        for record in records:
            if record.mark is not None and in_flight.get(record.mark[0]) == record.mark[1]:
                del in_flight[record.mark[0]]

    def flush(self) -> None:
        if self._pending:
            in_flight = self._in_flight
            # a key acknowledged twice: its last digest; one screened again since: not yet
            latest = {k: d for k, d in self._pending if k not in in_flight}
            self._pending = []
            if latest:
                if self._saved is not None:  # before the save: may name too many, never too few
                    self._saved.add(latest)
                self.store.save_digests(self.sync_key, list(latest.items()))
        self._saved_at = self.clock()


class SavedKeys:
    """A bit per key hash prefix: the keys a first run saved, to narrow its lookups (a set bit
    may belong to another key, so a named key is looked up, never trusted)."""

    def __init__(self, bits: int = SAVED_BITS) -> None:
        self.shift = DIGEST_BYTES * 8 - bits
        self.bits = bytearray(1 << (bits - 3))

    def add(self, keys: Iterable[bytes]) -> None:
        bits, shift = self.bits, self.shift
        for key in keys:
            slot = int.from_bytes(key, "big") >> shift
            bits[slot >> 3] |= 1 << (slot & 7)

    def filter(self, keys: list[bytes]) -> list[bytes]:
        """The keys that may have been saved."""
        bits, shift = self.bits, self.shift
        named: list[bytes] = []
        for key in keys:
            slot = int.from_bytes(key, "big") >> shift
            if bits[slot >> 3] & (1 << (slot & 7)):
                named.append(key)
        return named
