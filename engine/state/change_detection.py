"""Change detection: a digest of each acknowledged record, by its hashed key, so reruns skip it.

A record's key is the idempotency key its endpoint declares (member_sn, email, ...): the engine
knows no field names. Keys are stored only as keyed BLAKE2b hashes (an email never reaches the
store in clear), and a digest covers the whole mapped payload plus the destination's meaning (the
endpoint block and the connection without secrets), so a changed mapping or another account sends
everything again. Digests are looked up a chunk at a time and saved only after the API acknowledged
the record: memory stays flat in the number of keys, and a crash can only cause a resend.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from engine.rows import Record
from engine.state.base import StateStore

DIGEST_BYTES = 16
FLUSH_PAIRS = 500  # acknowledged digests kept in memory at most before they are saved
FLUSH_INTERVAL = 1.0  # ... or seconds since the last save
_SENT_BITS = 1 << 24  # 2 MiB: keys sent in this run, so a later row of the same key is not skipped


def key_hash(namespace: bytes, key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=DIGEST_BYTES, key=namespace).digest()


def payload_digest(namespace: bytes, payload: Any) -> bytes:
    return hashlib.blake2b(_canonical(payload), digest_size=DIGEST_BYTES, key=namespace).digest()


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
    ) -> None:
        self.store = store
        self.sync_key = sync_key
        self.namespace = namespace(sync_key, meaning)
        self.key = key
        self.save = save  # False in a dry run: look up, never write
        self.skip = skip  # False for --full-refresh: send everything, still save the digests
        self.clock = clock
        self._pending: list[tuple[bytes, bytes]] = []
        self._saved_at = clock()
        self._sent = bytearray(_SENT_BITS // 8)
        self.last_stored: dict[bytes, bytes] = {}  # the last screen's lookup (the run ledger's)

    def screen(self, records: Sequence[Record]) -> tuple[list[Record], list[Record]]:
        """(changed, unchanged); a changed record carries its mark for acknowledged()."""
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
            record.mark = (hashed, blake2b(body, digest_size=DIGEST_BYTES, key=space).digest())
            hashes.append(hashed)
        stored = self.store.lookup_digests(self.sync_key, hashes) if hashes and self.skip else {}
        self.last_stored = stored
        changed: list[Record] = []
        unchanged: list[Record] = []
        sent = self._sent
        for record in records:
            mark = record.mark
            if mark is None:
                changed.append(record)
                continue
            bit = int.from_bytes(mark[0][:3], "little")  # 24 bits: _SENT_BITS
            if stored.get(mark[0]) == mark[1] and not sent[bit >> 3] & (1 << (bit & 7)):
                unchanged.append(record)
                continue
            sent[bit >> 3] |= 1 << (bit & 7)
            changed.append(record)
        return changed, unchanged

    def acknowledged(self, records: Sequence[Record]) -> None:
        """The API accepted these: their digests are saved (throttled, see FLUSH_*)."""
        if not self.save:
            return
        self._pending.extend(r.mark for r in records if r.mark is not None)
        if len(self._pending) >= FLUSH_PAIRS or self.clock() - self._saved_at >= FLUSH_INTERVAL:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            latest = dict(self._pending)  # a key acknowledged twice: its last digest
            self._pending = []
            self.store.save_digests(self.sync_key, list(latest.items()))
        self._saved_at = self.clock()
