"""State in S3 or an S3-compatible store: `state: {backend: s3, url: s3://bucket/prefix}`.

One JSON object per sync position (`positions/<sync key>.json`, schema version and fingerprint
inside), digests as base + delta objects (s3_digests.py) and a lease object per spec
(`locks/<spec>.lease`, s3_lease.py). Every write is one conditional PUT: atomic, and refused when
another writer changed the object since this run read it. boto3 is imported only when used.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from engine import durations
from engine import logging as omnilog
from engine.crashpoints import crash_point
from engine.lazy import lazy_module
from engine.logging import register_secrets
from engine.rows import Position
from engine.state.base import (
    COMMON_OPTIONS,
    SCHEMA_VERSION,
    StateContext,
    StateError,
    StoredPosition,
)
from engine.state.budget_s3 import S3Budgets
from engine.state.codec import encode_position
from engine.state.fencing import check_lease
from engine.state.lock import wait_for
from engine.state.s3_lease import S3Lease
from engine.state.s3_objects import Conflict, Objects
from engine.state.stored import stored_position

log = omnilog.get_logger("omnisync.state")
if TYPE_CHECKING:
    from engine.state import s3_digests
    from engine.state.ledger_s3 import S3Ledger
    from engine.state.s3_digests import S3Digests
    from engine.state.triggers_s3 import S3Triggers
else:  # the digests' scratch files and compaction: when a sync compares, not for `validate`
    s3_digests = lazy_module("engine.state.s3_digests")

_URL = re.compile(r"^s3://([^/]+)/?(.*)$")
DEFAULT_LEASE = 60.0
_SECRETS = ("access_key_id", "secret_access_key", "session_token")


class S3StateStore:
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "type": "string",
                "pattern": "^s3://[^/]+",
                "description": "s3://bucket/prefix: where this spec's state objects live",
            },
            "region": {"type": "string", "minLength": 1},
            "endpoint_url": {
                "type": "string",
                "minLength": 1,
                "description": "an S3-compatible store (MinIO, R2, ...); it must honour "
                "If-None-Match / If-Match on PUT",
            },
            "access_key_id": {"type": "string", "minLength": 1, "writeOnly": True},
            "secret_access_key": {"type": "string", "minLength": 1, "writeOnly": True},
            "session_token": {"type": "string", "minLength": 1, "writeOnly": True},
            "lease": {
                **durations.SCHEMA,
                "description": "how long a crashed run's lock outlives it (default 60s)",
            },
            **COMMON_OPTIONS,
        },
        "dependentRequired": {
            "access_key_id": ["secret_access_key"],
            "secret_access_key": ["access_key_id"],
        },
    }

    def __init__(self, config: Mapping[str, Any], context: StateContext) -> None:
        match = _URL.match(str(config["url"]))
        if match is None:
            raise StateError(f"state url must look like s3://bucket/prefix: {config['url']!r}")
        self.bucket, self.prefix = match.group(1), match.group(2)
        self.lease_ttl = check_lease(
            durations.parse_duration(config.get("lease", DEFAULT_LEASE)), f"s3://{self.bucket}"
        )
        register_secrets(str(config[k]) for k in _SECRETS if config.get(k))
        self.client_args = {
            "region_name": config.get("region"),
            "endpoint_url": config.get("endpoint_url"),
            "aws_access_key_id": config.get("access_key_id"),
            "aws_secret_access_key": config.get("secret_access_key"),
            "aws_session_token": config.get("session_token"),
        }
        self._objects: Objects | None = None
        self._etags: dict[str, str] = {}  # position object -> the version this run last saw
        self._digests: dict[str, S3Digests] = {}
        self._scratch: Path | None = None
        self._opened = 0  # local digest copies made: each in a folder of its own
        self._lease: S3Lease | None = None  # held by this run: every write proves it first
        self._triggers: S3Triggers | None = None

    @property
    def objects(self) -> Objects:
        if self._objects is None:
            self._objects = Objects(self.bucket, self.prefix, self.client_args)
        return self._objects

    def _position_key(self, sync_key: str) -> str:
        return self.objects.key("positions", sync_key) + ".json"

    def load(self, sync_key: str) -> StoredPosition | None:
        key = self._position_key(sync_key)
        found = self.objects.get(key)
        if found is None:
            self._etags.pop(key, None)
            return None
        body, self._etags[key] = found
        return _parse(sync_key, body)

    @property
    def epoch(self) -> int:
        return self._lease.epoch if self._lease is not None else 0

    def _fence(self) -> None:
        """Before any write: this run still holds its lease (fencing.py), or LeaseLost."""
        if self._lease is not None:
            self._lease.prove()

    def save(self, sync_key: str, position: Position, fingerprint: str, where: str) -> None:
        key = self._position_key(sync_key)
        document = {
            "schema_version": SCHEMA_VERSION,
            "sync_key": sync_key,
            "position": encode_position(position),
            "fingerprint": fingerprint,
            "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "where": where,
            "epoch": self.epoch,
        }
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        self._fence()
        if key not in self._etags and self.objects.get(key) is not None:
            raise StateError(
                f"state store {self.describe()}: {key} appeared while this run held the lock"
            )
        crash_point("state_write")  # a PUT is all or nothing: before it, nothing was written
        try:
            self._etags[key] = self.objects.put(key, body, self._etags.get(key))
        except Conflict:
            self._etags[key] = self.objects.put(key, body, self._overwritable(key))

    def _overwritable(self, key: str) -> str:
        """The version of `key` a run that lost its lease wrote late (an older epoch): this run's
        write replaces it. A write of this epoch or a newer one is a real conflict."""
        found = self.objects.get(key)
        written = _epoch_of(found[0]) if found is not None else None
        if found is None or self._lease is None or written is None or written >= self.epoch:
            raise Conflict(f"state store {self.describe()}: {key} was changed by another run")
        return found[1]

    def clear(self, sync_key: str) -> bool:
        self._fence()
        key = self._position_key(sync_key)
        existed = self.objects.get(key) is not None
        if existed:
            self.objects.delete(key)
        self._etags.pop(key, None)
        return existed

    def entries(self, prefix: str = "") -> list[StoredPosition]:
        folder = self.objects.key("positions") + "/"
        found = []
        for key in sorted(self.objects.listing(folder)):
            if not key.endswith(".json"):
                continue
            sync_key = urllib.parse.unquote(key[len(folder) : -len(".json")])
            if sync_key.startswith(prefix) and (body := self.objects.get(key)) is not None:
                found.append(_parse(sync_key, body[0]))
        return found

    def lock(self, scope: str, timeout: float) -> S3Lease:
        key = self.objects.key("locks", scope) + ".lease"
        lease = S3Lease(self.objects, key, self.lease_ttl, scope)
        self._lease = wait_for(lease.attempt, timeout, scope, self.describe(), lambda: lease.holder)
        return self._lease

    def _sync_digests(self, sync_key: str) -> S3Digests:
        if sync_key not in self._digests:
            if self._scratch is None:
                self._scratch = s3_digests.scratch_dir()
            self._opened += 1
            scratch = self._scratch / str(self._opened)
            scratch.mkdir()
            self._digests[sync_key] = s3_digests.S3Digests(self.objects, sync_key, scratch)
        return self._digests[sync_key]

    def lookup_digests(self, sync_key: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        return self._sync_digests(sync_key).lookup(keys) if keys else {}

    def save_digests(self, sync_key: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        if items:
            digests = self._sync_digests(sync_key)
            self._fence()
            digests.save(items, self.epoch)

    def clear_digests(self, sync_key: str) -> int:
        digests = self._sync_digests(sync_key)
        self._fence()
        return digests.clear()

    def count_digests(self, sync_key: str) -> int:
        return self._sync_digests(sync_key).count()

    def budgets(self) -> S3Budgets:
        """Where the rate budgets shared with other runs live (engine/state/budget.py)."""
        return S3Budgets(self.bucket, self.prefix, self.client_args)

    def move(self, old_key: str, new_key: str) -> tuple[bool, int]:
        """Copy each object under the new key (If-None-Match), then delete the old one."""
        self._fence()
        objects = self.objects
        old_folder, new_folder = (objects.key("digests", k) + "/" for k in (old_key, new_key))
        new_position = self._position_key(new_key)
        if objects.get(new_position) is not None or next(objects.listing(new_folder), None):
            return False, 0
        old_position = self._position_key(old_key)
        found = objects.get(old_position)
        if found is not None:
            self._etags[new_position] = objects.put(new_position, _renamed(found[0], new_key))
            objects.delete(old_position, found[1])
            self._etags.pop(old_position, None)
        names = sorted(objects.listing(old_folder))
        for name in names:
            copied = objects.get(name)
            if copied is not None:
                objects.put(new_folder + name[len(old_folder) :], copied[0])
        for name in names:
            objects.delete(name)
        for key in (old_key, new_key):  # read again on next use
            if (cached := self._digests.pop(key, None)) is not None:
                cached.close()
        return found is not None, self.count_digests(new_key) if names else 0

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def triggers(self) -> S3Triggers:
        """Trigger marks under triggers/ (engine/state/triggers_s3.py); each write proves the
        lease first."""
        from engine.state.triggers_s3 import S3Triggers

        if self._triggers is None:
            self._triggers = S3Triggers(self.objects, self._fence, lambda: self.epoch)
        return self._triggers

    def ledger(self) -> S3Ledger:
        """Run history and the record ledger, under history/ (engine/state/ledger_s3.py)."""
        from engine.state.ledger_s3 import S3Ledger

        return S3Ledger(self.objects)

    def _still_held(self) -> bool:
        try:
            self._fence()
        except StateError as exc:
            log.warning("state_not_compacted", reason=str(exc))
            return False
        return True

    def close(self) -> None:
        """Fold the digest deltas this run wrote into their base, then drop the local copies
        (a run that lost its lease leaves its deltas: the next holder's read weighs them)."""
        try:
            held = self._still_held()
            for digests in self._digests.values() if held else ():
                assert self._scratch is not None
                digests.compact(self._scratch, self.epoch)
            if held and self._triggers is not None:
                self._triggers.compact()
        finally:
            for digests in self._digests.values():
                digests.close()
            self._digests = {}
            if self._scratch is not None:
                s3_digests.remove(self._scratch)
                self._scratch = None
            self._triggers = None
            if self._objects is not None:
                self._objects.close()
                self._objects = None


def _epoch_of(body: bytes) -> int | None:
    """The epoch a position document was written with (0 before epochs), None if unreadable."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    epoch = document.get("epoch", 0) if isinstance(document, dict) else None
    return epoch if isinstance(epoch, int) else None


def _renamed(body: bytes, sync_key: str) -> bytes:
    """A position document under its new key (a corrupt one moves as it is: still reported)."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if not isinstance(document, dict):
        return body
    return json.dumps({**document, "sync_key": sync_key}, ensure_ascii=False).encode("utf-8")


def _parse(sync_key: str, body: bytes) -> StoredPosition:
    try:
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        return stored_position(sync_key, None, None, None, None, problem=f"corrupt: {exc}")
    return stored_position(
        sync_key,
        document.get("position"),
        document.get("fingerprint"),
        document.get("saved_at"),
        document.get("where"),
        document.get("schema_version"),
    )
